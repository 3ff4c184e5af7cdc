"""`manage.py stream_server`: the built-in stream on several processes sharing one port (SO_REUSEPORT).

A real server on the test database, killed the way a crash kills it (SIGKILL):
the master starts a new worker, and a reader that lost its stream reconnects with
Last-Event-ID and gets exactly what it missed, once.
"""

import os
import signal
import socket
import time

import pytest

from liveupdates.delivery import live
from liveupdates.editorial import workflow
from liveupdates.models import Entry, LiveEvent

from .browser import ensure_roles
from .factories import EntryFactory, LivePostFactory, UserFactory
from .nodes import stream_node
from .sse import Readers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def newsroom(transactional_db):
    ensure_roles()
    return UserFactory(username="stream-editor", group="Editors"), LivePostFactory()


@pytest.fixture
def server():
    node = stream_node(processes=2).ready()
    yield node
    node.stop()


@pytest.fixture
def readers():
    loop = Readers()
    yield loop
    loop.close()


def publish(post, editor, headline):
    entry = EntryFactory(post=post, headline=headline, created_by=editor)
    workflow.publish(entry=entry, user=editor)
    live.announce_due(post=post)
    return entry


def withdraw(entry, editor):
    workflow.withdraw(entry=Entry.objects.get(pk=entry.pk), user=editor, reason="Legal")
    live.announce_due(post=entry.post)


def log_ids(post, after):
    return list(LiveEvent.objects.filter(post=post, pk__gt=after).order_by("pk").values_list("pk", flat=True))


def wait_for_workers(node, count, timeout=10):
    deadline = time.monotonic() + timeout
    while len(node.workers()) != count:
        assert time.monotonic() < deadline, f"expected {count} workers, found {node.workers()}"
        time.sleep(0.05)
    return node.workers()


def raw_request(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_the_stream_server_starts_the_workers_asked_for_and_streams_a_publication(server, readers, newsroom):
    editor, post = newsroom
    assert len(wait_for_workers(server, 2)) == 2
    reader = readers.open(server.port, f"/live/{post.slug}/stream/", after=live.latest_event_id(post))
    reader.wait_for(lambda r: r.connections == 1)
    entry = publish(post, editor, "Served by a worker of the stream server")
    reader.wait_for(lambda r: any(p.get("entry") == entry.pk and p["type"] == live.ADD for _, p in r.events))
    assert b"Served by a worker" in str(reader.events).encode()


def test_a_killed_worker_is_started_again(server, newsroom):
    first = wait_for_workers(server, 2)
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while True:
        now = server.workers()
        if len(now) == 2 and first[0] not in now:
            break
        assert time.monotonic() < deadline, f"the dead worker was not replaced: {now}"
        time.sleep(0.05)
    assert first[1] in now, "the other worker kept running"
    assert server.alive


def test_a_reader_whose_worker_died_gets_what_it_missed_and_nothing_twice(server, readers, newsroom):
    editor, post = newsroom
    start = live.latest_event_id(post)
    kept = publish(post, editor, "Before the crash")
    reader = readers.open(server.port, f"/live/{post.slug}/stream/", after=start)
    reader.wait_for(lambda r: len(r.events) == len(log_ids(post, start)))
    withdrawn = publish(post, editor, "Published before the crash, withdrawn during it")
    reader.wait_for(lambda r: len(r.events) == len(log_ids(post, start)))

    for pid in wait_for_workers(server, 2):
        os.kill(pid, signal.SIGKILL)  # whichever worker held the reader, it is gone
    during = publish(post, editor, "Published while no worker ran")
    withdraw(withdrawn, editor)
    wait_for_workers(server, 2)
    after = publish(post, editor, "Published after the restart")

    expected = log_ids(post, start)
    reader.wait_for(lambda r: r.ids[-1:] == expected[-1:])
    assert reader.connections >= 2, "the reader's stream did not end with its worker"
    assert reader.ids == expected, "every event once, in order"
    received = {(p["type"], p.get("entry")) for _, p in reader.events}
    assert {(live.ADD, during.pk), (live.REMOVE, withdrawn.pk), (live.ADD, after.pk), (live.ADD, kept.pk)} <= received


def test_the_stream_server_answers_only_the_stream_of_a_public_post(server, newsroom):
    _, post = newsroom
    unknown = raw_request(server.port, b"GET /live/no-such-post/stream/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert unknown.startswith(b"HTTP/1.1 404 ") and unknown.endswith(b"No such live post.")
    page = raw_request(server.port, f"GET /live/{post.slug}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert page.startswith(b"HTTP/1.1 404 ") and b"only live streams" in page
    posted = raw_request(server.port, f"POST /live/{post.slug}/stream/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert posted.startswith(b"HTTP/1.1 405 ")
    garbage = raw_request(server.port, b"\x16\x03\x01 nonsense\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400 ")
    huge = raw_request(server.port, b"GET /live/x/stream/ HTTP/1.1\r\nX-Big: " + b"a" * 20000)
    assert huge.startswith(b"HTTP/1.1 431 ")
    head = raw_request(server.port, f"HEAD /live/{post.slug}/stream/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert head.startswith(b"HTTP/1.1 200 ") and b"text/event-stream" in head and head.endswith(b"\r\n\r\n"), "no body"
    assert all(len(server.workers()) == 2 for _ in range(3)), "no bad request took a worker down"


@pytest.mark.django_db(transaction=False)
def test_a_garbage_collection_that_stalls_the_process_is_logged(monkeypatch, caplog):
    import gc

    from newsroom import startup

    startup.watch_collections()
    startup.watch_collections()
    assert gc.callbacks.count(startup._timed) == 1, "installed once however often it is called"
    monkeypatch.setattr(startup, "SLOW_COLLECTION", 0.0)
    with caplog.at_level("WARNING", logger="newsroom.gc"):
        gc.collect()
    assert "garbage collection of generation 2 took" in caplog.text
    monkeypatch.setattr(startup, "SLOW_COLLECTION", 10.0)
    caplog.clear()
    gc.collect()
    assert "garbage collection" not in caplog.text
