"""The stream on nchan (NEWSROOM_STREAM_ENGINE=nchan): a real nginx with Debian's nchan module runs deploy/nginx-nchan.conf.

The relay publishes each live event once; readers subscribed through nginx receive
publications and withdrawals; a reader who was away catches up from the poll endpoint
from its cursor, as live.js does on opening (nchan keeps no messages to replay: a
replay would carry a withdrawn entry's words).
Skipped when nginx or the module is missing, unless NEWSROOM_REQUIRE_NCHAN=1 (CI).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from liveupdates.delivery import live, nchan
from liveupdates.editorial import workflow
from liveupdates.models import LiveEvent

from .browser import ensure_roles, free_port
from .factories import EntryFactory, LivePostFactory, UserFactory
from .nodes import loopback_nginx_conf

ROOT = Path(__file__).resolve().parents[1]
MODULE = Path("/usr/lib/nginx/modules/ngx_nchan_module.so")


def require_nchan():
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    missing = None if Path(nginx).exists() and MODULE.exists() else "nginx with libnginx-mod-nchan is not installed"
    if missing and os.environ.get("NEWSROOM_REQUIRE_NCHAN"):
        pytest.fail(f"{missing} (NEWSROOM_REQUIRE_NCHAN=1): apt-get install nginx libnginx-mod-nchan")
    if missing:
        pytest.skip(f"{missing}: apt-get install nginx libnginx-mod-nchan")
    return nginx


def loopback_conf(tmp, ports):
    """deploy/nginx-nchan.conf with its addresses made local."""
    return loopback_nginx_conf(
        "nginx-nchan.conf",
        tmp,
        {
            "server web:8000;": f"server 127.0.0.1:{ports['pages']};",
            "listen 80;": f"listen 127.0.0.1:{ports['readers']};",
            "listen 8080;": f"listen 127.0.0.1:{ports['publisher']};",
        },
    )


class Nchan:
    """nginx running deploy/nginx-nchan.conf on loopback ports; stopped and started again at will."""

    def __init__(self, pages_port=None):
        nginx = require_nchan()
        # Its own directory, readable by nginx's unprivileged workers (pytest's tmp_path is not).
        tmp = self.tmp = Path(tempfile.mkdtemp(prefix="newsroom-nchan-"))
        tmp.chmod(0o755)
        self.ports = {"pages": pages_port or free_port(), "readers": free_port(), "publisher": free_port()}
        (tmp / "nginx.conf").write_text(loopback_conf(tmp, self.ports))
        self.command = [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
        subprocess.run([*self.command, "-t", "-q"], check=True, capture_output=True)
        self.start()

    @property
    def publish_url(self):
        return f"http://127.0.0.1:{self.ports['publisher']}/pub"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.ports['readers']}"

    def start(self):
        subprocess.run(self.command, check=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.ports["readers"]), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.05)

    def stop(self):
        subprocess.run([*self.command, "-s", "stop"], check=False, capture_output=True)
        for _ in range(100):
            if not (self.tmp / "nginx.pid").exists():
                return
            time.sleep(0.05)

    def remove(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def engine(settings):
    server = Nchan()
    settings.NEWSROOM_NCHAN_PUBLISH_URL = server.publish_url
    yield server.ports
    server.remove()


class Subscriber(threading.Thread):
    """An EventSource reader of one post through nginx: the events' data, as parsed JSON."""

    def __init__(self, port, slug):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(f"GET /live/{slug}/stream/ HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n".encode())
        self.events, self.head, self.ready = [], b"", threading.Event()
        self.start()
        assert self.ready.wait(10), "the subscription was not answered"

    def run(self):
        buffer = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                if not self.ready.is_set() and b"\r\n\r\n" in buffer:
                    self.head, buffer = buffer.split(b"\r\n\r\n", 1)
                    self.ready.set()
                for line in buffer.split(b"\n"):
                    if line.startswith(b"data: "):
                        try:
                            event = json.loads(line[6:])
                        except ValueError:
                            continue  # a line cut by chunking: read again with more
                        if event not in self.events:
                            self.events.append(event)
        except OSError:
            return

    def wait_for(self, test, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [event for event in self.events if test(event)]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"not received within {timeout} s; received {self.events}")

    def close(self):
        self.sock.close()


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def newsroom(db):
    ensure_roles()
    return UserFactory(username="nchan-editor", group="Editors"), LivePostFactory()


def publish(post, editor, headline):
    entry = EntryFactory(post=post, headline=headline, created_by=editor)
    workflow.publish(entry=entry, user=editor)
    live.announce_due(post=post)
    return entry


def test_a_publication_and_its_withdrawal_reach_a_reader_subscribed_through_nchan(engine, newsroom):
    editor, post = newsroom
    relay = nchan.Relay()
    reader = Subscriber(engine["readers"], post.slug)
    assert b" 200 " in reader.head.split(b"\r\n")[0] and b"text/event-stream" in reader.head
    entry = publish(post, editor, "Breaking: through nchan")
    assert relay.step() >= 1
    [added] = reader.wait_for(lambda event: event.get("type") == "add" and event.get("entry") == entry.pk)
    assert "Breaking: through nchan" in added["html"]
    assert added["id"] == LiveEvent.objects.get(entry=entry, kind="add").pk  # our event id, as the built-in stream sends it
    workflow.withdraw(entry=entry, user=editor, reason="unverified")
    relay.step()
    reader.wait_for(lambda event: event.get("type") == "remove" and event.get("entry") == entry.pk)
    reader.close()


def test_each_event_is_published_once_and_in_order(engine, newsroom):
    editor, post = newsroom
    relay = nchan.Relay()
    reader = Subscriber(engine["readers"], post.slug)
    entries = [publish(post, editor, f"Update {n}") for n in range(3)]
    relay.step()
    relay.step()  # nothing new: nothing published again
    reader.wait_for(lambda event: event.get("entry") == entries[-1].pk and event.get("type") == "add")
    time.sleep(0.2)
    ids = [event["id"] for event in reader.events]
    assert ids == sorted(set(ids)), f"duplicates or disorder: {ids}"
    assert [event["entry"] for event in reader.events if event["type"] == "add"] == [entry.pk for entry in entries]
    reader.close()


def test_a_reader_who_was_away_catches_up_from_the_poll_and_then_follows_through_nchan(engine, newsroom, client):
    editor, post = newsroom
    relay = nchan.Relay()
    first = publish(post, editor, "Before the reader left")
    relay.step()
    cursor = live.latest_event_id(post)
    missed = publish(post, editor, "While the reader was away")  # published with nobody subscribed
    relay.step()
    back = Subscriber(engine["readers"], post.slug)  # reconnects: nchan keeps nothing to replay
    after = publish(post, editor, "Once the reader was back")
    relay.step()
    back.wait_for(lambda event: event.get("entry") == after.pk)
    assert missed.pk not in [event.get("entry") for event in back.events]
    answer = client.get(f"{reverse('liveupdates:post_updates', args=[post.slug])}?after={cursor}").json()
    assert [event["entry"] for event in answer["events"] if event["type"] == "add"] == [missed.pk, after.pk]
    assert first.pk not in [event["entry"] for event in answer["events"]]
    back.close()


def test_the_relay_keeps_an_event_until_nchan_takes_it(newsroom, settings, monkeypatch):
    editor, post = newsroom
    settings.NEWSROOM_NCHAN_PUBLISH_URL = f"http://127.0.0.1:{free_port()}/pub"  # nobody listens
    monkeypatch.setattr(nchan, "RETRY", 0.01)
    attempts = []
    real = nchan.publish

    def flaky(slug, event_id, payload, timeout=5.0):
        attempts.append(event_id)
        if len(attempts) < 3:
            return real(slug, event_id, payload, timeout=0.2)  # refused: nchan is down
        return None  # nchan is back

    monkeypatch.setattr(nchan, "publish", flaky)
    relay = nchan.Relay()
    publish(post, editor, "Published while nchan restarts")
    relay.step()
    assert len(attempts) == 3 and len(set(attempts)) == 1 and relay.last == attempts[0]


def test_a_restarted_relay_goes_on_after_the_last_event_it_published(engine, newsroom):
    editor, post = newsroom
    reader = Subscriber(engine["readers"], post.slug)
    relay = nchan.Relay()
    first = publish(post, editor, "Published while the relay runs")
    relay.step()
    reader.wait_for(lambda event: event.get("entry") == first.pk)
    # The relay is down while the newsroom publishes; a new one starts.
    missed = publish(post, editor, "Published while the relay was down")
    nchan.Relay().step()
    reader.wait_for(lambda event: event.get("entry") == missed.pk and event.get("type") == "add")
    assert [event["entry"] for event in reader.events if event.get("type") == "add"] == [first.pk, missed.pk]
    reader.close()


def test_pages_ask_live_js_to_catch_up_only_with_the_nchan_engine(client, settings, db):
    post = LivePostFactory()
    assert "data-live-catch-up" not in client.get(post.get_absolute_url()).content.decode()
    settings.NEWSROOM_STREAM_ENGINE = "nchan"
    from liveupdates.site import assembly

    assembly.forget()
    assert "data-live-catch-up" in client.get(post.get_absolute_url()).content.decode()


def test_the_nchan_configuration_is_the_shipped_one_but_for_the_stream():
    plain = (ROOT / "deploy" / "nginx.conf").read_text().splitlines()
    with_nchan = set((ROOT / "deploy" / "nginx-nchan.conf").read_text().splitlines())
    stream_parts = (
        "upstream stream",
        "proxy_pass http://stream;",
        "proxy_buffering off;",
        "proxy_cache off;",
        "proxy_read_timeout 1h;",
        "proxy_next_upstream",
        "proxy_connect_timeout",
        "location ~ ^/live/",
    )
    differing = [
        line
        for line in plain
        if line not in with_nchan and not line.lstrip().startswith("#") and not any(part in line for part in stream_parts)
    ]
    assert differing == [], "deploy/nginx-nchan.conf has drifted from deploy/nginx.conf"


def test_a_reader_who_subscribes_after_a_withdrawal_never_receives_the_withdrawn_words_from_nchan(engine, newsroom):
    editor, post = newsroom
    relay = nchan.Relay()
    entry = publish(post, editor, "Words that were withdrawn")
    relay.step()
    workflow.withdraw(entry=entry, user=editor, reason="unverified")
    relay.step()
    later = Subscriber(engine["readers"], post.slug)  # within nchan's 30 s: would it replay the add?
    canary = publish(post, editor, "Published after the reader subscribed")
    relay.step()
    later.wait_for(lambda event: event.get("entry") == canary.pk)
    assert not [event for event in later.events if "Words that were withdrawn" in json.dumps(event)]
    later.close()


class FakePublisher(threading.Thread):
    """nchan's publisher endpoint as the relay sees it: records each message (and when), answers after `delay`."""

    def __init__(self, delay=0.0):
        super().__init__(daemon=True)
        import http.server

        owner = self
        self.delay, self.received = delay, []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.received.append((time.monotonic(), json.loads(body)))
                time.sleep(owner.delay)
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/pub"
        self.start()

    def run(self):
        self.server.serve_forever(poll_interval=0.05)

    def ids(self):
        return [message["id"] for _, message in self.received]

    def wait_for(self, event_id, timeout=10):
        deadline = time.monotonic() + timeout
        while event_id not in self.ids():
            assert time.monotonic() < deadline, f"event {event_id} not published within {timeout} s; got {self.ids()}"
            time.sleep(0.01)

    def close(self):
        self.server.shutdown()


def test_a_publish_nchan_answers_late_is_not_sent_again(newsroom, settings, monkeypatch):
    editor, post = newsroom
    nchan_slow = FakePublisher(delay=0.5)  # nchan writing to 100,000 readers before it answers
    settings.NEWSROOM_NCHAN_PUBLISH_URL = nchan_slow.url
    monkeypatch.setattr(nchan, "PUBLISH_TIMEOUT", 0.1)
    monkeypatch.setattr(nchan, "RETRY", 0.01)
    relay = nchan.Relay()
    publish(post, editor, "Published to a crowd")
    stepping = threading.Thread(target=relay.step, daemon=True)  # a relay that re-sends would never finish
    stepping.start()
    stepping.join(2)
    time.sleep(0.6)
    ids = nchan_slow.ids()
    assert ids and len(ids) == len(set(ids)), f"an event was sent twice: {ids}"
    assert relay.last == live.latest_event_id(post)
    nchan_slow.close()


def test_the_publish_timeout_outlasts_a_fan_out_to_100000_readers():
    assert nchan.PUBLISH_TIMEOUT >= 30  # nchan took more than 5 s to answer at 100,000 subscribers


@pytest.fixture
def running_relay(settings):
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (DATABASE_URL=postgres://...)")
    publisher = FakePublisher()
    settings.NEWSROOM_NCHAN_PUBLISH_URL = publisher.url
    relay = nchan.Relay()
    stop = threading.Event()
    thread = threading.Thread(target=relay.run_forever, args=(stop,), daemon=True)
    thread.start()
    yield relay, publisher
    stop.set()
    thread.join(10)
    publisher.close()


def wait_until(test, timeout=10):
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.01)


def test_the_relay_is_woken_by_the_commit_not_by_its_fallback_poll(newsroom, running_relay):
    editor, post = newsroom
    relay, publisher = running_relay
    wait_until(lambda: relay.listener.connection is not None)
    for n in range(3):
        entry = publish(post, editor, f"Woken {n}")
        published_at = time.monotonic()
        event_id = LiveEvent.objects.filter(entry=entry, kind="add").latest("pk").pk
        publisher.wait_for(event_id)
        arrived = next(at for at, message in publisher.received if message["id"] == event_id)
        assert arrived - published_at < nchan.FALLBACK_POLL / 2, "published by the fallback poll, not woken by NOTIFY"
    assert relay.listener.wakes >= 3


def test_the_relay_listens_again_after_its_connection_is_killed_and_loses_nothing_meanwhile(newsroom, running_relay):
    editor, post = newsroom
    relay, publisher = running_relay
    wait_until(lambda: relay.listener.connection is not None)
    killed = relay.listener.connection.get_backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [killed])
    during = publish(post, editor, "Published while the relay's LISTEN connection was dead")
    publisher.wait_for(LiveEvent.objects.filter(entry=during, kind="add").latest("pk").pk)
    wait_until(lambda: relay.listener.connection is not None and relay.listener.connection.get_backend_pid() != killed)
    wakes = relay.listener.wakes
    after = publish(post, editor, "Published once it listened again")
    publisher.wait_for(LiveEvent.objects.filter(entry=after, kind="add").latest("pk").pk)
    assert relay.listener.wakes > wakes, "the new connection did not wake the relay"
    ids = publisher.ids()
    assert ids == sorted(set(ids)), f"duplicates or disorder: {ids}"


def test_the_relay_sends_event_after_event_on_one_kept_alive_connection_to_nchan(engine, newsroom, monkeypatch):
    editor, post = newsroom
    monkeypatch.setattr(nchan, "_kept", {})
    reader = Subscriber(engine["readers"], post.slug)
    relay = nchan.Relay(listen=False)
    local_ports = []
    for n in range(3):
        entry = publish(post, editor, f"Kept alive {n}")
        relay.step()
        reader.wait_for(lambda event, pk=entry.pk: event.get("entry") == pk)
        (kept,) = nchan._kept.values()
        local_ports.append(kept.sock.getsockname()[1])
    assert len(set(local_ports)) == 1, f"a new connection per event: {local_ports}"
    reader.close()


def test_a_kept_connection_nginx_closed_meanwhile_is_replaced_without_a_retry_or_a_loss(settings, newsroom, monkeypatch):
    editor, post = newsroom
    server = Nchan()
    settings.NEWSROOM_NCHAN_PUBLISH_URL = server.publish_url
    monkeypatch.setattr(nchan, "_kept", {})
    monkeypatch.setattr(nchan, "RETRY", 30.0)  # a retry would show as a 30 s step
    try:
        relay = nchan.Relay(listen=False)
        publish(post, editor, "Before nginx restarts")
        relay.step()
        assert nchan._kept
        server.stop()
        server.start()
        reader = Subscriber(server.ports["readers"], post.slug)
        after = publish(post, editor, "After nginx restarted")
        started = time.monotonic()
        relay.step()
        assert time.monotonic() - started < 5
        reader.wait_for(lambda event: event.get("entry") == after.pk)
        reader.close()
    finally:
        server.remove()


def test_a_round_that_publishes_leaves_the_sweep_to_the_next_round(newsroom, settings, monkeypatch):
    editor, post = newsroom
    publisher = FakePublisher()
    settings.NEWSROOM_NCHAN_PUBLISH_URL = publisher.url
    calls = []
    real_publish, real_announce = nchan.publish, live.announce
    relay = nchan.Relay(listen=False)
    publish(post, editor, "Published while the sweep is due")
    monkeypatch.setattr(nchan, "publish", lambda *args, **kwargs: calls.append("publish") or real_publish(*args, **kwargs))
    monkeypatch.setattr(live, "announce", lambda *args, **kwargs: calls.append("sweep") or real_announce(*args, **kwargs))
    assert relay.step() == 1
    assert calls == ["publish"], "the sweep ran between the commit and its publish"
    assert relay.step() == 0
    assert calls == ["publish", "sweep"]
    publisher.close()
