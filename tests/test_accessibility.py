"""axe-core (WCAG 2.2 AA rules) on every public page and on the live desk and review queue, in Chromium."""

import os
from pathlib import Path

import pytest
from django.utils import timezone

from .factories import (
    AuthorFactory,
    CitationFactory,
    LivePostFactory,
    PlaceFactory,
    PublishedEntryFactory,
    SourceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def violations(page):
    if not AXE.exists():
        if os.environ.get("NEWSROOM_REQUIRE_BROWSER"):
            pytest.fail("axe-core is missing: run `npm ci`.")
        pytest.skip("axe-core is not installed: run `npm ci`")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations)", TAGS)
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in found]


@pytest.fixture
def site(asgi_server):
    from .browser import ensure_roles

    ensure_roles()
    post = LivePostFactory(headline="Russian jets strike Daraa province again")
    author, place, source = (
        AuthorFactory(name="Pierre Vaux"),
        PlaceFactory(name="Douma", latitude="33.57", longitude="36.40"),
        SourceFactory(),
    )
    for n in range(3):
        entry = PublishedEntryFactory(
            post=post,
            announced_at=timezone.now(),
            body='<p>Strikes.</p><iframe src="https://www.youtube.com/embed/abcDEF12345" title="Video"></iframe>',
        )
        entry.authors.add(author)
        entry.places.add(place)
        CitationFactory(entry=entry, source=source)
        entry.tags.add("air strikes")
    return {"post": post, "entry": entry, "author": author, "place": place, "source": source}


@pytest.fixture
def axe_page(browser):
    # Injecting axe needs an inline script, which our own CSP rightly refuses.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_public_pages_have_no_accessibility_violations(axe_page, asgi_server, site):
    urls = [
        "/",
        site["post"].get_absolute_url(),
        site["entry"].get_absolute_url(),
        site["post"].column.get_absolute_url(),
        site["author"].get_absolute_url(),
        site["place"].get_absolute_url(),
        site["source"].get_absolute_url(),
        "/tags/air-strikes/",
        "/search/?q=strikes",
        "/no-such-page/",
    ]
    problems = {}
    for url in urls:
        axe_page.goto(asgi_server.url + url)
        found = violations(axe_page)
        if found:
            problems[url] = found
    assert not problems, problems


def test_the_live_desk_and_review_queue_have_no_accessibility_violations(axe_page, asgi_server, site):
    UserFactory(username="ed-axe", group="Editors")
    axe_page.goto(asgi_server.url + "/admin/login/")
    axe_page.fill("#id_username", "ed-axe")
    axe_page.fill("#id_password", "correct horse battery staple")
    axe_page.click("input[type=submit]")
    problems = {}
    for url in (f"/admin/liveupdates/livepost/{site['post'].pk}/desk/", "/admin/liveupdates/entry/review/"):
        axe_page.goto(asgi_server.url + url)
        axe_page.wait_for_timeout(500)  # let the editor and the autocomplete widgets build themselves
        found = violations(axe_page)
        if found:
            problems[url] = found
    assert not problems, problems


def test_keyboard_users_can_skip_to_the_content(page, asgi_server, site):
    page.goto(asgi_server.url + site["post"].get_absolute_url())
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
