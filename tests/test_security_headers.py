"""Headers that make the browser an ally: a strict CSP on public pages, a scoped one for the staff area."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def policy(response):
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))


@pytest.mark.parametrize("url", ["/", "/search/?q=x", "/api/docs"])
def test_public_pages_have_a_strict_content_security_policy(client, url):
    csp = policy(client.get(url))
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert csp["frame-src"] == "https://www.youtube-nocookie.com"


def test_a_live_post_page_has_no_inline_script_but_its_structured_data(client, post):
    import re

    html = client.get(post.get_absolute_url()).content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all('src="' in attrs or 'type="application/ld+json"' in attrs for attrs in scripts), scripts
    assert " on" not in "".join(re.findall(r"<[a-z]+ [^>]*>", html)).replace(" one", "")


def test_the_admin_gets_its_own_policy_for_the_editor(client, editor):
    client.force_login(editor)
    csp = policy(client.get(reverse("admin:index")))
    assert "'unsafe-inline'" in csp["style-src"] and csp["frame-ancestors"] == "'self'"


def test_the_usual_headers_are_set(client, db):
    response = client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_the_upload_callback_runs_only_its_own_script_by_nonce(client, journalist):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(journalist)
    response = client.post(
        reverse("richtext_image_upload") + "?CKEditorFuncNum=1", {"upload": SimpleUploadedFile("x.txt", b"no")}
    )
    csp = policy(response)
    nonce = csp["script-src"].split("'nonce-")[1].rstrip("'")
    assert f'<script nonce="{nonce}">' in response.content.decode()
    assert csp["default-src"] == "'none'"


# --- Logging in -----------------------------------------------------------------------------


def log_in(client, username, password):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})


def test_guessing_a_password_is_stopped_at_the_fifth_wrong_try(client, editor):
    for _ in range(4):
        response = log_in(client, "ed", "wrong guess")
        assert response.status_code == 200 and "enter the correct username and password" in response.content.decode()
    assert log_in(client, "ed", "wrong guess").status_code == 429
    response = log_in(client, "ed", "correct horse battery staple")  # even the right password, for 15 minutes
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_good_password_still_works_after_a_typo(client, editor):
    log_in(client, "ed", "typo")
    response = log_in(client, "ed", "correct horse battery staple")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(editor.pk)


def test_every_admin_login_is_recorded_and_editors_can_read_the_log(client, editor):
    from axes.models import AccessLog

    log_in(client, "ed", "correct horse battery staple")
    assert AccessLog.objects.filter(username="ed").exists()
    response = client.get(reverse("admin:axes_accesslog_changelist"))
    assert response.status_code == 200 and "ed" in response.content.decode()


def test_journalists_cannot_read_the_login_log(client, journalist):
    client.force_login(journalist)
    assert client.get(reverse("admin:axes_accesslog_changelist")).status_code == 403


def test_browsers_asking_for_a_favicon_get_the_site_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("liveupdates/icon.svg")
