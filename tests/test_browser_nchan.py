"""A reader in a real browser with the stream held by nchan: live.js subscribes through nginx and catches up on reopening.

Pages come from uvicorn (NEWSROOM_STREAM_ENGINE=nchan, so they carry
data-live-catch-up) behind a real nginx running deploy/nginx-nchan.conf; the
relay runs on a thread of the test.
"""

import json
import os
import threading
import time
import urllib.request

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import expect

from liveupdates.delivery import live, nchan

from .browser import require_chromium, start_server
from .test_browser_live import (
    ARRIVES,
    RECONNECTED,
    copies,
    fresh,
    is_stream,
    live_post,  # noqa: F401  (a fixture)
    publish,
    words_on_page,
)
from .test_nchan import Nchan

pytestmark = [pytest.mark.browser]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class RelayThread(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.done = threading.Event()
        self.start()

    def run(self):
        relay = nchan.Relay()
        try:
            while not self.done.is_set():
                relay.step()
                time.sleep(0.05)
        finally:
            connection.close()

    def stop(self):
        self.done.set()
        self.join(10)


@pytest.fixture
def asgi_server(transactional_db, settings, tmp_path, monkeypatch):
    """uvicorn rendering pages for the nchan engine (the name live_post expects)."""
    require_chromium()
    monkeypatch.setenv("NEWSROOM_STREAM_ENGINE", "nchan")
    server = start_server(settings.MEDIA_ROOT)
    yield server
    server.stop()


@pytest.fixture
def nchan_proxy(asgi_server, settings):
    proxy = Nchan(pages_port=asgi_server.port)
    settings.NEWSROOM_NCHAN_PUBLISH_URL = proxy.publish_url
    yield proxy
    proxy.remove()


def test_a_reader_follows_through_nchan_and_catches_up_after_nginx_restarts_while_the_relay_was_down(
    asgi_server,
    nchan_proxy,
    live_post,  # noqa: F811
    page,
):
    post, editor = live_post
    soon_withdrawn = publish(post, editor, "Convoy seen near Nawa")
    relay = RelayThread()
    streams = []
    page.on("request", lambda request: streams.append(request.url) if is_stream(request.url) else None)
    page.goto(nchan_proxy.url + post.get_absolute_url())
    assert page.locator("[data-live-catch-up]").count() == 1
    expect(copies(page, soon_withdrawn, "#entries >")).to_have_count(1)

    first = publish(post, editor, "Jets over Busra al-Harir")
    expect(copies(page, first, "#entries >")).to_have_count(1, timeout=ARRIVES)

    # Another reader asks the poll what the page would ask on reopening, just before the changes
    # below: nginx's micro-cache (kept on disk across the restart) and the server's head of the
    # post keep that "nothing new" answer a second or two. The page's first catch-up can get it
    # (1 run in 3 did, by chance, before live.js caught up a second time): now it always may.
    up_to_date = f"{nchan_proxy.url}{reverse('liveupdates:post_updates', args=[post.slug])}?after={live.latest_event_id(post)}"
    assert json.load(urllib.request.urlopen(up_to_date, timeout=5))["events"] == []

    # The relay stops: nothing more reaches nchan. Meanwhile the newsroom goes on.
    relay.stop()
    missed = publish(post, editor, "Power cut across Daraa city")
    from liveupdates.editorial import workflow

    workflow.withdraw(entry=fresh(soon_withdrawn), user=editor, reason="Misidentified", public_note="It was a wedding party.")
    # nginx restarts (a deploy): every reader's stream drops and reopens, and each catches up from the poll.
    opened = len(streams)
    nchan_proxy.stop()
    nchan_proxy.start()
    expect(copies(page, missed, "#entries >")).to_have_count(1, timeout=RECONNECTED)
    expect(page.locator("#entries")).to_contain_text("It was a wedding party.", timeout=ARRIVES)
    # The poll may bring the page up to date before its backoff opens the stream again: wait for that too.
    deadline = time.monotonic() + RECONNECTED / 1000
    while len(streams) <= opened and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(streams) > opened, "the page did not subscribe again"

    # A relay again (from the log's end): what is published now arrives through the new subscription.
    relay = RelayThread()
    try:
        after = publish(post, editor, "Schools reopen in Tafas")
        expect(copies(page, after, "#entries >")).to_have_count(1, timeout=ARRIVES)
        expect(page.locator("#entries > article").first).to_have_id(f"entry-{after.pk}")
        assert "Convoy seen near Nawa" not in words_on_page(page)
    finally:
        relay.stop()
