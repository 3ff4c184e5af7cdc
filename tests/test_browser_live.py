"""Live readers in a real browser: every copy of an entry follows, and a reader survives the stream's process dying.

The protocol is live.js's (liveupdates/static/liveupdates/live.js): every copy
of an entry carries data-entry="<pk>" (the timeline's, id entry-<pk>; the
pinned slot's, id pinned-entry-<pk>), and a reader whose stream drops polls
the JSON endpoint until a new stream, opened from its cursor, replays what it
missed.
"""

import os
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from liveupdates.editorial import workflow
from liveupdates.models import Entry

from .browser import start_server
from .factories import LivePostFactory, PublishedEntryFactory, UserFactory

pytestmark = [pytest.mark.browser]

# Playwright's sync API keeps an event loop running in the test's thread, and the
# ORM calls these tests make would be refused; they are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The server fixtures come before `page` in every signature: the browser closes first, so
# uvicorn is not left waiting for its open streams when it is stopped.
ARRIVES = 5000  # ms: an event through an open stream
POLLED = 9000  # ms: an event through the poll fallback (every ~5 s)
RECONNECTED = 40000  # ms: a new stream after a restart (the backoff is capped at 30 s)


@pytest.fixture
def live_post(asgi_server):
    post = LivePostFactory(headline="Russian jets strike Daraa province again")
    for minutes in (30, 20, 10):
        PublishedEntryFactory(post=post, published_at=timezone.now() - timedelta(minutes=minutes), announced_at=timezone.now())
    editor = UserFactory(username="desk-editor", is_superuser=True)
    return post, editor


def publish(post, editor, headline, body="<p>Russian jets struck al-Harra, Qasioun News Network reports.</p>"):
    entry = Entry.objects.create(post=post, headline=headline, body=body, created_by=editor)
    workflow.publish(entry=entry, user=editor)  # autocommit: the live event is appended as in production
    return Entry.objects.get(pk=entry.pk)


def fresh(entry):
    return Entry.objects.get(pk=entry.pk)


def copies(page, entry, within=""):
    return page.locator(f'{within} [data-entry="{entry.pk}"]'.strip())


def words_on_page(page):
    """Everything a reader (or a script, or a saved page) could find: the text and the markup, head included."""
    return page.evaluate("() => document.body.innerText + '\\n' + document.documentElement.outerHTML")


def is_stream(url):
    return re.search(r"/live/[^/]+/stream/", url) is not None


def is_poll(url):
    return "/updates.json" in url


def test_an_open_page_follows_one_entry_pinned_made_a_key_event_corrected_and_withdrawn_in_every_copy(
    asgi_server, live_post, page
):
    post, editor = live_post
    entry = publish(
        post, editor, "Shelling reported in Zorvathi", body="<p>Residents of Jbatakhzarqa describe heavy shelling overnight.</p>"
    )
    page.goto(asgi_server.url + post.get_absolute_url())
    timeline = copies(page, entry, "#entries >")
    pinned = copies(page, entry, "#pinned")
    expect(timeline).to_have_count(1)
    expect(copies(page, entry)).to_have_count(1)

    workflow.pin(entry=fresh(entry), user=editor)
    expect(pinned).to_have_count(1, timeout=ARRIVES)
    expect(page.locator("#pinned")).to_be_visible()
    expect(pinned).to_have_id(f"pinned-entry-{entry.pk}")
    expect(timeline).to_have_id(f"entry-{entry.pk}")
    expect(copies(page, entry)).to_have_count(2)

    workflow.set_key_event(entry=fresh(entry), user=editor, key_event=True)
    expect(timeline.locator(".label--key")).to_have_count(1, timeout=ARRIVES)
    expect(pinned.locator(".label--key")).to_have_count(1, timeout=ARRIVES)
    expect(page.locator("#key-events")).to_contain_text("Shelling reported in Zorvathi", timeout=ARRIVES)

    workflow.correct(entry=fresh(entry), user=editor, text="An earlier version named the wrong district.")
    expect(timeline.locator(".entry__correction")).to_contain_text("the wrong district", timeout=ARRIVES)
    expect(pinned.locator(".entry__correction")).to_contain_text("the wrong district", timeout=ARRIVES)
    expect(copies(page, entry)).to_have_count(2)

    workflow.withdraw(
        entry=fresh(entry), user=editor, reason="The footage was old.", public_note="The footage it described was from 2016."
    )
    expect(pinned).to_have_count(0, timeout=ARRIVES)
    expect(page.locator("#entries")).to_contain_text("The footage it described was from 2016.", timeout=ARRIVES)
    expect(page.locator("#key-events")).not_to_contain_text("Zorvathi", timeout=ARRIVES)
    page.wait_for_function(
        "() => !/Jbatakhzarqa|Zorvathi|wrong district/.test(document.body.innerText + document.documentElement.outerHTML)",
        timeout=ARRIVES,
    )
    words = words_on_page(page)
    for word in ("Jbatakhzarqa", "Zorvathi", "the wrong district"):
        assert word not in words
    text = page.evaluate("document.body.innerText")
    assert text.count("The footage it described was from 2016.") == 1
    assert text.count("This update was removed.") == 1
    expect(copies(page, entry)).to_have_count(1)  # the note, in the timeline, where the entry was
    expect(timeline).to_have_class(re.compile(r"\bentry--removed\b"))
    expect(page.locator("#entries > article")).to_have_count(4)


class StreamProcess:
    """A second uvicorn on the same database that serves only readers' streams (the page routes them there).

    So it can die while the page's own server (pages and the poll endpoint)
    stays up, as a stream process behind a proxy does in production; while it
    is down the route answers what nginx would, 502 Bad Gateway, which makes
    the browser's EventSource give up for good.
    """

    def __init__(self, media_root):
        self.media_root = media_root
        self.server = start_server(media_root)
        self.up = True
        self.opened = []  # monotonic times at which a stream was answered 200

    def kill(self):
        self.up = False
        self.server.process.kill()  # SIGKILL: no goodbye to its readers
        self.server.process.wait(timeout=10)

    def restart(self):
        self.server = start_server(self.media_root, port=self.server.port)
        self.up = True

    def route(self, page):
        def forward(route):
            if not self.up:
                return route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
            parts = urlsplit(route.request.url)
            route.continue_(url=f"{self.server.url}{parts.path}?{parts.query}")

        page.route(is_stream, forward)
        page.on(
            "response",
            lambda response: self.opened.append(time.monotonic()) if is_stream(response.url) and response.status == 200 else None,
        )

    def stop(self):
        self.server.stop()


@pytest.fixture
def stream_process(asgi_server, settings):
    process = StreamProcess(settings.MEDIA_ROOT)
    yield process
    process.stop()


def test_a_reader_keeps_receiving_when_the_stream_process_is_killed_and_gets_the_stream_back_when_it_restarts(
    asgi_server, live_post, stream_process, page
):
    post, editor = live_post
    withdrawn_while_down = publish(post, editor, "Convoy seen near Nawa")
    withdrawn_after = publish(post, editor, "Checkpoint closed at Sheikh Miskin")
    polls = []
    page.on("request", lambda request: polls.append(time.monotonic()) if is_poll(request.url) else None)
    stream_process.route(page)
    page.goto(asgi_server.url + post.get_absolute_url())
    expect(page.locator("#entries > article")).to_have_count(5)

    # The stream works (through the stream process), and nobody polls while it does.
    first = publish(post, editor, "Jets over Busra al-Harir")
    expect(copies(page, first, "#entries >")).to_have_count(1, timeout=ARRIVES)
    assert stream_process.opened and polls == []

    # The stream process dies. The page polls at once, then every few seconds.
    with page.expect_request(lambda request: is_poll(request.url), timeout=3000):
        stream_process.kill()
    while_down = publish(post, editor, "Power cut across Daraa city")
    workflow.withdraw(
        entry=fresh(withdrawn_while_down), user=editor, reason="Misidentified", public_note="The convoy was a wedding party."
    )
    expect(copies(page, while_down, "#entries >")).to_have_count(1, timeout=POLLED)
    expect(page.locator("#entries")).to_contain_text("The convoy was a wedding party.", timeout=POLLED)
    expect(page.locator("#entries")).not_to_contain_text("Convoy seen near Nawa")
    assert stream_process.opened[-1] < polls[0]  # no stream since: these came by polling

    # The stream process comes back: the page opens a new stream and stops polling.
    opened_before = len(stream_process.opened)
    stream_process.restart()
    deadline = time.monotonic() + RECONNECTED / 1000
    while len(stream_process.opened) == opened_before and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert len(stream_process.opened) > opened_before, "the page never opened a new stream"
    page.wait_for_timeout(500)  # a poll already on its way when the stream opened may land
    polls_when_reopened = len(polls)

    after = publish(post, editor, "Schools reopen in Tafas")
    workflow.withdraw(entry=fresh(withdrawn_after), user=editor, reason="Duplicate")
    expect(copies(page, after, "#entries >")).to_have_count(1, timeout=ARRIVES)
    expect(copies(page, withdrawn_after)).to_have_count(0, timeout=ARRIVES)
    expect(page.locator("#entries > article").first).to_have_id(f"entry-{after.pk}")
    page.wait_for_timeout(6000)  # longer than the poll interval
    assert len(polls) == polls_when_reopened, "the page kept polling with its stream open"
    for word in ("Convoy seen near Nawa", "Sheikh Miskin"):
        assert word not in words_on_page(page)


def test_a_reader_catches_up_when_the_only_server_is_killed_and_restarted_on_the_same_port(
    asgi_server, live_post, settings, page
):
    post, editor = live_post
    withdrawn_while_down = publish(post, editor, "Road to Jasim cut")
    withdrawn_after = publish(post, editor, "Bakery hit in Inkhil")
    page.goto(asgi_server.url + post.get_absolute_url())
    first = publish(post, editor, "Sirens in Izra")
    expect(copies(page, first, "#entries >")).to_have_count(1, timeout=ARRIVES)

    # Pages, poll and stream all die with the process; changes go on in the newsroom.
    asgi_server.process.kill()
    asgi_server.process.wait(timeout=10)
    while_down = publish(post, editor, "Hospital in Jasim reports casualties")
    workflow.withdraw(entry=fresh(withdrawn_while_down), user=editor, reason="Not confirmed")
    page.wait_for_timeout(1500)  # the page notices and starts retrying
    asgi_server.process = start_server(settings.MEDIA_ROOT, port=asgi_server.port).process  # the fixture stops this one

    expect(copies(page, while_down, "#entries >")).to_have_count(1, timeout=RECONNECTED)
    expect(copies(page, withdrawn_while_down)).to_have_count(0, timeout=ARRIVES)

    after = publish(post, editor, "Water restored in Inkhil")
    workflow.withdraw(entry=fresh(withdrawn_after), user=editor, reason="Wrong town", public_note="It was in Nawa, not Inkhil.")
    expect(copies(page, after, "#entries >")).to_have_count(1, timeout=RECONNECTED)
    expect(page.locator("#entries")).to_contain_text("It was in Nawa, not Inkhil.", timeout=RECONNECTED)
    expect(page.locator("#entries > article").first).to_have_id(f"entry-{after.pk}")
    words = words_on_page(page)
    for word in ("Road to Jasim cut", "Bakery hit"):
        assert word not in words


def test_an_open_page_is_cleared_and_stops_listening_when_its_post_is_unpublished(asgi_server, live_post, page):
    post, editor = live_post
    entry = publish(
        post, editor, "Shelling reported in Zorvathi", body="<p>Residents of Jbatakhzarqa describe heavy shelling.</p>"
    )
    workflow.pin(entry=fresh(entry), user=editor)
    workflow.set_key_event(entry=fresh(entry), user=editor, key_event=True)
    page.goto(asgi_server.url + post.get_absolute_url())
    expect(copies(page, entry)).to_have_count(2)
    expect(page.locator("#key-events")).to_contain_text("Zorvathi")

    workflow.unpublish_post(post=post, user=editor)
    expect(page.locator("#entries")).to_have_text("This live post has been taken down.", timeout=ARRIVES)
    expect(page.locator("[data-entry]")).to_have_count(0)
    expect(page.locator("#pinned, #key-events-panel")).to_have_count(0)
    words = words_on_page(page)
    for word in ("Jbatakhzarqa", "Zorvathi"):
        assert word not in words

    asked = []
    page.on("request", lambda request: asked.append(request.url) if is_poll(request.url) or is_stream(request.url) else None)
    page.wait_for_timeout(6000)  # longer than the poll interval
    assert asked == []


def test_a_browser_without_event_source_follows_by_polling(asgi_server, live_post, page):
    post, editor = live_post
    page.add_init_script("delete window.EventSource;")
    doomed = publish(post, editor, "Clashes reported in Sanamayn")
    page.goto(asgi_server.url + post.get_absolute_url())
    assert page.evaluate("typeof window.EventSource") == "undefined"
    entry = publish(post, editor, "Aid convoy reaches Tafas")
    workflow.withdraw(entry=fresh(doomed), user=editor, reason="Unconfirmed")
    expect(copies(page, entry, "#entries >")).to_have_count(1, timeout=POLLED)
    expect(copies(page, doomed)).to_have_count(0, timeout=POLLED)
    assert "Sanamayn" not in words_on_page(page)


def test_an_entry_published_with_an_earlier_time_arrives_where_a_fresh_page_lists_it(asgi_server, live_post, page):
    post, editor = live_post
    page.goto(asgi_server.url + post.get_absolute_url())
    before = page.locator("#entries > article").evaluate_all("nodes => nodes.map(n => n.dataset.entry)")
    late = Entry.objects.create(post=post, headline="A report filed late, dated 15 minutes ago", body="<p>Filed late.</p>")
    workflow.publish(entry=late, user=editor, at=timezone.now() - timedelta(minutes=15))
    expect(copies(page, late, "#entries >")).to_have_count(1, timeout=ARRIVES)
    shown = page.locator("#entries > article").evaluate_all("nodes => nodes.map(n => n.dataset.entry)")
    assert shown == [before[0], str(late.pk), *before[1:]]  # between the 10- and 20-minute-old entries
    page.reload()
    assert page.locator("#entries > article").evaluate_all("nodes => nodes.map(n => n.dataset.entry)") == shown
