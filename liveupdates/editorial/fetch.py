"""Fetch a URL from the web on a journalist's behalf, safely. Never called while serving a reader.

Every hop (the first address and each redirect) is resolved here, every
address it resolves to is checked, and the connection goes to the checked
address itself (the Host header and TLS name stay the site's), so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot send
us anywhere else. Refused: private, loopback, link-local (169.254.169.254, the
cloud metadata service), shared, multicast, reserved and unspecified
addresses, IPv4 inside IPv6 included. A response is capped in bytes (after
decompression) and the whole fetch in seconds; no cookies are sent or kept,
and no proxy from the environment is used.

`NEWSROOM_FETCH_ALLOW` names exact `address:port` pairs that may be reached
anyway: the test suite's local fixture server. Django's check warns if it is
set in production (liveupdates.apps).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

MAX_REDIRECTS = 5
USER_AGENT = "NewsroomLive-archiver/1.0 (+cards for cited posts)"


class FetchError(Exception):
    """The fetch was refused or failed; the message says why, in a sentence a journalist can act on."""


@dataclass
class Fetched:
    url: str  # where the body came from, after redirects
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests replace this with a stub resolver)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise FetchError(_("The site %(host)s could not be found (%(reason)s).") % {"host": host, "reason": error}) from error
    return list(dict.fromkeys(info[4][0] for info in infos))


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (besides ::ffff:0:0/96 and 6to4):
# NAT64's well-known prefix (64:ff9b::7f00:1 reaches 127.0.0.1 on a NAT64 network), IPv4-compatible
# (::/96, deprecated) and SIIT's IPv4-translated (::ffff:0:0:0/96); the IPv4 inside is what is checked.
_IPV4_EMBEDDING = [ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "::/96", "::ffff:0:0:0/96")]
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: a network's own translator, to any IPv4 inside


def is_public_address(address: str, port: int) -> bool:
    if f"{address}:{port}" in settings.NEWSROOM_FETCH_ALLOW:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is None and any(ip in network for network in _IPV4_EMBEDDING):
            mapped = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # NAT64 / IPv4-compatible / translated: the last 32 bits
        if mapped is not None:
            ip = mapped
    if isinstance(ip, ipaddress.IPv6Address) and (ip.is_site_local or ip in _LOCAL_NAT64):
        return False  # fec0::/10 (deprecated, still routed inside some sites); NAT64's local-use prefix
    return ip.is_global and not ip.is_multicast


def _checked_address(host: str, port: int) -> str:
    addresses = resolve(host, port)
    if not addresses:
        raise FetchError(_("The site %(host)s could not be found.") % {"host": host})
    refused = [address for address in addresses if not is_public_address(address, port)]
    if refused:
        # One private answer among public ones is refused too: we never pick for the attacker.
        raise FetchError(
            _("%(host)s points to a private or internal network address (%(address)s); the newsroom never fetches from those.")
            % {"host": host, "address": refused[0]}
        )
    return addresses[0]


def get(url: str, *, max_bytes: int | None = None, accept: str = "*/*") -> Fetched:
    """GET `url` with every safeguard; raise FetchError with a sentence when refused or failed."""
    max_bytes = max_bytes or settings.NEWSROOM_FETCH_MAX_BYTES
    deadline = time.monotonic() + settings.NEWSROOM_FETCH_TIMEOUT
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            parts = urlsplit(url)
        except ValueError as error:  # "http://[" and the like, pasted or in a redirect
            raise FetchError(_("The address %(url)s is malformed.") % {"url": url[:200]}) from error
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(_("Only web addresses (http or https) are fetched; %(url)s is not one.") % {"url": url[:200]})
        if parts.username or parts.password:
            raise FetchError(_("Addresses with a user name or password are not fetched."))
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise FetchError(_("The address %(url)s has an invalid port.") % {"url": url[:200]}) from error
        address = _checked_address(host, port)
        target = f"{parts.scheme}://{'[' + address + ']' if ':' in address else address}:{port}{parts.path or '/'}"
        if parts.query:
            target += "?" + parts.query
        response = _request(target, host=parts.netloc.rsplit("@", 1)[-1], sni=host, accept=accept, deadline=deadline)
        if response is None:
            raise FetchError(_("The site took too long to answer, so the fetch was stopped."))
        status, headers, stream = response
        try:
            if status in (301, 302, 303, 307, 308):
                location = headers.get("location")
                if not location:
                    raise FetchError(_("The site answered with a redirect to nowhere."))
                try:
                    url = urljoin(url, location)
                except ValueError as error:
                    raise FetchError(_("The site redirected to a malformed address.")) from error
                continue
            body = _read_capped(stream, headers, max_bytes, deadline)
            return Fetched(url=url, status=status, content_type=headers.get("content-type", ""), body=body)
        finally:
            stream.close()
    raise FetchError(_("The site redirected more than %(n)d times, so the fetch was stopped.") % {"n": MAX_REDIRECTS})


def _request(target, *, host, sni, accept, deadline):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    timeout = httpx.Timeout(remaining, connect=min(remaining, 5.0))
    client = httpx.Client(follow_redirects=False, trust_env=False, timeout=timeout, verify=True)
    headers = {"Host": host, "User-Agent": USER_AGENT, "Accept": accept, "Accept-Language": "en"}
    request = client.build_request("GET", target, headers=headers, extensions={"sni_hostname": sni})
    try:
        response = client.send(request, stream=True)
    except httpx.TimeoutException:
        client.close()
        return None
    except httpx.HTTPError as error:
        client.close()
        raise FetchError(_("The site could not be reached (%(reason)s).") % {"reason": error.__class__.__name__}) from error

    class _Closing:
        def __iter__(self):
            return response.iter_bytes()

        def close(self):
            response.close()
            client.close()

    return response.status_code, response.headers, _Closing()


def _read_capped(stream, headers, max_bytes, deadline):
    too_large = FetchError(
        _("The answer is larger than %(mb).1f MB, so it was not kept; write the card by hand.") % {"mb": max_bytes / 1048576}
    )
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks, size = [], 0
    try:
        for chunk in stream:
            size += len(chunk)
            if size > max_bytes:
                raise too_large
            if time.monotonic() > deadline:
                raise FetchError(_("The site took too long to answer, so the fetch was stopped."))
            chunks.append(chunk)
    except httpx.TimeoutException as error:
        raise FetchError(_("The site took too long to answer, so the fetch was stopped.")) from error
    except httpx.HTTPError as error:
        raise FetchError(_("The site's answer broke off (%(reason)s).") % {"reason": error.__class__.__name__}) from error
    return b"".join(chunks)
