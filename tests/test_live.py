"""Live readers: the event log, the stream, the poll fallback, and nothing unpublished in any of them."""

import asyncio
import json
import os
import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient
from django.urls import reverse
from django.utils import timezone

from liveupdates.delivery import live, stream
from liveupdates.editorial import workflow
from liveupdates.models import Entry, LiveEvent, PostStatus

from .factories import EntryFactory, LivePostFactory, PublishedEntryFactory

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run workflow actions with their after-commit side effects, as in production."""

    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


def events(post, after=0):
    return [payload for _, _, _, payload in live.events_after(post.pk, after)]


def types(post, after=0):
    return [payload["type"] for payload in events(post, after)]


# --- The log -------------------------------------------------------------------------


@pytest.mark.django_db
def test_publishing_appends_one_add_event_with_the_rendered_entry(run_on_commit, editor, draft):
    run_on_commit(workflow.publish, entry=draft, user=editor)
    [event] = events(draft.post)
    assert event["type"] == "add" and event["entry"] == draft.pk
    assert f'<article id="entry-{draft.pk}"' in event["html"] and draft.headline in event["html"]
    assert Entry.objects.get(pk=draft.pk).announced_at is not None


@pytest.mark.django_db
def test_drafts_and_entries_in_review_never_reach_the_log(run_on_commit, editor, journalist, draft):
    run_on_commit(workflow.submit_for_review, entry=draft, user=journalist)
    run_on_commit(workflow.return_to_author, entry=Entry.objects.get(pk=draft.pk), user=editor, note="Source?")
    run_on_commit(workflow.pin, entry=Entry.objects.get(pk=draft.pk), user=editor)
    run_on_commit(workflow.set_key_event, entry=Entry.objects.get(pk=draft.pk), user=editor, key_event=True)
    assert LiveEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_scheduled_entry_reaches_the_log_only_when_its_time_comes(run_on_commit, editor, draft, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    run_on_commit(workflow.publish, entry=draft, user=editor, at=timezone.now() + timedelta(minutes=10))
    assert live.announce_due() == 0
    assert LiveEvent.objects.count() == 0
    time_machine.shift(timedelta(minutes=11))
    assert live.announce_due() == 1
    assert live.announce_due() == 0  # announced exactly once, however many processes check
    assert types(draft.post) == ["add"]


@pytest.mark.django_db
def test_entries_of_an_unpublished_post_are_not_announced(run_on_commit, editor):
    post = LivePostFactory(status=PostStatus.DRAFT, published_at=None)
    entry = EntryFactory(post=post)
    run_on_commit(workflow.publish, entry=entry, user=editor)
    assert LiveEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_edit_of_a_public_entry_is_sent_in_place(run_on_commit, editor, draft):
    run_on_commit(workflow.publish, entry=draft, user=editor)
    entry = Entry.objects.get(pk=draft.pk)
    entry.body = "<p>Corrected: 14 civilians</p>"
    entry.save()
    run_on_commit(workflow.record_edit, entry=entry, user=editor, created=False)
    assert types(draft.post) == ["add", "update"]
    assert "Corrected: 14 civilians" in events(draft.post)[-1]["html"]


@pytest.mark.django_db
def test_a_withdrawal_sends_only_the_id_and_is_never_replayed_with_its_content(run_on_commit, editor, draft):
    run_on_commit(workflow.publish, entry=draft, user=editor)
    run_on_commit(workflow.withdraw, entry=Entry.objects.get(pk=draft.pk), user=editor, reason="Old video")
    replay = events(draft.post, after=0)
    assert [e["type"] for e in replay] == ["remove", "pinned", "key-events"]
    assert replay[0] == {"type": "remove", "entry": draft.pk}
    assert draft.headline not in json.dumps(replay)


@pytest.mark.django_db
def test_pinning_and_key_events_send_fresh_snapshots_and_only_the_latest_is_replayed(run_on_commit, editor, post):
    first, second = (
        PublishedEntryFactory(post=post, headline="First pin"),
        PublishedEntryFactory(post=post, headline="Second pin"),
    )
    for entry in (first, second):
        Entry.objects.filter(pk=entry.pk).update(announced_at=timezone.now())
    run_on_commit(workflow.pin, entry=first, user=editor)
    run_on_commit(workflow.pin, entry=Entry.objects.get(pk=second.pk), user=editor)
    run_on_commit(workflow.set_key_event, entry=Entry.objects.get(pk=second.pk), user=editor, key_event=True)
    replay = events(post)
    pinned = [e for e in replay if e["type"] == "pinned"]
    assert len(pinned) == 1 and pinned[0]["entry"] == second.pk and "Second pin" in pinned[0]["html"]
    key = [e for e in replay if e["type"] == "key-events"]
    assert key[-1]["entries"] == [second.pk]


# --- The poll endpoint ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_poll_endpoint_returns_what_came_after_the_cursor(client, run_on_commit, editor, post):
    a, b = EntryFactory(post=post, headline="Alpha"), EntryFactory(post=post, headline="Bravo")
    run_on_commit(workflow.publish, entry=a, user=editor)
    cursor = live.latest_event_id(post)
    run_on_commit(workflow.publish, entry=b, user=editor)
    response = client.get(reverse("liveupdates:post_updates", args=[post.slug]), {"after": cursor})
    data = response.json()
    assert [e["entry"] for e in data["events"]] == [b.pk] and data["last"] > cursor and data["live"] is True
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_poll_endpoint_answers_304_to_a_reader_who_is_up_to_date(client, post):
    url = reverse("liveupdates:post_updates", args=[post.slug])
    first = client.get(url, {"after": 0})
    again = client.get(url, {"after": 0}, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304


@pytest.mark.django_db
@pytest.mark.parametrize("after", ["", "abc", "-1", "1e9", "99999999999999999999999"])
def test_the_poll_endpoint_refuses_a_bad_cursor_with_a_clear_400(client, post, after):
    response = client.get(reverse("liveupdates:post_updates", args=[post.slug]), {"after": after})
    assert response.status_code == 400 and "after" in response.json()["error"]


@pytest.mark.django_db
def test_the_poll_endpoint_of_an_unpublished_post_is_404(client):
    post = LivePostFactory(status=PostStatus.DRAFT, published_at=None)
    assert client.get(reverse("liveupdates:post_updates", args=[post.slug]), {"after": 0}).status_code == 404


@pytest.mark.django_db
def test_the_poll_endpoint_never_carries_unpublished_text(client, run_on_commit, editor, journalist, post):
    draft = EntryFactory(post=post, headline="Secret draft")
    review = EntryFactory(post=post, headline="Secret review")
    run_on_commit(workflow.submit_for_review, entry=review, user=editor)
    withdrawn = EntryFactory(post=post, headline="Secret withdrawn")
    run_on_commit(workflow.publish, entry=withdrawn, user=editor)
    run_on_commit(workflow.withdraw, entry=Entry.objects.get(pk=withdrawn.pk), user=editor, reason="x")
    scheduled = EntryFactory(post=post, headline="Secret scheduled")
    run_on_commit(workflow.publish, entry=scheduled, user=editor, at=timezone.now() + timedelta(hours=1))
    body = client.get(reverse("liveupdates:post_updates", args=[post.slug]), {"after": 0}).content.decode()
    for secret in (draft, review, withdrawn, scheduled):
        assert secret.headline not in body


@pytest.mark.django_db
def test_the_live_page_carries_its_stream_poll_and_cursor(client, post):
    html = client.get(post.get_absolute_url()).content.decode()
    assert f'data-live-stream="/live/{post.slug}/stream/"' in html
    assert f'data-live-poll="/live/{post.slug}/updates.json"' in html
    assert 'data-live-cursor="0"' in html
    assert 'id="new-updates"' in html and 'aria-live="polite"' in html


@pytest.mark.django_db
def test_an_ended_post_does_not_listen(client):
    post = LivePostFactory(coverage_end=timezone.now() - timedelta(minutes=5))
    assert "data-live-stream" not in client.get(post.get_absolute_url()).content.decode()


# --- The stream ----------------------------------------------------------------------------


@pytest_asyncio.fixture
async def fresh_hub():
    stream._hub = None
    yield
    hub = stream._hub
    if hub is not None:
        await hub.stop()  # its connections must not outlive the test database
    stream._hub = None


async def read_events(response, count, timeout=5.0):
    """Read `count` SSE events (id, payload) from a streaming response."""
    iterator = response.streaming_content.__aiter__()
    buffer, found = b"", []
    async with asyncio.timeout(timeout):
        while len(found) < count:
            buffer += await iterator.__anext__()
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                lines = dict(
                    line.split(": ", 1) for line in block.decode().splitlines() if ": " in line and not line.startswith(":")
                )
                if "data" in lines:
                    found.append((int(lines["id"]), json.loads(lines["data"])))
    return found, iterator


def publish_now(post, headline, editor):
    entry = EntryFactory(post=post, headline=headline, created_by=editor)
    workflow.publish(entry=entry, user=editor)
    live.announce_due(post=post)  # what the after-commit hook does; this test commits for real
    return entry


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_reader_who_reconnects_gets_exactly_what_they_missed_in_order(fresh_hub, editor_async):
    editor, post = editor_async
    entries = [await sync_to_async(publish_now)(post, f"Update {n}", editor) for n in range(5)]
    ids = await sync_to_async(lambda: list(LiveEvent.objects.filter(post=post).values_list("pk", flat=True)))()
    response = await AsyncClient().get(
        reverse("liveupdates:post_stream", args=[post.slug]), headers={"Last-Event-ID": str(ids[1])}
    )
    assert response["Content-Type"].startswith("text/event-stream")
    found, iterator = await read_events(response, 3)
    await iterator.aclose()
    assert [event_id for event_id, _ in found] == ids[2:]
    assert [payload["entry"] for _, payload in found] == [e.pk for e in entries[2:]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_connected_reader_receives_a_new_entry_then_its_edit_then_its_withdrawal(fresh_hub, editor_async):
    editor, post = editor_async
    response = await AsyncClient().get(reverse("liveupdates:post_stream", args=[post.slug]), {"after": 0})
    iterator = response.streaming_content.__aiter__()
    assert await anext(iterator) == b"retry: 3000\n\n"

    entry = await sync_to_async(publish_now)(post, "Breaking: strikes on Douma", editor)

    def edit_then_withdraw():
        fresh = Entry.objects.get(pk=entry.pk)
        fresh.body = "<p>Now 14 killed, the LCC says</p>"
        fresh.save()
        workflow.record_edit(entry=fresh, user=editor, created=False)
        live.announce(post_id=post.pk)
        workflow.withdraw(entry=fresh, user=editor, reason="Agency retracted")

    found = []
    buffer = b""
    async with asyncio.timeout(10):
        while len(found) < 1:
            buffer += await anext(iterator)
            found = [b for b in buffer.split(b"\n\n") if b.startswith(b"id:")]
        await sync_to_async(edit_then_withdraw)()
        while not any(json.loads(b.split(b"data: ", 1)[1])["type"] == "remove" for b in found):
            buffer += await anext(iterator)
            found = [b for b in buffer.split(b"\n\n") if b.startswith(b"id:")]
    await iterator.aclose()
    payloads = [json.loads(block.split(b"data: ", 1)[1]) for block in found]
    about_the_entry = [p for p in payloads if p.get("entry") == entry.pk]
    # A stream that reads the edit and the withdrawal in one batch rightly drops the edit:
    # an entry no longer public is never sent again, even as it once was.
    assert [p["type"] for p in about_the_entry] in (["add", "update", "remove"], ["add", "remove"])
    assert "Breaking: strikes on Douma" in about_the_entry[0]["html"]
    if len(about_the_entry) == 3:
        assert "Now 14 killed" in about_the_entry[1]["html"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_entry_published_by_another_process_reaches_a_connected_reader(fresh_hub, editor_async):
    editor, post = editor_async
    response = await AsyncClient().get(reverse("liveupdates:post_stream", args=[post.slug]), {"after": 0})
    iterator = response.streaming_content.__aiter__()
    await anext(iterator)
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings_dict['NAME']}"
    else:
        url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    script = (
        "from liveupdates.models import Entry, LivePost; from liveupdates.editorial import workflow; "
        "from django.contrib.auth import get_user_model; "
        f"post = LivePost.objects.get(pk={post.pk}); editor = get_user_model().objects.get(pk={editor.pk}); "
        "entry = Entry.objects.create(post=post, headline='From the other process', body='<p>Sent by a command</p>'); "
        "workflow.publish(entry=entry, user=editor)"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    process = await asyncio.create_subprocess_exec(sys.executable, "manage.py", "shell", "-c", script, cwd=ROOT, env=env)
    assert await process.wait() == 0
    buffer = b""
    async with asyncio.timeout(10):
        while b"From the other process" not in buffer:
            buffer += await anext(iterator)
    await iterator.aclose()
    assert b'"type":"add"' in buffer


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_stream_of_an_unknown_or_unpublished_post_is_404(fresh_hub):
    draft_post = await sync_to_async(LivePostFactory)(status=PostStatus.DRAFT, published_at=None)
    client = AsyncClient()
    assert (await client.get(reverse("liveupdates:post_stream", args=["no-such-post"]))).status_code == 404
    assert (await client.get(reverse("liveupdates:post_stream", args=[draft_post.slug]))).status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_stream_of_an_ended_post_says_so_and_closes(fresh_hub):
    post = await sync_to_async(LivePostFactory)(coverage_end=timezone.now() - timedelta(minutes=1))
    response = await AsyncClient().get(reverse("liveupdates:post_stream", args=[post.slug]))
    chunks = [chunk async for chunk in response.streaming_content]
    assert b'"type":"coverage","live":false' in b"".join(chunks)


@pytest.fixture
def editor_async(transactional_db):
    from .factories import UserFactory

    # Transactional tests empty every table, the migration-made groups too: a superuser needs none.
    editor = UserFactory(username="live-editor", is_superuser=True)
    return editor, LivePostFactory()


@pytest.mark.django_db
def test_the_hub_replays_from_memory_without_withdrawn_content():
    hub = stream.Hub()
    hub.last_id, hub.floor = 3, 0
    add = (1, 9, 5, {"type": "add", "entry": 5, "html": "<article>secret</article>"}, b"a")
    other = (2, 9, 6, {"type": "add", "entry": 6, "html": "<article>fine</article>"}, b"b")
    remove = (3, 9, 5, {"type": "remove", "entry": 5}, b"c")
    hub.recent.extend([add, other, remove])
    hub.removed.add(5)
    replay = asyncio.run(hub.missed(9, 0))
    assert [event_id for event_id, _ in replay] == [2, 3]


def test_malformed_cursors_are_ignored_not_fatal():
    for value in (None, "", "abc", "-5", "1.5", str(2**64)):
        assert live.parse_cursor(value) is None
    assert live.parse_cursor("42") == 42


# --- The lean ASGI endpoint that production routes readers to ------------------------------


async def asgi_call(path, query=b"", headers=(), stop_after=None, timeout=5.0):
    """Drive newsroom.asgi.application like a server; disconnect after `stop_after` body chunks."""
    from newsroom.asgi import application

    sent, disconnect, requested = [], asyncio.Event(), []

    async def receive():
        if not requested:
            requested.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        bodies = [m for m in sent if m["type"] == "http.response.body"]
        if stop_after is not None and len(bodies) >= stop_after:
            disconnect.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    async with asyncio.timeout(timeout):
        await application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start, body


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_asgi_entry_point_streams_a_posts_events_and_ends_when_the_reader_leaves(fresh_hub, editor_async):
    editor, post = editor_async
    entries = [await sync_to_async(publish_now)(post, f"Lean {n}", editor) for n in range(3)]
    ids = await sync_to_async(lambda: list(LiveEvent.objects.filter(post=post).values_list("pk", flat=True)))()
    start, body = await asgi_call(f"/live/{post.slug}/stream/", headers=[(b"last-event-id", str(ids[0]).encode())], stop_after=3)
    assert start["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
    assert body.startswith(b"retry: 3000\n\n")
    assert [int(i) for i in re_ids(body)] == ids[1:]
    assert b"Lean 0" not in body and b"Lean 2" in body
    assert stream.get_hub().readers == 0  # the reader was let go
    assert len(entries) == 3


def re_ids(body):
    import re

    return re.findall(rb"^id: (\d+)$", body, re.M)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_asgi_entry_point_answers_404_for_an_unknown_post(fresh_hub):
    start, body = await asgi_call("/live/no-such-post/stream/")
    assert start["status"] == 404 and b"No such live post" in body


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_asgi_entry_point_hands_every_other_path_to_django(fresh_hub):
    start, body = await asgi_call("/")
    assert start["status"] == 200 and b"<!doctype html>" in body


@pytest.mark.django_db
def test_ending_coverage_in_the_admin_tells_live_readers(client, editor, post, django_capture_on_commit_callbacks):
    client.force_login(editor)
    ended = timezone.localtime(timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:liveupdates_livepost_change", args=[post.pk]),
            {
                "column": post.column.pk,
                "headline": post.headline,
                "slug": post.slug,
                "summary": post.summary,
                "coverage_start_0": timezone.localtime(post.coverage_start).strftime("%Y-%m-%d"),
                "coverage_start_1": timezone.localtime(post.coverage_start).strftime("%H:%M:%S"),
                "coverage_end_0": ended.strftime("%Y-%m-%d"),
                "coverage_end_1": ended.strftime("%H:%M:%S"),
                "lead_image_alt": "",
                "lead_image_credit": "",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    [event] = events(post)
    assert event == {"type": "coverage", "live": False, "public": True, "coverage_end": event["coverage_end"]}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_reader_more_than_a_thousand_events_behind_still_gets_the_removal(fresh_hub, editor_async):
    editor, post = editor_async

    def prepare():
        entry = publish_now(post, "Asleep through a busy hour", editor)
        cursor = live.latest_event_id(post)
        other = PublishedEntryFactory(post=post)
        LiveEvent.objects.bulk_create(
            [
                LiveEvent(post=post, entry=other, kind="update", payload={"type": "update", "entry": other.pk, "html": ""})
                for _ in range(1500)
            ]
        )
        workflow.withdraw(entry=Entry.objects.get(pk=entry.pk), user=editor, reason="Legal")
        return entry, cursor

    entry, cursor = await sync_to_async(prepare)()
    hub = stream.get_hub()
    await hub.start()
    hub.floor = hub.last_id  # the hub restarted after all this: nothing of it in memory
    missed = await hub.missed(post.pk, cursor)
    kinds = [json.loads(message.split(b"data: ", 1)[1])["type"] for _, message in missed]
    assert "remove" in kinds and len(missed) > 1000


def test_an_entry_published_with_an_earlier_time_carries_its_place_in_the_timeline(client, run_on_commit, editor, post):
    """live.js puts an added entry where a fresh page lists it, by data-order (the exact publication time), not on top."""
    later = EntryFactory(post=post, headline="Published first, at 12:00")
    earlier = EntryFactory(post=post, headline="Published second, dated 11:00")
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    run_on_commit(workflow.publish, entry=later, user=editor, at=noon)
    run_on_commit(workflow.publish, entry=earlier, user=editor, at=noon - timedelta(hours=1, microseconds=-250))
    orders = {
        int(pk): int(order)
        for payload in LiveEvent.objects.filter(post=post, kind="add").values_list("payload", flat=True)
        for pk, order in re.findall(r'data-entry="(\d+)" data-order="(\d+)"', payload["html"])
    }
    assert orders[later.pk] - orders[earlier.pk] == 3_600_000_000 - 250  # microseconds: finer than <time datetime>
    page = client.get(post.get_absolute_url()).content.decode()
    assert page.index(f'data-entry="{later.pk}" data-order="{orders[later.pk]}"') < page.index(f'data-entry="{earlier.pk}"')
