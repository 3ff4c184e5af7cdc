"""Behind the proxies: whose address a request is, and which scheme it came in on.

Production runs behind nginx (deploy/nginx.conf), often with a TLS terminator
(a load balancer, a CDN) in front of it. Login throttling must count the real
client, not nginx; a forged X-Forwarded-For must not let anyone pose as
someone else; and a request that came in over HTTPS through a trusted
terminator must not be redirected again (a redirect loop).
"""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from newsroom.clientip import client_ip

NGINX = "172.18.0.5"  # the proxy in front of Django (a compose network address)
TERMINATOR = "10.0.0.2"  # a TLS terminator in front of nginx
TRUSTED = ["172.16.0.0/12", "10.0.0.0/8"]


def request(remote, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.fixture
def trusted(settings):
    settings.NEWSROOM_TRUSTED_PROXIES = TRUSTED


def test_without_trusted_proxies_the_client_is_the_connecting_address(settings):
    settings.NEWSROOM_TRUSTED_PROXIES = []
    assert client_ip(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_nginx_the_client_is_the_address_nginx_appended(trusted):
    assert client_ip(request(NGINX, "203.0.113.9")) == "203.0.113.9"


def test_behind_a_terminator_and_nginx_the_client_is_the_first_untrusted_hop(trusted):
    assert client_ip(request(NGINX, f"203.0.113.9, {TERMINATOR}")) == "203.0.113.9"


def test_a_forged_forwarded_for_is_never_believed(trusted):
    # The client wrote "192.0.2.1" itself; nginx appended the address it really saw.
    assert client_ip(request(NGINX, "192.0.2.1, 203.0.113.9")) == "203.0.113.9"
    # Sent straight to Django (not through a trusted proxy), the header counts for nothing.
    assert client_ip(request("203.0.113.9", "192.0.2.1")) == "203.0.113.9"


def test_a_malformed_hop_written_by_a_proxy_falls_back_to_the_proxy(trusted):
    assert client_ip(request(NGINX, "not-an-address")) == NGINX


def log_in(client, address, password):
    return client.post(
        reverse("admin:login"),
        {"username": "ed", "password": password, "next": "/admin/"},
        REMOTE_ADDR=NGINX,
        HTTP_X_FORWARDED_FOR=address,
    )


@pytest.mark.django_db
def test_five_wrong_passwords_from_one_client_behind_nginx_do_not_lock_out_another(trusted, editor):
    guesser, real_editor = Client(), Client()
    for _ in range(5):
        last = log_in(guesser, "198.51.100.7", "wrong guess")
    assert last.status_code == 429, "the guesser is locked out"
    response = log_in(real_editor, "203.0.113.9", "correct horse battery staple")
    assert response.status_code == 302 and real_editor.session["_auth_user_id"] == str(editor.pk)
    assert log_in(Client(), "198.51.100.7", "correct horse battery staple").status_code == 429


@pytest.mark.django_db
def test_the_login_log_names_the_client_not_the_proxy(trusted, client, editor):
    from axes.models import AccessAttempt

    log_in(client, "198.51.100.7", "wrong guess")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]
