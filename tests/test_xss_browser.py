"""The XSS corpus in a real browser: no payload runs, whether on page load or arriving live.

The page's Content-Security-Policy would stop most inline script by itself, so
this test turns CSP off (bypass_csp): what it checks is that the sanitiser and the
templates alone let nothing run. tests/test_security_headers.py checks the CSP.
"""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from liveupdates.delivery import live
from liveupdates.editorial import workflow
from liveupdates.models import Entry

from .factories import LivePostFactory, UserFactory
from .xss.checker import PAYLOADS

pytestmark = [pytest.mark.browser]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

TRAP = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xss.push(name + ":" + args.join(",")); };
}
"""


def _publish_payload(post, editor, index, payload, at):
    entry = Entry.objects.create(post=post, headline=payload[:200], body=f"<p>Update {index}</p>{payload}", created_by=editor)
    try:
        workflow.publish(entry=entry, user=editor, at=at)
    except workflow.WorkflowError:  # an <img> without alt text: force it out anyway
        Entry.objects.filter(pk=entry.pk).update(status="published", published_at=at)
    workflow.correct(entry=Entry.objects.get(pk=entry.pk), user=editor, text=payload)
    return entry


def test_no_payload_runs_in_the_browser_on_load_or_when_it_arrives_live(browser, asgi_server):
    editor = UserFactory(username="xss-editor", is_superuser=True)
    post = LivePostFactory(headline="Poisoned post")
    half = len(PAYLOADS) // 2
    for index, payload in enumerate(PAYLOADS[:half]):
        _publish_payload(post, editor, index, payload, timezone.now() - timedelta(minutes=len(PAYLOADS) - index))
    live.announce_due()

    context = browser.new_context(bypass_csp=True)
    context.add_init_script(TRAP)
    page = context.new_page()
    dialogs, outside = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: outside.append(request.url) if "127.0.0.1" not in request.url else None)

    ran = []

    def look_around():
        page.mouse.move(200, 300)
        page.keyboard.press("Tab")
        page.wait_for_timeout(200)
        ran.extend(page.evaluate("window.__xss || []"))

    # Every page of the post, following "older entries".
    page.goto(asgi_server.url + post.get_absolute_url())
    look_around()
    pages = 1
    while page.locator('a[rel="next"]').count() and pages < 20:
        page.locator('a[rel="next"]').first.click()
        page.wait_for_load_state("load")
        look_around()
        pages += 1

    # The other half arrives through the live stream, inserted by live.js.
    page.goto(asgi_server.url + post.get_absolute_url())
    page.wait_for_timeout(400)
    newest = None
    for index, payload in enumerate(PAYLOADS[half:], start=half):
        newest = _publish_payload(post, editor, index, payload, timezone.now())
    expect(page.locator(f"#entry-{newest.pk}")).to_be_attached(timeout=10000)
    look_around()

    assert ran == []
    assert dialogs == []
    assert outside == []
    assert pages >= half // 20  # the walk reached every page
    context.close()
