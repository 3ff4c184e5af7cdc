"""Web Push alerts end to end, without the internet: a stand-in push service the test starts receives
each alert, and the test decrypts it (RFC 8291, http_ece) as a browser would."""

import base64
import json
import os
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from liveupdates.delivery import push
from liveupdates.editorial import workflow
from liveupdates.models import Entry, PushSent, PushSubscription

from .factories import EntryFactory, LivePostFactory

pytestmark = pytest.mark.django_db


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class PushService:
    """A push service on 127.0.0.1: records what it receives; answers each endpoint with a chosen status."""

    def __init__(self):
        self.received, self.status = [], {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(service.status.get(self.path, 201))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """What a browser keeps for one subscription: its private key and auth secret."""

    def __init__(self, service, name):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = f"{service.url}/push/{name}"
        self.path = f"/push/{name}"

    def subscription(self):
        public = self.key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(public), "auth": b64(self.auth)}}

    def read(self, body):
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


@pytest.fixture
def service(settings, tmp_path):
    running = PushService()
    settings.NEWSROOM_PUSH_SERVICES = [running.url.rsplit(":", 1)[0]]  # http://127.0.0.1, any port
    settings.NEWSROOM_PUSH_IN_BACKGROUND = False
    settings.NEWSROOM_VAPID_PRIVATE_KEY_FILE = str(tmp_path / "vapid.pem")
    call_command("vapid_keys", "--file", str(tmp_path / "vapid.pem"), stdout=open(os.devnull, "w"))
    yield running
    running.stop()


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


def subscribe(client, post, browser, key_events_only=False, origin="http://testserver", **extra):
    return client.post(
        reverse("liveupdates:post_alerts", args=[post.slug]),
        json.dumps({"subscription": browser.subscription(), "key_events_only": key_events_only}),
        content_type="application/json",
        headers={"Origin": origin} if origin else {},
        **extra,
    )


def alerts_to(service, browser):
    return [browser.read(body) for path, _, body in service.received if path == browser.path]


# --- Subscribing --------------------------------------------------------------------------


def test_a_reader_subscribes_from_our_own_page(client, service, post):
    browser = Browser(service, "a")
    response = subscribe(client, post, browser)
    assert response.status_code == 201
    subscription = PushSubscription.objects.get()
    assert subscription.endpoint == browser.endpoint and not subscription.key_events_only
    assert not response.cookies


def test_one_address_inventing_endpoints_is_stopped_after_the_hours_allowance_and_others_are_not(client, service, post, settings):
    settings.NEWSROOM_ALERT_SUBSCRIBES_PER_HOUR = 3
    for n in range(3):
        assert subscribe(client, post, Browser(service, f"flood-{n}")).status_code == 201
    refused = subscribe(client, post, Browser(service, "flood-3"))
    assert refused.status_code == 429 and "try again" in refused.json()["error"]
    assert PushSubscription.objects.count() == 3
    assert subscribe(client, post, Browser(service, "other"), REMOTE_ADDR="192.0.2.7").status_code == 201
    # A reader changing their choice is not a new subscription.
    browser = Browser(service, "flood-0")
    browser.endpoint = PushSubscription.objects.order_by("pk").first().endpoint
    assert subscribe(client, post, browser, key_events_only=True).status_code == 201


def test_subscribing_twice_keeps_one_subscription_with_the_latest_choice(client, service, post):
    browser = Browser(service, "a")
    subscribe(client, post, browser)
    subscribe(client, post, browser, key_events_only=True)
    assert list(PushSubscription.objects.values_list("key_events_only", flat=True)) == [True]


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://testserver.evil.example", ""])
def test_a_subscription_from_another_origin_or_none_is_refused(client, service, post, origin):
    response = subscribe(client, post, Browser(service, "a"), origin=origin)
    assert response.status_code == 403
    assert not PushSubscription.objects.exists()


def test_a_cross_site_form_post_is_refused_even_from_our_origin(client, service, post):
    response = client.post(
        reverse("liveupdates:post_alerts", args=[post.slug]),
        {"subscription": "x"},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 415 and not PushSubscription.objects.exists()


def test_an_endpoint_that_is_not_a_known_push_service_is_refused(client, service, post):
    for endpoint in ("http://10.0.0.1/push/x", "https://evil.example/push", "file:///etc/passwd", "http://user@127.0.0.1.evil/x"):
        browser = Browser(service, "a")
        browser.endpoint = endpoint
        response = subscribe(client, post, browser)
        assert response.status_code == 400, endpoint
        assert "push service" in response.json()["error"]
    assert not PushSubscription.objects.exists()


def test_bad_keys_and_bad_json_get_a_clear_400(client, service, post):
    url = reverse("liveupdates:post_alerts", args=[post.slug])
    headers = {"Origin": "http://testserver"}
    for body in (
        "not json",
        "[1]",
        json.dumps({"subscription": {"endpoint": service.url + "/x", "keys": {"p256dh": "AAA", "auth": "!!"}}}),
    ):
        response = client.post(url, body, content_type="application/json", headers=headers)
        assert response.status_code == 400 and response.json()["error"]
    assert not PushSubscription.objects.exists()


def test_a_post_that_is_not_public_takes_no_subscription(client, service):
    hidden = LivePostFactory(status="draft", published_at=None)
    assert subscribe(client, hidden, Browser(service, "a")).status_code == 404


def test_unsubscribing_is_one_request_from_our_page(client, service, post):
    browser = Browser(service, "a")
    subscribe(client, post, browser)
    url = reverse("liveupdates:post_alerts_stop", args=[post.slug])
    body = json.dumps({"endpoint": browser.endpoint})
    assert client.post(url, body, content_type="application/json", headers={"Origin": "https://evil.example"}).status_code == 403
    assert PushSubscription.objects.exists()
    assert client.post(url, body, content_type="application/json", headers={"Origin": "http://testserver"}).status_code == 200
    assert not PushSubscription.objects.exists()


# --- Sending ---------------------------------------------------------------------------------


def test_a_published_entry_is_pushed_encrypted_to_every_entry_subscriber_and_names_only_public_words(
    client, act, service, editor, post
):
    every, key_only = Browser(service, "every"), Browser(service, "key")
    subscribe(client, post, every)
    subscribe(client, post, key_only, key_events_only=True)
    EntryFactory(post=post, headline="Draft words never pushed")
    entry = EntryFactory(post=post, headline="Convoy reaches Daraa")
    act(workflow.publish, entry=entry, user=editor)
    [alert] = alerts_to(service, every)
    assert alert["title"] == post.headline and alert["body"] == "Convoy reaches Daraa"
    assert alert["url"].endswith(f"/live/{post.slug}/entries/{entry.pk}/")
    assert alerts_to(service, key_only) == []
    raw = b"".join(body for _, _, body in service.received)
    assert b"Convoy" not in raw and b"Draft words" not in raw  # encrypted on the wire
    _, headers, _ = service.received[0]
    assert headers["authorization"].startswith("vapid t=") and headers["content-encoding"] == "aes128gcm", headers


def test_a_key_event_with_an_alert_reaches_key_event_subscribers_once(client, act, service, editor, post):
    key_only = Browser(service, "key")
    subscribe(client, post, key_only, key_events_only=True)
    entry = EntryFactory(post=post, headline="Ceasefire announced")
    act(workflow.publish, entry=entry, user=editor)
    assert alerts_to(service, key_only) == []
    act(workflow.set_key_event, entry=Entry.objects.get(pk=entry.pk), user=editor, key_event=True, alert=True)
    act(workflow.correct, entry=Entry.objects.get(pk=entry.pk), user=editor, text="A detail.")  # an update: no second alert
    [alert] = alerts_to(service, key_only)
    assert alert["body"] == "Ceasefire announced" and alert["key_event"] is True


def test_a_key_event_without_an_alert_pushes_nothing_to_key_event_subscribers(client, act, service, editor, post):
    key_only = Browser(service, "key")
    subscribe(client, post, key_only, key_events_only=True)
    entry = EntryFactory(post=post)
    act(workflow.publish, entry=entry, user=editor)
    act(workflow.set_key_event, entry=Entry.objects.get(pk=entry.pk), user=editor, key_event=True)
    assert alerts_to(service, key_only) == []


def test_a_scheduled_entry_pushes_nothing_until_its_time(client, act, service, editor, post):
    every = Browser(service, "every")
    subscribe(client, post, every)
    entry = EntryFactory(post=post, headline="Later words")
    act(workflow.publish, entry=entry, user=editor, at=timezone.now() + timedelta(hours=1))
    assert service.received == []


def test_an_entry_withdrawn_before_its_alert_is_sent_pushes_nothing(client, act, service, editor, post, settings):
    every = Browser(service, "every")
    subscribe(client, post, every)
    settings.NEWSROOM_PUSH_IN_BACKGROUND = True  # queued, not sent: the withdrawal comes first
    held = []
    original = push.soon
    push.soon = lambda entry_id, reason: held.append((entry_id, reason))
    try:
        entry = EntryFactory(post=post, headline="Withdrawn words")
        act(workflow.publish, entry=entry, user=editor)
        act(workflow.withdraw, entry=Entry.objects.get(pk=entry.pk), user=editor, reason="Wrong.")
    finally:
        push.soon = original
    assert held == [(entry.pk, "entry")]
    assert push.send(*held[0]) == 0
    assert service.received == [] and not PushSent.objects.exists()


def test_an_unpublished_post_pushes_nothing(client, act, service, editor, post):
    every = Browser(service, "every")
    subscribe(client, post, every)
    act(workflow.unpublish_post, post=post, user=editor)
    entry = EntryFactory(post=post)
    act(workflow.publish, entry=entry, user=editor)
    assert push.send(entry.pk, "entry") == 0
    assert service.received == []


def test_a_subscription_the_push_service_has_forgotten_is_removed(client, act, service, editor, post):
    gone, expired, failing, fine = (Browser(service, name) for name in ("gone", "expired", "failing", "fine"))
    for browser in (gone, expired, failing, fine):
        subscribe(client, post, browser)
    service.status.update({gone.path: 404, expired.path: 410, failing.path: 500})
    act(workflow.publish, entry=EntryFactory(post=post), user=editor)
    assert set(PushSubscription.objects.values_list("endpoint", flat=True)) == {failing.endpoint, fine.endpoint}
    assert len(alerts_to(service, fine)) == 1


def test_each_alert_is_sent_once_whoever_announces_it(client, act, service, editor, post):
    every = Browser(service, "every")
    subscribe(client, post, every)
    entry = EntryFactory(post=post)
    act(workflow.publish, entry=entry, user=editor)
    assert push.send(entry.pk, "entry") == 0  # a second process, or a retry
    assert len(alerts_to(service, every)) == 1


def test_sending_is_bounded_by_the_rate(service, settings, monkeypatch):
    settings.NEWSROOM_PUSH_RATE = 10
    slept = []
    monkeypatch.setattr(push.time, "sleep", slept.append)
    monkeypatch.setattr(push.time, "monotonic", lambda: 100.0)
    rate = push._Rate(settings.NEWSROOM_PUSH_RATE)
    for _ in range(5):
        rate.wait()
    assert slept == pytest.approx([0.1, 0.2, 0.3, 0.4])


def test_without_a_vapid_key_nothing_is_sent_and_the_page_offers_no_alerts(client, act, service, editor, post, settings):
    settings.NEWSROOM_VAPID_PRIVATE_KEY_FILE = ""
    subscribe(client, post, Browser(service, "every"))
    act(workflow.publish, entry=EntryFactory(post=post), user=editor)
    assert service.received == []
    assert "data-alerts" not in client.get(post.get_absolute_url()).content.decode()


def test_the_live_page_offers_alerts_and_the_service_worker_is_served_from_the_root(client, service, post):
    html = client.get(post.get_absolute_url()).content.decode()
    assert f'data-key="{push.public_key()}"' in html and 'data-worker="/sw.js"' in html
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker["Content-Type"].startswith("text/javascript")
    assert "showNotification" in worker.content.decode()


def test_the_vapid_keys_command_refuses_to_overwrite_a_key(service, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ends every subscription"):
        call_command("vapid_keys", "--file", str(tmp_path / "vapid.pem"), stdout=open(os.devnull, "w"))


def test_an_editor_marks_a_key_event_with_an_alert_from_the_admin(client, act, service, editor, post):
    key_only = Browser(service, "key")
    subscribe(client, post, key_only, key_events_only=True)
    entry = EntryFactory(post=post, headline="Key with alert")
    act(workflow.publish, entry=entry, user=editor)
    client.force_login(editor)
    with_alert = reverse("admin:liveupdates_entry_workflow", args=[entry.pk, "key_alert"])
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(with_alert).status_code == 302
    assert [a["body"] for a in alerts_to(service, key_only)] == ["Key with alert"]
