"""The live page everywhere in a real browser: an embed on another site, teasers and "What we know" updating live.

The host page is served by a small HTTP server the test starts on another port (another
origin); the site runs in uvicorn (tests/browser.py) with that origin in
NEWSROOM_EMBED_ORIGINS, and teasers refreshing every second.
"""

import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from liveupdates.editorial import workflow
from liveupdates.models import Entry, LivePost

from .browser import free_port, require_chromium, start_server
from .factories import LivePostFactory, PublishedEntryFactory, UserFactory
from .test_accessibility import violations
from .test_browser import shoot

pytestmark = [pytest.mark.browser]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARRIVES = 8000  # ms: an event through the stream, or a teaser's next refresh


class Host:
    """Another site: answers every path with the page the test gives it."""

    def __init__(self):
        self.html = "<!doctype html><title>empty</title>"
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = host.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hosts():
    allowed, refused = Host(), Host()
    yield allowed, refused
    allowed.stop()
    refused.stop()


@pytest.fixture
def site_server(transactional_db, settings, monkeypatch, hosts):
    """uvicorn with the first host's origin allowed to embed, and teasers refreshed every second."""
    require_chromium()
    monkeypatch.setenv("NEWSROOM_EMBED_ORIGINS", hosts[0].url)
    monkeypatch.setenv("NEWSROOM_TEASER_POLL_SECONDS", "1")
    server = start_server(settings.MEDIA_ROOT)
    yield server
    server.stop()


@pytest.fixture
def live_post(site_server):
    from .browser import ensure_roles

    ensure_roles()
    post = LivePostFactory(headline="Russian jets strike Daraa province again")
    for _ in range(2):
        PublishedEntryFactory(post=post, announced_at=post.published_at)
    return post, UserFactory(username="desk-editor", is_superuser=True)


def publish(post, editor, headline):
    entry = Entry.objects.create(post=post, headline=headline, body="<p>Residents describe shelling.</p>", created_by=editor)
    workflow.publish(entry=entry, user=editor)
    return Entry.objects.get(pk=entry.pk)


def snippet(server, path):
    return (
        f'<iframe data-newsroom-embed src="{server.url}{path}" title="Live coverage" '
        f'style="width:100%;height:600px;border:0"></iframe><script src="{server.url}/embed.js" async></script>'
    )


def host_page(body):
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A partner</title></head>'
        '<body style="font-family:sans-serif;max-width:44rem;margin:1rem auto;padding:0 1rem">'
        "<h1>A partner site: Syria today</h1><p>Our partner's article text, then their live coverage:</p>"
        f'{body}<p id="after">The partner page goes on after the embed.</p></body></html>'
    )


def height(page):
    return page.evaluate("() => document.querySelector('iframe').getBoundingClientRect().height")


def test_an_embed_on_another_site_sizes_itself_shows_a_new_entry_live_and_loses_a_withdrawn_one(
    site_server, hosts, live_post, page
):
    post, editor = live_post
    post.what_we_know = "Three villages were struck overnight\nThe road to Daraa is closed"
    post.save()
    host = hosts[0]
    host.html = host_page(snippet(site_server, f"/live/{post.slug}/embed/"))
    page.goto(host.url + "/article")
    frame = page.frame_locator("iframe[data-newsroom-embed]")
    expect(frame.locator("#entries [data-entry]")).to_have_count(2)
    expect(page.locator("iframe[data-newsroom-sized]")).to_have_count(1, timeout=ARRIVES)
    first = height(page)
    inner = page.frames[1].evaluate("() => Math.ceil(document.documentElement.getBoundingClientRect().height)")
    assert first != 600 and abs(first - inner) <= 1  # sized to its content, not a fixed height

    entry = publish(post, editor, "Shelling reported in Zorvathi")
    expect(frame.locator("#entries")).to_contain_text("Shelling reported in Zorvathi", timeout=ARRIVES)
    page.wait_for_function(f"() => document.querySelector('iframe').getBoundingClientRect().height > {first}", timeout=ARRIVES)
    shoot(page, "embed-on-another-site", full_page=True)

    workflow.withdraw(entry=entry, user=editor, reason="Unverified.")
    expect(frame.locator("#entries")).not_to_contain_text("Zorvathi", timeout=ARRIVES)
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('iframe').getBoundingClientRect().height - {first}) <= 1", timeout=ARRIVES
    )
    # Links open on our site, in a new tab, not inside the host's page.
    assert page.frames[1].evaluate("() => document.querySelector('base').target") == "_blank"


def test_a_site_not_in_the_list_cannot_frame_the_embed(site_server, hosts, live_post, page):
    post, _ = live_post
    refused = hosts[1]
    refused.html = host_page(snippet(site_server, f"/live/{post.slug}/embed/"))
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "frame-ancestors" in message.text else None)
    page.goto(refused.url + "/article")
    page.wait_for_timeout(1500)
    expect(page.frame_locator("iframe").locator("#entries")).to_have_count(0)
    assert blocked, "Chromium should report the frame-ancestors refusal"


def test_a_message_from_another_origin_cannot_resize_the_embed(site_server, hosts, live_post, page):
    post, _ = live_post
    host = hosts[0]
    host.html = host_page(snippet(site_server, f"/live/{post.slug}/embed/"))
    page.goto(host.url + "/article")
    expect(page.locator("iframe[data-newsroom-sized]")).to_have_count(1, timeout=ARRIVES)
    before = height(page)
    # The host page itself (another origin than ours) posts a forged height to itself.
    page.evaluate("() => window.postMessage({type: 'newsroom-embed:height', height: 5}, '*')")
    page.wait_for_timeout(300)
    assert height(page) == before


def test_a_teaser_on_the_home_page_and_on_another_site_updates_live_and_follows_a_withdrawal(
    site_server, hosts, live_post, page, context
):
    post, editor = live_post
    post.what_we_know = "Three villages were struck overnight\nThe road to Daraa is closed"
    post.save()
    host = hosts[0]
    host.html = host_page(snippet(site_server, f"/live/{post.slug}/teaser/"))
    page.goto(site_server.url + "/")
    other = context.new_page()
    other.goto(host.url + "/front")
    teaser = page.locator(f'[data-teaser="{post.slug}"]')
    embedded = other.frame_locator("iframe").locator(f'[data-teaser="{post.slug}"]')
    expect(teaser).to_have_count(1)
    expect(embedded).to_have_count(1)

    entry = publish(post, editor, "Convoy reaches Daraa")
    expect(teaser).to_contain_text("Convoy reaches Daraa", timeout=ARRIVES)
    expect(embedded).to_contain_text("Convoy reaches Daraa", timeout=ARRIVES)
    shoot(page.locator(".post-list--live"), "teaser-home")
    expect(teaser.locator("time[data-ago]")).not_to_contain_text(":", timeout=ARRIVES)  # "now", "2 minutes ago"

    workflow.withdraw(entry=entry, user=editor, reason="Unverified.")
    expect(teaser).not_to_contain_text("Convoy", timeout=ARRIVES)
    expect(embedded).not_to_contain_text("Convoy", timeout=ARRIVES)

    workflow.unpublish_post(post=LivePost.objects.get(pk=post.pk), user=editor)
    expect(teaser).to_have_count(0, timeout=ARRIVES)
    expect(page.locator("body")).not_to_contain_text(post.headline, timeout=ARRIVES)


def test_what_we_know_updates_live_on_an_open_page(site_server, live_post, page):
    post, editor = live_post
    page.goto(site_server.url + post.get_absolute_url())
    expect(page.locator("#what-we-know")).to_be_hidden()
    post = LivePost.objects.get(pk=post.pk)
    post.what_we_know = "Three villages were struck\nThe road to Daraa is closed"
    post.save()
    workflow.record_post_edit(post=post, user=editor)
    expect(page.locator("#what-we-know li")).to_have_count(2, timeout=ARRIVES)
    expect(page.locator("#what-we-know")).to_contain_text("The road to Daraa is closed")
    workflow.unpublish_post(post=LivePost.objects.get(pk=post.pk), user=editor)
    expect(page.locator("#what-we-know")).to_have_count(0, timeout=ARRIVES)
    assert "Three villages" not in page.content()


@pytest.fixture
def axe_page(browser):
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_the_embed_and_teaser_pages_have_no_accessibility_violations_in_either_theme(axe_page, site_server, live_post):
    post, _ = live_post
    post.what_we_know = "Three villages were struck"
    post.save()
    problems = {}
    for url in (f"/live/{post.slug}/embed/", f"/live/{post.slug}/teaser/"):
        for theme in ("light", "dark"):
            axe_page.goto(f"{site_server.url}{url}?theme={theme}")
            found = violations(axe_page)
            if found:
                problems[f"{url}?theme={theme}"] = found
    assert not problems, problems


def test_a_reader_turns_on_alerts_the_service_worker_registers_and_a_key_event_alert_arrives(
    hosts, settings, monkeypatch, tmp_path, transactional_db, browser
):
    """The browser's own push service needs the internet; here pushManager.subscribe answers with a
    subscription to the test's stand-in push service, and everything else is the real page, worker and server."""
    from django.core.management import call_command

    from liveupdates.models import PushSubscription

    from .test_push import Browser, PushService

    require_chromium()
    service = PushService()
    key_file = tmp_path / "vapid.pem"
    call_command("vapid_keys", "--file", str(key_file), stdout=open(os.devnull, "w"))
    for name, value in {"NEWSROOM_VAPID_PRIVATE_KEY_FILE": str(key_file), "NEWSROOM_PUSH_SERVICES": "http://127.0.0.1"}.items():
        monkeypatch.setenv(name, value)
    settings.NEWSROOM_VAPID_PRIVATE_KEY_FILE, settings.NEWSROOM_PUSH_SERVICES = str(key_file), ["http://127.0.0.1"]
    settings.NEWSROOM_PUSH_IN_BACKGROUND = False
    server = start_server(settings.MEDIA_ROOT)
    context = browser.new_context(base_url=server.url)
    try:
        from .browser import ensure_roles

        ensure_roles()
        post = LivePostFactory()
        editor = UserFactory(username="alert-editor", is_superuser=True)
        reader = Browser(service, "chromium")
        context.grant_permissions(["notifications"], origin=server.url)
        fake = (
            "(() => { const sub = SUBSCRIPTION; const fake = {endpoint: sub.endpoint, toJSON: () => sub};"
            " PushManager.prototype.subscribe = function () { return Promise.resolve(fake); };"
            " PushManager.prototype.getSubscription = function () {"
            " return Promise.resolve(window.__subscribed ? fake : null); }; })()"
        )
        context.add_init_script(fake.replace("SUBSCRIPTION", json.dumps(reader.subscription())))
        page = context.new_page()
        page.goto(post.get_absolute_url())
        alerts = page.locator("section.alerts")
        expect(alerts).to_be_visible()
        alerts.get_by_label("key events only").check()
        alerts.get_by_role("button", name="Turn on alerts").click()
        expect(alerts.locator("[role=status]")).to_contain_text("Alerts are on", timeout=ARRIVES)
        assert page.evaluate(
            "() => navigator.serviceWorker.getRegistration('/').then(r => r && (r.active || r.installing || r.waiting).scriptURL)"
        ).endswith("/sw.js")
        assert list(PushSubscription.objects.values_list("endpoint", "key_events_only")) == [(reader.endpoint, True)]

        entry = publish(post, editor, "Ordinary update")
        entry = publish(post, editor, "Ceasefire announced")
        workflow.set_key_event(entry=entry, user=editor, key_event=True, alert=True)
        received = [reader.read(body) for path, _, body in service.received if path == reader.path]
        assert [alert["body"] for alert in received] == ["Ceasefire announced"]

        page.evaluate("() => { window.__subscribed = true; }")
        alerts.get_by_role("button", name="Stop alerts").click()
        expect(alerts.locator("[role=status]")).to_contain_text("Alerts are off", timeout=ARRIVES)
        assert not PushSubscription.objects.exists()
    finally:
        context.close()
        server.stop()
        service.stop()


def test_under_a_filter_a_matching_entry_appears_and_the_others_are_counted(site_server, live_post, page):
    post, editor = live_post
    page.goto(site_server.url + post.get_absolute_url() + "?key=1")
    expect(page.locator("#entries")).to_contain_text("No entry of this live post matches")
    publish(post, editor, "An ordinary update")
    expect(page.locator("#not-shown")).to_be_visible(timeout=ARRIVES)
    expect(page.locator("#not-shown")).to_contain_text("1 new entries not shown")
    entry = Entry.objects.create(post=post, headline="A key moment", body="<p>Key.</p>", created_by=editor)
    workflow.set_key_event(entry=entry, user=editor, key_event=True)
    workflow.publish(entry=Entry.objects.get(pk=entry.pk), user=editor)
    expect(page.locator("#entries")).to_contain_text("A key moment", timeout=ARRIVES)
    expect(page.locator("#entries")).not_to_contain_text("An ordinary update")
    expect(page.locator("#not-shown")).to_contain_text("1 new entries not shown")


def test_following_from_the_start_a_new_entry_arrives_at_the_end(site_server, live_post, page):
    post, editor = live_post
    page.goto(site_server.url + post.get_absolute_url() + "?order=oldest")
    publish(post, editor, "The newest update")
    expect(page.locator("#entries > [data-entry]").last).to_contain_text("The newest update", timeout=ARRIVES)


def test_the_filtered_page_has_no_accessibility_violations(axe_page, site_server, live_post):
    post, _ = live_post
    problems = {}
    for query in ("?key=1", "?order=newest", "?order=oldest"):
        axe_page.goto(site_server.url + post.get_absolute_url() + query)
        found = violations(axe_page)
        if found:
            problems[query] = found
    assert not problems, problems


def test_each_entry_has_a_copy_link_button_even_one_that_arrives_live(site_server, live_post, browser):
    post, editor = live_post
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_server.url)
    page = context.new_page()
    try:
        page.goto(site_server.url + post.get_absolute_url())
        copies = page.locator("#entries article[data-entry] .entry__share", has_text="Copy link")
        expect(copies).to_have_count(2)
        entry = publish(post, editor, "Shared update")
        article = page.locator(f'#entries [data-entry="{entry.pk}"]')
        expect(article.locator(".entry__share", has_text="Copy link")).to_have_count(1, timeout=ARRIVES)
        article.locator(".entry__share", has_text="Copy link").click()
        expect(article.locator(".entry__share", has_text="Link copied")).to_have_count(1)
        assert page.evaluate("() => navigator.clipboard.readText()") == site_server.url + entry.get_absolute_url()
    finally:
        context.close()


def test_on_a_phone_the_pinned_entry_is_read_once_shortened_and_the_timeline_starts_within_two_screens(
    site_server, live_post, browser
):
    post, editor = live_post
    post.what_we_know = "Three villages were struck overnight\nThe road to Daraa is closed\nTalks resume on Monday"
    post.save()
    long_body = "".join(f"<p>Paragraph {n} of a long pinned summary of the day, with many words in it.</p>" for n in range(12))
    pinned = Entry.objects.create(post=post, headline="The day so far", body=long_body, created_by=editor)
    workflow.publish(entry=pinned, user=editor)
    workflow.pin(entry=Entry.objects.get(pk=pinned.pk), user=editor)
    for n in range(6):
        entry = publish(post, editor, f"Key moment {n}")
        workflow.set_key_event(entry=entry, user=editor, key_event=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(site_server.url + post.get_absolute_url())
        timeline_copy = page.locator(f'#entries [data-entry="{pinned.pk}"]')
        expect(timeline_copy).to_have_class(re.compile("entry--folded"))
        expect(timeline_copy.locator(".entry__body")).to_be_hidden()
        expect(timeline_copy.get_by_role("link", name="Pinned above")).to_be_visible()
        pinned_copy = page.locator(f'#pinned [data-entry="{pinned.pk}"]')
        expect(pinned_copy.get_by_role("button", name="Show more")).to_be_visible()
        expect(page.locator("#key-events li:visible")).to_have_count(3)
        expect(page.get_by_role("button", name="Show all 6 key events")).to_be_visible()
        first_top = page.evaluate("() => document.querySelector('#entries > [data-entry]').getBoundingClientRect().top")
        assert first_top < 2 * 844, first_top
        shoot(page, "live-post-phone-first-screen")

        pinned_copy.get_by_role("button", name="Show more").click()
        expect(pinned_copy.get_by_role("button", name="Show less")).to_be_visible()
        workflow.unpin(entry=Entry.objects.get(pk=pinned.pk), user=editor)
        expect(timeline_copy).not_to_have_class(re.compile("entry--folded"), timeout=ARRIVES)
        expect(timeline_copy.locator(".entry__body")).to_be_visible()
    finally:
        context.close()
