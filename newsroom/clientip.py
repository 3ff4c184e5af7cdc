"""The reader's own address behind our proxies (login throttling names it).

Behind nginx every request's REMOTE_ADDR is nginx's, so counting failed logins
by REMOTE_ADDR would lock every editor out when anyone mistypes five times.
X-Forwarded-For can be written by anyone, though: only the hops a proxy we
trust appended can be believed. So the list is read from the right (the hop
nearest to us) and every address that is one of NEWSROOM_TRUSTED_PROXIES is
skipped; the first address that is not is the client. A client that sends its
own X-Forwarded-For only adds entries to the left of the one nginx appended,
which are never reached. With no trusted proxies configured, REMOTE_ADDR is
the client (a direct deployment, `make run`).
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(trusted):
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _is_trusted(address, networks):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request):
    """The address of whoever sent `request`, believing X-Forwarded-For only as far as trusted proxies wrote it."""
    remote = request.META.get("REMOTE_ADDR") or None
    networks = _networks(tuple(getattr(settings, "NEWSROOM_TRUSTED_PROXIES", ())))
    if not networks or remote is None or not _is_trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a malformed hop: believe no further than the proxy that sent it
    return hops[0] if hops else remote
