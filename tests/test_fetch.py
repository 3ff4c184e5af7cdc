"""Server-side fetching refuses private addresses after DNS and after every redirect, caps size and time, sends no cookies.

Against a local fixture server (tests/card_server.py) and a stub resolver; no internet.
"""

import pytest

from liveupdates.editorial import fetch
from tests.card_server import huge, redirect, slow


@pytest.fixture
def resolver(monkeypatch):
    """A stub DNS: name -> list of answers, each call takes the next answer (the last one repeats)."""
    answers, calls = {}, []

    def resolve(host, port):
        calls.append(host)
        if host == "127.0.0.1":
            return ["127.0.0.1"]
        found = answers[host]
        return found.pop(0) if len(found) > 1 else found[0]

    monkeypatch.setattr(fetch, "resolve", resolve)
    resolve.answers, resolve.calls = answers, calls
    return resolve


def test_the_fixture_server_can_be_fetched_because_the_test_allows_its_exact_address(card_server):
    answer = fetch.get(f"{card_server.base}/page/article/one")
    assert answer.status == 200 and b"Alaraby Aljadeed" in answer.body


def test_another_port_on_loopback_is_refused_although_the_fixture_port_is_allowed(card_server):
    with pytest.raises(fetch.FetchError, match="private or internal"):
        fetch.get(f"http://127.0.0.1:{card_server.port + 1 if card_server.port < 65535 else 1}/")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(address):
    assert not fetch.is_public_address(address, 80)


def test_public_addresses_are_allowed():
    assert fetch.is_public_address("93.184.216.34", 443)
    assert fetch.is_public_address("2606:2800:220:1:248:1893:25c8:1946", 443)


@pytest.mark.parametrize("target", ["http://127.0.0.1:1/secret", "http://169.254.169.254/latest/meta-data/"])
def test_a_redirect_to_loopback_or_the_metadata_service_is_refused(card_server, target):
    card_server.routes["/jump"] = redirect(target)
    with pytest.raises(fetch.FetchError, match="private or internal"):
        fetch.get(f"{card_server.base}/jump")


def test_a_dns_name_that_resolves_to_a_private_address_is_refused(resolver):
    resolver.answers["intranet.example.org"] = [["10.0.0.5"]]
    with pytest.raises(fetch.FetchError, match="10.0.0.5"):
        fetch.get("https://intranet.example.org/")


def test_a_name_with_one_private_answer_among_public_ones_is_refused(resolver):
    resolver.answers["mixed.example.org"] = [["93.184.216.34", "192.168.0.7"]]
    with pytest.raises(fetch.FetchError, match="192.168.0.7"):
        fetch.get("https://mixed.example.org/")


def test_a_redirect_to_a_name_resolving_to_a_private_address_is_refused(card_server, resolver):
    resolver.answers["internal.example.org"] = [["192.168.1.10"]]
    card_server.routes["/jump"] = redirect("http://internal.example.org/admin")
    with pytest.raises(fetch.FetchError, match="192.168.1.10"):
        fetch.get(f"{card_server.base}/jump")


def test_dns_rebinding_cannot_get_in_the_connection_goes_to_the_address_that_was_checked(card_server, resolver):
    # The name answers the (allowed) fixture address once, then a private one: we resolve once
    # per hop and connect to the checked address, so the second answer is never used.
    resolver.answers["rebind.example.org"] = [["127.0.0.1"], ["10.0.0.1"]]
    answer = fetch.get(f"http://rebind.example.org:{card_server.port}/page/article/x")
    assert answer.status == 200
    assert resolver.calls.count("rebind.example.org") == 1
    path, headers = card_server.requests[-1]
    assert headers["Host"] == f"rebind.example.org:{card_server.port}"


def test_a_slow_server_is_cut_off_at_the_time_limit(card_server, settings):
    settings.NEWSROOM_FETCH_TIMEOUT = 1
    card_server.routes["/slow"] = slow
    with pytest.raises(fetch.FetchError, match="too long"):
        fetch.get(f"{card_server.base}/slow")


@pytest.mark.parametrize("declare", [False, True], ids=["chunked", "content-length"])
def test_a_50_mb_answer_is_capped_and_not_kept(card_server, declare):
    card_server.routes["/huge"] = lambda handler: huge(handler, declare=declare)
    with pytest.raises(fetch.FetchError, match="larger than 2.0 MB"):
        fetch.get(f"{card_server.base}/huge")


def test_no_cookie_is_sent_even_one_the_site_set_on_a_redirect(card_server):
    card_server.routes["/jump"] = redirect(f"{card_server.base}/page/article/x", cookie=True)
    fetch.get(f"{card_server.base}/jump")
    assert all("Cookie" not in headers for _path, headers in card_server.requests)


def test_too_many_redirects_are_refused(card_server):
    card_server.routes["/loop"] = redirect("/loop")
    with pytest.raises(fetch.FetchError, match="redirected more than"):
        fetch.get(f"{card_server.base}/loop")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://127.0.0.1/", "https://user:pw@example.org/", "http://example.org:99999/"]
)
def test_only_plain_web_addresses_are_fetched(url):
    with pytest.raises(fetch.FetchError):
        fetch.get(url)


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::10.0.0.1",
        "64:ff9b:1::a00:1",
        "::7f00:1",
        "::a9fe:a9fe",
        "::ffff:0:7f00:1",
        "fec0::1",
    ],
)
def test_private_addresses_inside_nat64_ipv4_compatible_and_translated_ipv6_forms_are_refused(address):
    assert not fetch.is_public_address(address, 80)


def test_public_addresses_inside_nat64_are_still_allowed():
    assert fetch.is_public_address("64:ff9b::5db8:d822", 443)


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "http://localhost/",
    ],
)
def test_loopback_spelled_as_decimal_octal_hex_short_or_ipv6_is_refused_before_any_connection(url):
    with pytest.raises(fetch.FetchError, match="private or internal"):
        fetch.get(url)


def test_a_redirect_to_a_malformed_address_is_refused_with_a_sentence(card_server):
    card_server.routes["/bad"] = redirect("http://[broken/")
    with pytest.raises(fetch.FetchError):
        fetch.get(f"{card_server.base}/bad")
