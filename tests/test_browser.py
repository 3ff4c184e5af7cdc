"""Readers in a real browser: entries arrive, change and disappear without a reload."""

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from liveupdates import workflow
from liveupdates.models import Entry

from .factories import LivePostFactory, PublishedEntryFactory, UserFactory

pytestmark = [pytest.mark.browser]

# Playwright's sync API keeps an event loop running in the test's thread, and the
# ORM calls these tests make would be refused; they are synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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
    return entry


def test_a_reader_sees_an_entry_arrive_change_and_disappear_without_reloading(page, asgi_server, live_post):
    post, editor = live_post
    page.goto(asgi_server.url + post.get_absolute_url())
    expect(page.locator("#entries > article")).to_have_count(3)
    page.wait_for_function("() => !!window.EventSource")
    page.wait_for_timeout(300)  # let the stream open

    entry = publish(post, editor, "Strikes on al-Harra")
    arrived = page.locator(f"#entries > article#entry-{entry.pk}")
    expect(arrived).to_be_visible(timeout=5000)
    expect(page.locator("#entries > article").first).to_have_id(f"entry-{entry.pk}")
    expect(page.locator("#live-announcer")).to_contain_text("Strikes on al-Harra")

    fresh = Entry.objects.get(pk=entry.pk)
    fresh.body = "<p>Civilians were wounded in al-Harra, the LCC says.</p>"
    fresh.save()
    workflow.record_edit(entry=fresh, user=editor, created=False)
    expect(arrived).to_contain_text("Civilians were wounded", timeout=5000)
    expect(page.locator("#entries > article").first).to_have_id(f"entry-{entry.pk}")  # updated in place

    workflow.withdraw(entry=Entry.objects.get(pk=entry.pk), user=editor, reason="Footage was old")
    expect(arrived).to_have_count(0, timeout=5000)
    expect(page.locator("#entries > article")).to_have_count(3)


def test_a_reader_who_scrolled_down_is_not_moved_and_gets_a_new_updates_button(page, asgi_server, live_post):
    post, editor = live_post
    for minutes in range(40, 60):
        PublishedEntryFactory(post=post, published_at=timezone.now() - timedelta(minutes=minutes), announced_at=timezone.now())
    page.set_viewport_size({"width": 1000, "height": 700})
    page.goto(asgi_server.url + post.get_absolute_url())
    page.wait_for_timeout(300)
    page.mouse.wheel(0, 2500)
    page.wait_for_timeout(300)
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 1000

    entry = publish(post, editor, "Jets return to Sukayk")
    button = page.locator("#new-updates")
    expect(button).to_be_visible(timeout=5000)
    expect(button).to_have_text("1 new update")
    assert re.match(r"^\(1\) ", page.title())
    assert abs(page.evaluate("window.scrollY") - scrolled) < 5  # nothing jumped
    expect(page.locator(f"#entry-{entry.pk}")).to_have_count(0)

    button.click()
    expect(page.locator("#entries > article").first).to_have_id(f"entry-{entry.pk}")
    expect(button).to_be_hidden()
    assert not page.title().startswith("(")


def test_pinning_and_key_events_update_for_a_reader(page, asgi_server, live_post):
    post, editor = live_post
    page.goto(asgi_server.url + post.get_absolute_url())
    page.wait_for_timeout(300)
    entry = publish(post, editor, "Fourteen killed in Douma")
    expect(page.locator(f"#entries > #entry-{entry.pk}")).to_be_visible(timeout=5000)
    workflow.pin(entry=Entry.objects.get(pk=entry.pk), user=editor)
    expect(page.locator(f"#pinned #entry-{entry.pk}")).to_be_visible(timeout=5000)
    workflow.set_key_event(entry=Entry.objects.get(pk=entry.pk), user=editor, key_event=True)
    expect(page.locator("#key-events")).to_contain_text("Fourteen killed in Douma", timeout=5000)


def test_without_javascript_the_page_still_works_and_older_entries_is_a_link(browser, asgi_server, live_post):
    post, _ = live_post
    for minutes in range(40, 70):
        PublishedEntryFactory(post=post, published_at=timezone.now() - timedelta(minutes=minutes))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(asgi_server.url + post.get_absolute_url())
    expect(page.locator("#entries > article")).to_have_count(20)
    page.get_by_role("link", name="Older entries").click()
    expect(page.locator("#entries > article")).to_have_count(13)
    context.close()


def test_a_video_loads_nothing_from_youtube_until_the_reader_clicks(page, asgi_server, live_post):
    post, editor = live_post
    publish(post, editor, "Su-34 filmed over al-Harra",
            body='<p>Video:</p><iframe src="https://www.youtube.com/embed/abcDEF12345" title="Su-34 over al-Harra"></iframe>')
    third_party = []
    page.on("request", lambda request: third_party.append(request.url) if "127.0.0.1" not in request.url else None)
    page.goto(asgi_server.url + post.get_absolute_url())
    facade = page.locator(".video-facade__link", has_text="Su-34 over al-Harra")
    expect(facade).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    page.wait_for_timeout(300)
    assert third_party == []
    facade.click()
    expect(page.locator('iframe[src^="https://www.youtube-nocookie.com/embed/abcDEF12345"]')).to_have_count(1)
