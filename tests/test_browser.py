"""Readers in a real browser: entries arrive, change and disappear without a reload."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from liveupdates.editorial import workflow
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
    expect(page.locator(f'#pinned [data-entry="{entry.pk}"]')).to_be_visible(timeout=5000)
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
    publish(
        post,
        editor,
        "Su-34 filmed over al-Harra",
        body='<p>Video:</p><iframe src="https://www.youtube.com/embed/abcDEF12345" title="Su-34 over al-Harra"></iframe>',
    )
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


# --- The newsroom's journey, end to end ------------------------------------------------------

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"


def shoot(page, name, **kwargs):
    """Screenshots for the README: written when NEWSROOM_SCREENSHOTS=1 (make screenshots)."""
    if os.environ.get("NEWSROOM_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), **kwargs)


def log_in(browser, server, username):
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(server.url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.get_by_role("link", name="Log out").or_(page.locator("#logout-form"))).to_have_count(1)
    return page


def pick(page, field, text):
    page.locator(f".nl-field--{field} .select2-selection").click()
    page.keyboard.type(text)
    page.locator(".select2-results__option", has_text=text).first.click()


PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def attach_photo(page, alt):
    """Paste a photo into CKEditor (its upload plugin sends it to our uploader), then describe it in the image dialog."""
    page.evaluate(
        """([png]) => {
            const bytes = Uint8Array.from(atob(png), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "strike.png", {type: "image/png"}));
            const editor = CKEDITOR.instances.id_body;
            editor.focus();
            editor.fire("paste", {dataValue: "", method: "paste", dataTransfer: new CKEDITOR.plugins.clipboard.dataTransfer(transfer)});
        }""",
        [PNG_1PX],
    )
    image = page.frame_locator("iframe.cke_wysiwyg_frame").locator('img[src^="/media/uploads/"]')
    panel = page.locator(".nl-photo")
    if panel.count():  # the live desk: a pasted photo opens its photo panel (description, caption, credit)
        expect(panel.get_by_label("What the photo shows")).to_be_focused()
        panel.get_by_label("What the photo shows").fill(alt)
        panel.get_by_role("button", name="Add the photo to the text").click()
        expect(image).to_have_count(1, timeout=30000)  # uploaded, verified and re-encoded by the server
        return
    expect(image).to_have_count(1, timeout=10000)  # uploaded, verified and re-encoded by the server
    image.dblclick()
    page.get_by_label("Alternative Text").fill(alt)
    page.locator(".cke_dialog").get_by_role("button", name="OK").click()


def test_journalist_writes_editor_returns_then_publishes_reader_sees_it_then_it_is_withdrawn(browser, asgi_server):
    from liveupdates.models import Author

    from .browser import ensure_roles
    from .factories import PlaceFactory, SourceFactory

    ensure_roles()
    journalist = UserFactory(username="jo", group="Journalists")
    UserFactory(username="ed", group="Editors")
    Author.objects.create(name="Pierre Vaux", slug="pierre-vaux", user=journalist)
    PlaceFactory(name="Tell Mutawwaq")
    SourceFactory(name="Qasioun News Network")
    post = LivePostFactory(headline="Russian jets strike Daraa province again")
    PublishedEntryFactory(post=post, headline="Earlier update", announced_at=timezone.now())

    reader = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    reader.goto(asgi_server.url + post.get_absolute_url())

    # The journalist writes on the live desk and submits.
    jo = log_in(browser, asgi_server, "jo")
    jo.goto(asgi_server.url + f"/admin/liveupdates/livepost/{post.pk}/desk/")
    jo.fill("#id_headline", "Strikes near Tell Mutawwaq")
    body = jo.frame_locator("iframe.cke_wysiwyg_frame").locator("body")
    body.click()
    body.type("Activists report two air strikes near Tell Mutawwaq.")
    attach_photo(jo, "Smoke rising over Tell Mutawwaq")
    pick(jo, "places", "Tell Mutawwaq")
    pick(jo, "sources", "Qasioun")
    jo.fill("#id_tags", "air strikes")
    expect(jo.locator("button", has_text="Publish")).to_have_count(0)  # never offered to a journalist
    shoot(jo, "live-desk")
    jo.locator(".nl-compose").get_by_role("button", name="Submit for review").click()
    expect(jo.get_by_text("Your entry was sent to the editors for review.")).to_be_visible()
    expect(jo.locator("button", has_text="Publish")).to_have_count(0)

    # The editor finds it in the review queue and returns it with a note.
    ed = log_in(browser, asgi_server, "ed")
    ed.goto(asgi_server.url + "/admin/")
    ed.get_by_role("link", name="Review queue: 1 entry waiting").click()
    shoot(ed, "review-queue", full_page=True)
    item = ed.locator("li.nl-entry", has_text="Strikes near Tell Mutawwaq")
    item.locator("summary", has_text="Return to author").click()
    item.get_by_label("What should the author change?").fill("Which village exactly? Add the time of the strikes.")
    item.get_by_role("button", name="Return with note").click()
    expect(ed.get_by_text("was returned to its author")).to_be_visible()

    # The journalist sees the note, fixes the entry and submits again.
    jo.goto(asgi_server.url + f"/admin/liveupdates/livepost/{post.pk}/desk/")
    mine = jo.locator("li.nl-entry", has_text="Strikes near Tell Mutawwaq")
    expect(mine).to_contain_text("Which village exactly?")
    mine.get_by_role("link", name="Edit").click()
    jo.fill("#id_headline", "Two strikes near Tell Mutawwaq this morning")
    jo.locator("input[name=_save]").click()
    jo.goto(asgi_server.url + f"/admin/liveupdates/livepost/{post.pk}/desk/")
    jo.locator("li.nl-entry", has_text="Two strikes near Tell Mutawwaq").get_by_role("button", name="Submit for review").click()
    expect(jo.locator("li.nl-entry", has_text="Two strikes near Tell Mutawwaq")).to_contain_text("In review")  # in place

    # The editor publishes; the reader, who never reloaded, sees it arrive.
    ed.goto(asgi_server.url + "/admin/liveupdates/entry/review/")
    ed.locator("li.nl-entry", has_text="Two strikes near Tell Mutawwaq").get_by_role("button", name="Publish").click()
    arrived = reader.locator("#entries > article", has_text="Two strikes near Tell Mutawwaq")
    expect(arrived).to_be_visible(timeout=5000)
    expect(arrived).to_contain_text("Pierre Vaux")
    expect(arrived).to_contain_text("Tell Mutawwaq")
    expect(arrived.locator('img[alt="Smoke rising over Tell Mutawwaq"]')).to_have_count(1)

    # The editor withdraws it; it disappears for the reader.
    ed.goto(asgi_server.url + f"/admin/liveupdates/livepost/{post.pk}/desk/")
    entry = ed.locator("li.nl-entry", has_text="Two strikes near Tell Mutawwaq")
    entry.locator("summary", has_text="Withdraw").click()
    entry.get_by_label("Reason (kept in the history)").fill("The agency retracted the report.")
    entry.get_by_role("button", name="Withdraw from the site").click()
    expect(arrived).to_have_count(0, timeout=5000)


def test_the_demo_live_post_on_a_phone_and_on_a_desktop(browser, asgi_server):
    from liveupdates.editorial import demo

    from .browser import ensure_roles

    ensure_roles()
    demo.load(editor=UserFactory(username="demo-editor", is_superuser=True))
    url = asgi_server.url + "/live/russian-jets-strike-daraa-again/"
    phone = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True).new_page()
    phone.goto(url)
    expect(phone.locator("#entries > article").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # nothing overflows sideways
    shoot(phone, "live-post-phone")
    desktop = browser.new_context(viewport={"width": 1280, "height": 1100}).new_page()
    desktop.goto(url)
    expect(desktop.locator("#key-events")).to_contain_text("Fourteen civilians killed in Douma")
    expect(desktop.locator("#pinned .video-facade__link")).to_be_visible()
    shoot(desktop, "live-post-desktop")
