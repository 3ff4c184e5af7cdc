"""Cards in a real browser: a journalist pastes links into the desk, sees each card previewed, publishes,
and a reader sees the cards with no request leaving the site until they click the video.

The networks are a local fixture server (tests/card_server.py); the page server is told to reach it only.
"""

import json
import os

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from liveupdates.editorial import workflow
from liveupdates.models import Card, Entry

from .factories import LivePostFactory, SourceFactory, UserFactory
from .test_browser import log_in, shoot

pytestmark = [pytest.mark.browser]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def server_with_networks(transactional_db, request, card_server, settings, monkeypatch, tmp_path):
    """The page server, started with the fixture server as every network's endpoint."""
    monkeypatch.setenv("NEWSROOM_FETCH_ALLOW", ",".join(settings.NEWSROOM_FETCH_ALLOW))
    monkeypatch.setenv("NEWSROOM_CARD_ENDPOINTS", json.dumps(settings.NEWSROOM_CARD_ENDPOINTS))
    monkeypatch.setenv("NEWSROOM_ARCHIVE_ROOT", str(tmp_path / "server-archive"))
    return request.getfixturevalue("asgi_server"), card_server


def paste(page, text):
    page.evaluate(
        """([text]) => {
            const transfer = new DataTransfer();
            transfer.setData("text/plain", text);
            const editor = CKEDITOR.instances.id_body;
            editor.focus();
            editor.fire("paste", {dataValue: text, method: "paste", dataTransfer: new CKEDITOR.plugins.clipboard.dataTransfer(transfer)});
        }""",
        [text],
    )


LINKS = [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=share", "SMART News Agency"),
    ("https://x.com/Qasioun_News/status/656880287469297664?s=20", "al-Harra and Tell Mutawwaq"),
    ("https://t.me/smartnewsagency/4512", "moving on Sukayk"),
    ("https://www.instagram.com/p/CxYz12AbCdE/", "al-Myassar"),
    ("https://www.facebook.com/LCCSy/posts/pfbid02AbCdEf12345", "Douma"),
    ("https://www.tiktok.com/@smartnews/video/7291234567890123456", "Su-34"),
    ("https://vimeo.com/143123456", "Smoke over Douma"),
    ("https://bsky.app/profile/syriainstitute.org/post/3kxyzabc2de2f", "Submunitions"),
]


def test_a_journalist_pastes_links_sees_the_cards_and_a_reader_gets_them_with_no_third_party_request(
    browser, server_with_networks
):
    from .browser import ensure_roles

    server, networks = server_with_networks
    ensure_roles()
    UserFactory(username="ed", group="Editors")
    SourceFactory(name="SMART News Agency").accounts.create(address="youtube.com/@SMARTNewsAgency")
    post = LivePostFactory(headline="Russian jets strike Daraa province again")

    ed = log_in(browser, server, "ed")
    ed.goto(server.url + f"/admin/liveupdates/livepost/{post.pk}/desk/")
    ed.fill("#id_headline", "What the networks show")
    ed.frame_locator("iframe.cke_wysiwyg_frame").locator("body").click()
    extra = [
        (f"{networks.base}/@isw/111222333444555666", "Aleppo offensive stalls"),
        (f"{networks.base}/page/article/now", "Alaraby Aljadeed"),
    ]
    for link, words in LINKS + extra:
        paste(ed, link)
        expect(ed.locator(".nl-card-preview", has_text=words)).to_be_visible(timeout=10000)
    paste(ed, '<blockquote class="nothing-we-know"><p>x</p></blockquote>')
    expect(ed.locator(".nl-card-previews__error", has_text="names no post from a network we know")).to_be_visible()
    shoot(ed, "card-preview")
    ed.locator(".nl-compose").get_by_role("button", name="Publish").click()
    expect(ed.get_by_text("Your entry is published.")).to_be_visible()
    entry = Entry.objects.get(headline="What the networks show")
    assert entry.cards.count() == len(LINKS) + 2
    assert entry.citations.filter(source__name="SMART News Agency").exists()

    User = get_user_model()
    editor = User.objects.get(username="ed")
    workflow.set_verification(
        entry=Entry.objects.get(pk=entry.pk),
        user=editor,
        state="unverified",
        note="Shared by activist networks; not yet geolocated.",
    )
    youtube = entry.cards.get(provider="youtube")
    workflow.set_card_verification(card=youtube, user=editor, state="verified", method="geolocated")

    reader = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    requested = []
    reader.on("request", lambda request: requested.append(request.url))
    reader.route("https://www.youtube-nocookie.com/**", lambda route: route.abort())
    reader.goto(server.url + post.get_absolute_url())
    cards = reader.locator("#entries .card")
    expect(cards).to_have_count(len(LINKS) + 2)
    expect(reader.locator(".card--youtube")).to_contain_text("SMART News Agency")
    expect(reader.locator(".card--x")).to_contain_text("archived at")
    reader.locator(".card--youtube").scroll_into_view_if_needed()
    reader.wait_for_load_state("networkidle")
    expect(reader.locator(".entry__verification")).to_contain_text("Not independently verified")
    expect(reader.locator(".card--youtube")).to_contain_text("Verified: geolocated by our team")
    box = reader.locator("#entries article").first.bounding_box()
    reader.evaluate("window.scrollTo(0, 0)")
    box = reader.locator("#entries article").first.bounding_box()
    shoot(
        reader,
        "card",
        full_page=True,
        clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": min(box["height"], 820)},
    )
    assert all(url.startswith(server.url) or url.startswith("data:") for url in requested), requested
    assert Card.objects.filter(entry=entry, provider="youtube").exclude(image="").exists()

    reader.locator(".card--youtube .video-facade__link").click()
    expect(reader.locator('iframe[src^="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"]')).to_have_count(1)
    assert any(url.startswith("https://www.youtube-nocookie.com/") for url in requested)  # only now, after the click
