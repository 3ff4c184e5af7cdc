"""The live desk at breaking-news pace, in a real browser: post without a reload, see the desk move, never lose a word."""

import os
import re

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from liveupdates.models import Autosave, Entry, EntryStatus

from .factories import LivePostFactory, UserFactory
from .test_accessibility import AXE, TAGS
from .test_browser import PASSWORD, log_in, shoot

pytestmark = [pytest.mark.browser]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def newsroom(asgi_server):
    from .browser import ensure_roles

    ensure_roles()
    UserFactory(username="jo", first_name="", group="Journalists")
    UserFactory(username="sam", group="Journalists")
    UserFactory(username="ed", group="Editors")
    post = LivePostFactory(headline="Russian jets strike Daraa province again")
    return post


def desk(browser, server, post, username, **context):
    page = log_in(browser, server, username) if not context else None
    if context:
        page = browser.new_context(**context).new_page()
        page.goto(server.url + "/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
    page.goto(server.url + f"/admin/liveupdates/livepost/{post.pk}/desk/")
    page.wait_for_function("() => window.CKEDITOR && CKEDITOR.instances.id_body && CKEDITOR.instances.id_body.status === 'ready'")
    return page


def write(page, headline, text):
    page.wait_for_function("() => !document.getElementById('desk') || !('clearing' in document.getElementById('desk').dataset)")
    page.fill("#id_headline", headline)
    page.keyboard.press("Enter")  # moves to the text, never saves
    page.keyboard.type(text)


def test_a_journalist_posts_in_place_with_the_keyboard_and_the_box_clears_and_keeps_focus(browser, asgi_server, newsroom):
    jo = desk(browser, asgi_server, newsroom, "jo")
    jo.evaluate("window.notReloaded = true")
    write(jo, "Strikes near Tell Mutawwaq", "Activists report two air strikes.")
    assert not Entry.objects.exists()  # Enter in the headline saved nothing
    jo.keyboard.press("Control+s")
    row = jo.locator("#desk-entries li.nl-entry", has_text="Strikes near Tell Mutawwaq")
    expect(row).to_contain_text("Draft")
    expect(jo.locator("#compose-status")).to_have_text("Your draft was saved.")
    expect(jo.locator("#id_headline")).to_have_value("")
    expect(jo.locator("#id_headline")).to_be_focused()

    write(jo, "Second strike confirmed", "The civil defence confirms a second strike.")
    jo.keyboard.press("Control+Enter")
    expect(jo.locator("#desk-entries li.nl-entry", has_text="Second strike confirmed")).to_contain_text("In review")
    assert jo.evaluate("window.notReloaded") is True
    assert list(Entry.objects.order_by("pk").values_list("status", flat=True)) == [EntryStatus.DRAFT, EntryStatus.IN_REVIEW]


def test_two_journalists_and_an_editor_see_the_desk_move_without_reloading(browser, asgi_server, newsroom):
    a = desk(browser, asgi_server, newsroom, "jo")
    b = desk(browser, asgi_server, newsroom, "sam")
    ed = desk(browser, asgi_server, newsroom, "ed")
    for page in (a, b, ed):
        page.evaluate("window.notReloaded = true")

    # A submits; B's desk and the editor's desk show it (each desk polls every second: the time
    # itself is measured by bench/desk.py, never asserted here), with who did it.
    write(a, "Shelling in Busra al-Harir", "Local activists report shelling since dawn.")
    a.keyboard.press("Control+Enter")
    on_b = b.locator("#desk-entries li.nl-entry", has_text="Shelling in Busra al-Harir")
    expect(on_b).to_contain_text("In review", timeout=10000)
    expect(b.locator("#desk-activity")).to_contain_text("jo submitted “Shelling in Busra al-Harir” for review")
    on_ed = ed.locator("#desk-entries li.nl-entry", has_text="Shelling in Busra al-Harir")
    expect(on_ed).to_be_visible(timeout=10000)

    # The editor returns it from the desk, in place; A sees "returned" on the desk and in the tab title.
    on_ed.locator("summary", has_text="Return to author").click()
    on_ed.get_by_label("What should the author change?").fill("Which neighbourhood? Add the time.")
    on_ed.get_by_role("button", name="Return with note").click()
    expect(ed.locator("#desk-message")).to_contain_text("was returned to its author")
    expect(a.locator("#desk-returned")).to_contain_text("Shelling in Busra al-Harir", timeout=10000)
    expect(a).to_have_title("(1 returned) Live desk: Russian jets strike Daraa province again | Newsroom Live")
    expect(a.locator("#desk-entries li.nl-entry", has_text="Shelling")).to_contain_text("Which neighbourhood?")

    # B opens their draft to edit it; A's desk says so on that entry.
    write(b, "Curfew in Daraa city", "The governor announced a curfew from 18:00.")
    b.keyboard.press("Control+s")
    on_a = a.locator("#desk-entries li.nl-entry", has_text="Curfew in Daraa city")
    expect(on_a).to_contain_text("Draft", timeout=10000)
    b.locator("#desk-entries li.nl-entry", has_text="Curfew in Daraa city").get_by_role("link", name="Edit").click()
    presence = on_a.locator("[data-presence]")
    expect(presence).to_have_text(re.compile(r"^sam is editing since \d\d:\d\d$"), timeout=5000)
    shoot(a, "live-desk-two-people", full_page=True)
    for page in (a, ed):
        assert page.evaluate("window.notReloaded") is True


def test_an_expired_session_mid_entry_opens_a_login_dialog_and_the_entry_is_sent(browser, asgi_server, newsroom):
    jo = desk(browser, asgi_server, newsroom, "jo")
    write(jo, "Hospital hit in Daraa al-Balad", "The hospital's director says two wards were destroyed.")
    Session.objects.all().delete()  # the session expired while the journalist wrote
    jo.keyboard.press("Control+Enter")
    dialog = jo.locator("dialog.nl-login")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Nothing you typed is lost")
    dialog.get_by_label("Username").fill("jo")
    dialog.get_by_label("Password").fill("wrong password")
    dialog.get_by_role("button", name="Log in and send").click()
    expect(dialog.locator(".errornote")).to_contain_text("correct username and password")
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Log in and send").click()
    expect(jo.locator("#desk-entries li.nl-entry", has_text="Hospital hit in Daraa al-Balad")).to_contain_text("In review")
    expect(dialog).to_have_count(0)
    assert "two wards were destroyed" in Entry.objects.get().body


def test_too_many_wrong_passwords_in_the_login_dialog_say_so_and_keep_the_words(browser, asgi_server, newsroom):
    jo = desk(browser, asgi_server, newsroom, "jo")
    write(jo, "Market shelled in Tafas", "Three shells hit the vegetable market at noon.")
    Session.objects.all().delete()
    jo.keyboard.press("Control+s")
    dialog = jo.locator("dialog.nl-login")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Username").fill("jo")
    for attempt in range(5):
        dialog.get_by_label("Password").fill(f"wrong {attempt}")
        dialog.get_by_role("button", name="Log in and send").click()
        expect(dialog.locator(".errornote")).to_be_visible()
        if attempt < 4:
            expect(dialog.locator(".errornote")).to_contain_text("correct username and password")
            dialog.locator(".errornote").evaluate("note => { note.hidden = true; note.textContent = ''; }")
    expect(dialog.locator(".errornote")).to_contain_text(
        "Too many wrong passwords: this account cannot log in from here for 15 minutes."
    )
    assert "cannot be reached" not in dialog.inner_text()
    assert jo.locator("#id_headline").input_value() == "Market shelled in Tafas"
    assert "Three shells hit the vegetable market" in jo.evaluate("CKEDITOR.instances.id_body.getData()")
    assert not Entry.objects.exists()


def test_a_login_in_another_tab_rotates_the_csrf_token_and_the_entry_is_still_sent(browser, asgi_server, newsroom):
    jo = desk(browser, asgi_server, newsroom, "jo")
    write(jo, "Checkpoint reopened", "The Daraa–Damascus road is open again.")
    other = jo.context.new_page()  # the same browser: logging in again there rotates the token
    other.goto(asgi_server.url + "/admin/")
    old_token = other.evaluate("document.cookie.match(/csrftoken=([^;]+)/)[1]")
    status = other.evaluate(
        """([token, password]) => fetch("/admin/login/", {method: "POST", credentials: "same-origin",
            body: new URLSearchParams({csrfmiddlewaretoken: token, username: "jo", password: password, next: "/admin/"})})
            .then(response => response.status)""",
        [old_token, PASSWORD],
    )
    assert status == 200
    assert other.evaluate("document.cookie.match(/csrftoken=([^;]+)/)[1]") != old_token  # rotated
    jo.bring_to_front()
    jo.locator("#id_headline").focus()
    jo.keyboard.press("Control+s")
    expect(jo.locator("#desk-entries li.nl-entry", has_text="Checkpoint reopened")).to_contain_text("Draft")
    expect(jo.locator("dialog.nl-login")).to_have_count(0)
    assert "CSRF" not in jo.content()


def test_a_failed_save_keeps_the_text_says_so_and_is_retried(browser, asgi_server, newsroom):
    jo = desk(browser, asgi_server, newsroom, "jo")
    failures = []

    def server_restarting(route):
        if len(failures) < 2:
            failures.append(route.request.url)
            route.fulfill(status=502, body="Bad gateway")
        else:
            route.continue_()

    jo.route("**/desk/api/compose/", server_restarting)
    write(jo, "Power cut in Izraa", "Most of the town is without power.")
    jo.keyboard.press("Control+s")
    expect(jo.locator("#compose-status")).to_contain_text("Not sent yet: the server did not answer")
    expect(jo.locator("#desk-entries li.nl-entry", has_text="Power cut in Izraa")).to_contain_text("Draft", timeout=10000)
    assert len(failures) == 2 and Entry.objects.count() == 1

    jo.unroute("**/desk/api/compose/")
    jo.context.set_offline(True)  # the network drops
    write(jo, "Power back in Izraa", "Power returned at 16:40.")
    jo.keyboard.press("Control+s")
    expect(jo.locator("#compose-status")).to_contain_text("the connection failed")
    assert jo.locator("#id_headline").input_value() == "Power back in Izraa"  # nothing cleared while unsent
    jo.context.set_offline(False)
    expect(jo.locator("#desk-entries li.nl-entry", has_text="Power back in Izraa")).to_contain_text("Draft", timeout=15000)


def test_a_paste_the_proxy_refuses_as_too_big_says_so_once_and_keeps_the_text(browser, asgi_server, newsroom):
    # nginx's client_max_body_size answers with its own HTML 413 before Django sees the request:
    # sending the same bytes again cannot help, so the desk says why instead of retrying for ever.
    jo = desk(browser, asgi_server, newsroom, "jo")
    refused = []

    def proxy_refuses(route):
        refused.append(route.request.url)
        route.fulfill(
            status=413, content_type="text/html", body="<html><body><h1>413 Request Entity Too Large</h1></body></html>"
        )

    jo.route("**/desk/api/compose/", proxy_refuses)
    write(jo, "Full text of the ceasefire terms", "Article one. " * 50)
    jo.keyboard.press("Control+s")
    expect(jo.locator("#compose-status")).to_contain_text("too big to send")
    jo.wait_for_timeout(2500)  # a retry would have come after 1 s
    assert len(refused) == 1 and not Entry.objects.exists()
    assert jo.locator("#id_headline").input_value() == "Full text of the ceasefire terms"  # nothing cleared


def test_a_reload_or_a_reopened_tab_offers_to_restore_unsent_words(browser, asgi_server, newsroom):
    jo = desk(browser, asgi_server, newsroom, "jo")
    write(jo, "Strikes on Nawa", "Witnesses count four strikes on Nawa since noon.")
    expect(jo.locator("#compose-status")).to_contain_text("Draft kept on the server", timeout=10000)
    assert Autosave.objects.get().headline == "Strikes on Nawa"
    jo.reload()
    offer = jo.locator(".nl-restore")
    expect(offer).to_contain_text("Strikes on Nawa")
    offer.get_by_role("button", name="Restore them").click()
    expect(jo.locator("#id_headline")).to_have_value("Strikes on Nawa")
    assert "four strikes" in jo.evaluate("CKEDITOR.instances.id_body.getData()")

    context = jo.context
    jo.close()  # the tab is closed, then opened again
    again = context.new_page()
    again.goto(asgi_server.url + f"/admin/liveupdates/livepost/{newsroom.pk}/desk/")
    expect(again.locator(".nl-restore")).to_contain_text("Strikes on Nawa")


def test_the_desk_fits_a_390_px_phone(browser, asgi_server, newsroom):
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    ed = desk(browser, asgi_server, newsroom, "ed", **phone)
    write(ed, "Long headline about the strikes on the southern countryside of Daraa", "Text. " * 400)
    ed.locator(".nl-compose").get_by_role("button", name="Publish now").click()
    expect(ed.locator("#desk-entries li.nl-entry").first).to_contain_text("Published")
    expect(ed.locator("#desk-entries li.nl-entry").first.locator("summary", has_text="Show more")).to_be_visible()
    for path in (
        f"/admin/liveupdates/livepost/{newsroom.pk}/desk/",
        "/admin/liveupdates/entry/",
        "/admin/liveupdates/entry/review/",
        f"/admin/liveupdates/entry/{Entry.objects.get().pk}/change/",
    ):
        ed.goto(asgi_server.url + path)
        ed.wait_for_timeout(300)
        width = ed.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px phone"
    ed.goto(asgi_server.url + f"/admin/liveupdates/livepost/{newsroom.pk}/desk/")
    shoot(ed, "live-desk-phone")


def phone_photo(path, size):
    from PIL import Image

    Image.new("RGB", size, (120, 90, 60)).save(path, format="JPEG", quality=40)
    return path


def test_a_60_megapixel_photo_with_caption_and_credit_is_scaled_and_published_captioned(browser, asgi_server, newsroom, tmp_path):
    ed = desk(browser, asgi_server, newsroom, "ed")
    write(ed, "Smoke over Nawa", "Smoke rose over Nawa after the strikes.")
    panel = ed.locator(".nl-photo")
    panel.locator("#photo-file").set_input_files(str(phone_photo(tmp_path / "phone.jpg", (9000, 6700))))
    panel.get_by_role("button", name="Add the photo to the text").click()
    expect(panel.locator(".nl-photo__status")).to_contain_text("Describe what the photo shows")
    panel.get_by_label("What the photo shows").fill("Smoke rising over the rooftops of Nawa")
    panel.get_by_label("Caption").fill("Smoke over Nawa on Tuesday.")
    panel.get_by_label("Credit").fill("SMART News Agency")
    panel.get_by_role("button", name="Add the photo to the text").click()
    # Decoding and scaling 60 megapixels takes seconds, more on a machine running other suites.
    expect(panel.locator(".nl-photo__status")).to_have_text("The photo is in the text.", timeout=60000)
    frame = ed.frame_locator("iframe.cke_wysiwyg_frame")
    preview = frame.locator('figure img[src*="_4096x3049"]')
    expect(preview).to_have_count(1)
    assert preview.evaluate("img => img.getBoundingClientRect().width <= document.body.clientWidth")
    ed.locator(".nl-compose").get_by_role("button", name="Publish now").click()
    expect(ed.locator("#desk-entries li.nl-entry", has_text="Smoke over Nawa")).to_contain_text("Published")

    reader = browser.new_context().new_page()
    reader.goto(asgi_server.url + newsroom.get_absolute_url())
    figure = reader.locator("#entries figure", has=reader.locator('img[alt="Smoke rising over the rooftops of Nawa"]'))
    expect(figure.locator("figcaption")).to_have_text("Smoke over Nawa on Tuesday. SMART News Agency")
    expect(figure.locator("figcaption .credit")).to_have_text("SMART News Agency")
    # The reader's browser loads the photo itself, through the gate that serves a public entry's photos.
    reader.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=figure.locator("img").element_handle(), timeout=10000
    )


def test_an_absurd_photo_is_refused_inline_in_plain_words(browser, asgi_server, newsroom, tmp_path):
    from PIL import Image

    jo = desk(browser, asgi_server, newsroom, "jo")
    Image.new("1", (10000, 9000)).save(tmp_path / "bomb.png", format="PNG")
    dialogs = []
    jo.on("dialog", lambda dialog: dialogs.append(dialog.message) or dialog.dismiss())
    panel = jo.locator(".nl-photo")
    panel.locator("#photo-file").set_input_files(str(tmp_path / "bomb.png"))
    panel.get_by_label("What the photo shows").fill("A test")
    panel.get_by_role("button", name="Add the photo to the text").click()
    expect(panel.locator(".nl-photo__status")).to_contain_text("too large to publish")
    assert dialogs == [] and "Error" not in panel.locator(".nl-photo__status").text_content()


def test_the_server_stopped_and_started_mid_save_loses_nothing(browser, asgi_server, newsroom, settings):
    from .browser import start_server

    jo = desk(browser, asgi_server, newsroom, "jo")
    write(jo, "Bridge at Khirbet Ghazaleh hit", "The bridge on the M5 is cut, residents say.")
    asgi_server.stop()  # a deploy restarts the server while the journalist saves
    jo.keyboard.press("Control+s")
    expect(jo.locator("#compose-status")).to_contain_text("the connection failed. Retrying in")
    restarted = start_server(settings.MEDIA_ROOT, port=asgi_server.port)
    asgi_server.process = restarted.process  # the fixture stops it at the end
    row = jo.locator("#desk-entries li.nl-entry", has_text="Bridge at Khirbet Ghazaleh hit")
    expect(row).to_contain_text("Draft", timeout=20000)
    assert Entry.objects.filter(headline="Bridge at Khirbet Ghazaleh hit").count() == 1


def test_scheduling_from_new_york_says_the_zone_and_asks_before_publishing_a_past_time(browser, asgi_server, newsroom):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    ed = desk(browser, asgi_server, newsroom, "ed", viewport={"width": 1280, "height": 1000}, timezone_id="America/New_York")
    schedule = ed.locator(".nl-schedule")
    schedule.locator("summary").click()
    expect(schedule.locator("[data-zone-label]")).to_have_text("(America/New_York time, your computer's zone)")
    expect(schedule.locator("[data-reader-zone]")).to_have_text("Readers see times in Europe/London time.")

    new_york = ZoneInfo("America/New_York")
    write(ed, "Talks resume in Amman", "Negotiators meet again at noon.")
    past = datetime.now(new_york) - timedelta(hours=2)
    schedule.locator("#compose-at").fill(past.strftime("%Y-%m-%dT%H:%M"))
    questions = []
    ed.once("dialog", lambda dialog: questions.append(dialog.message) or dialog.dismiss())
    schedule.get_by_role("button", name="Schedule").click()
    expect(ed.locator("#compose-status")).to_contain_text("Choose a later time")
    assert "has passed: publish now?" in questions[0] and "America/New_York" in questions[0]
    assert not Entry.objects.exists()

    later = datetime.now(new_york) + timedelta(hours=3)
    schedule.locator("#compose-at").fill(later.strftime("%Y-%m-%dT%H:%M"))
    schedule.get_by_role("button", name="Schedule").click()
    row = ed.locator("#desk-entries li.nl-entry", has_text="Talks resume in Amman")
    expect(row).to_contain_text("Scheduled for")
    entry = Entry.objects.get()
    assert entry.published_at == later.replace(second=0, microsecond=0)  # the New York time, not London's


def test_leaving_with_words_not_yet_kept_asks_first(browser, asgi_server, newsroom):
    jo = desk(browser, asgi_server, newsroom, "jo")
    write(jo, "Unsent", "Words typed a moment ago.")
    asked = []
    jo.on("dialog", lambda dialog: asked.append(dialog.type) or dialog.dismiss())
    jo.close(run_before_unload=True)
    jo.wait_for_timeout(500)
    assert asked == ["beforeunload"]


def test_an_open_edit_form_keeps_unsaved_changes_and_offers_them_back(browser, asgi_server, newsroom):
    from .factories import EntryFactory

    entry = EntryFactory(post=newsroom, created_by=User.objects.get(username="jo"), headline="Checkpoint closed")
    jo = log_in(browser, asgi_server, "jo")
    url = asgi_server.url + f"/admin/liveupdates/entry/{entry.pk}/change/"
    jo.goto(url)
    jo.wait_for_function("() => window.CKEDITOR && CKEDITOR.instances.id_body && CKEDITOR.instances.id_body.status === 'ready'")
    jo.fill("#id_headline", "Checkpoint closed at Khirbet Ghazaleh")
    jo.locator("#id_headline").dispatch_event("input")
    key = f"nl-autosave:{User.objects.get(username='jo').pk}:entry-{entry.pk}"
    jo.wait_for_function(f"() => (localStorage.getItem('{key}') || '').includes('Khirbet')")
    jo.wait_for_timeout(3500)  # the server copy too
    assert Autosave.objects.get(key=f"entry-{entry.pk}").headline == "Checkpoint closed at Khirbet Ghazaleh"
    jo.goto(url)  # the words were never saved with Save
    offer = jo.locator(".nl-restore")
    expect(offer).to_contain_text("not saved")
    offer.get_by_role("button", name="Restore my changes").click()
    expect(jo.locator("#id_headline")).to_have_value("Checkpoint closed at Khirbet Ghazaleh")
    jo.locator("input[name=_save]").click()
    assert Entry.objects.get(pk=entry.pk).headline == "Checkpoint closed at Khirbet Ghazaleh"
    assert not Autosave.objects.filter(key=f"entry-{entry.pk}").exists()


def open_entry(page, server, entry):
    page.goto(server.url + f"/admin/liveupdates/entry/{entry.pk}/change/")
    page.wait_for_function("() => window.CKEDITOR && CKEDITOR.instances.id_body && CKEDITOR.instances.id_body.status === 'ready'")


def put_the_caret_at_the_end(page):
    # Through CKEditor's API, not a click and Ctrl+End: under CI's load a Control modifier
    # once reached the typing, and Ctrl+K (the 'k' of "killed") opened the link dialog.
    page.evaluate(
        """() => {
            const editor = CKEDITOR.instances.id_body;
            editor.focus();
            const range = editor.createRange();
            range.moveToElementEditEnd(editor.editable());
            range.select();
        }"""
    )


def type_at_the_end(page, text):
    put_the_caret_at_the_end(page)
    page.keyboard.type(text)
    # A dialog left open would swallow the next click on Save; say so instead of timing out.
    expect(page.locator(".cke_dialog_container:visible")).to_have_count(0)


def test_two_editors_edit_one_entry_and_the_second_merges_both_versions_word_for_word(browser, asgi_server, newsroom):
    from .factories import PublishedEntryFactory

    UserFactory(username="desk2", group="Editors")
    entry = PublishedEntryFactory(post=newsroom, headline="Strikes on Douma", body="<p>Seven strikes.</p>")
    ed = log_in(browser, asgi_server, "ed")
    other = log_in(browser, asgi_server, "desk2")
    open_entry(ed, asgi_server, entry)
    open_entry(other, asgi_server, entry)

    # desk2 adds the toll and saves first.
    type_at_the_end(other, " 14 killed.")
    other.locator("input[name=_save]").click()
    expect(other.locator(".messagelist")).to_contain_text("was changed successfully")

    # ed, who opened the same version, changes the headline and adds a paragraph.
    ed.fill("#id_headline", "Air strikes on Douma")
    type_at_the_end(ed, "\nRescue teams are searching the rubble.")
    ed.locator("input[name=_save]").click()
    conflict = ed.locator("#nl-conflict")
    expect(conflict).to_be_visible()
    theirs, mine = conflict.locator('[data-side="theirs"]'), conflict.locator('[data-side="mine"]')
    expect(theirs).to_contain_text("saved by desk2")
    expect(theirs.locator("del")).to_contain_text(["14 killed."])
    expect(mine.locator("ins").last).to_have_text("Rescue teams are searching the rubble.")
    expect(mine.locator(".nl-conflict__headline ins")).to_have_text("Air strikes")
    box = theirs.bounding_box(), mine.bounding_box()
    assert box[0]["x"] + box[0]["width"] <= box[1]["x"] and abs(box[0]["y"] - box[1]["y"]) < 5  # side by side
    conflict.scroll_into_view_if_needed()
    shoot(ed, "edit-conflict")
    if AXE.exists():  # the conflict view itself passes axe (the rest of the admin form is not ours to judge here)
        ed.add_script_tag(path=str(AXE))
        found = ed.evaluate(
            "tags => axe.run('#nl-conflict', {runOnly: {type: 'tag', values: tags}}).then(r => r.violations)", TAGS
        )
        assert found == [], found
    cases = [  # [mine, theirs, kept both]
        ["<p>A.</p>", "<p>B.</p>", "<p>A.</p><p>B.</p>"],  # mine, then theirs
        ["<p>A.</p><p>B.</p>", "<p>B.</p><p>A.</p>", "<p>A.</p><p>B.</p>"],  # nothing twice
        ["<p>A. More.</p>", "<p>A.</p>", "<p>A. More.</p>"],  # mine holds theirs whole
        [
            '<p><img src="/x.jpg" alt="x"></p>',
            '<p><img src="/x.jpg" alt="x"></p><p>C.</p>',
            '<p><img src="/x.jpg" alt="x"></p><p>C.</p>',
        ],
    ]
    for mine_html, theirs_html, expected in cases:
        assert ed.evaluate("([m, t]) => NLMerge.keepBoth(m, t)", [mine_html, theirs_html]) == expected

    ed.set_viewport_size({"width": 390, "height": 844})  # on a phone: one version above the other, no sideways scroll
    assert ed.evaluate("document.documentElement.scrollWidth") <= 390
    assert theirs.bounding_box()["y"] + theirs.bounding_box()["height"] <= mine.bounding_box()["y"]
    ed.set_viewport_size({"width": 1280, "height": 1000})

    # Keep both, then finish by hand, then save against desk2's version.
    conflict.get_by_role("button", name="Keep both").click()
    expect(conflict.locator("[data-merge-status]")).to_contain_text("your text with their additions")
    ed.wait_for_function("() => CKEDITOR.instances.id_body.getData().includes('14 killed')")
    conflict.get_by_role("button", name="Edit by hand").click()
    type_at_the_end(ed, " Civil defence confirms.")
    conflict.get_by_role("button", name="Save the merged text").click()
    expect(ed.locator(".messagelist")).to_contain_text("was changed successfully")

    saved = Entry.objects.get(pk=entry.pk)
    assert saved.headline == "Air strikes on Douma"
    assert "Rescue teams are searching the rubble." in saved.body  # mine
    assert "14 killed." in saved.body  # theirs
    assert "Civil defence confirms." in saved.body  # by hand
    # Their longer version of the first paragraph, then mine, finished by hand: nothing said twice.
    paragraphs = [p.get_text(" ", strip=True) for p in BeautifulSoup(saved.body, "html.parser").find_all("p")]
    assert paragraphs == ["Seven strikes. 14 killed.", "Rescue teams are searching the rubble. Civil defence confirms."]


def photo_into_the_editor(page, tmp_path, how):
    """Drop (a DataTransfer on a drop event) or paste (a ClipboardEvent) a JPEG into the editor's text."""
    import base64

    data = base64.b64encode(phone_photo(tmp_path / "dropped.jpg", (800, 600)).read_bytes()).decode()
    page.evaluate(
        """([data, how]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const files = new DataTransfer();
            files.items.add(new File([bytes], "IMG_2041.jpg", {type: "image/jpeg"}));
            const editable = CKEDITOR.instances.id_body.editable().$;
            const box = editable.getBoundingClientRect();
            const event = how === "drop"
                ? new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true, clientX: 20, clientY: 20})
                : new ClipboardEvent("paste", {clipboardData: files, bubbles: true, cancelable: true});
            editable.dispatchEvent(event);
        }""",
        [data, how],
    )


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_a_photo_dropped_or_pasted_opens_the_photo_panel_and_is_published_captioned_and_credited(
    browser, asgi_server, newsroom, tmp_path, how
):
    ed = desk(browser, asgi_server, newsroom, "ed")
    write(ed, f"Queue at the bakery ({how})", "People queued for bread from dawn.")
    photo_into_the_editor(ed, tmp_path, how)
    panel = ed.locator(".nl-photo")
    expect(panel.locator(".nl-photo__status")).to_have_text(
        "Your photo is ready: describe it, caption and credit it, then add it to the text."
    )
    expect(panel.get_by_label("What the photo shows")).to_be_focused()
    assert panel.locator("#photo-file").evaluate("input => input.files[0].name") == "IMG_2041.jpg"
    frame = ed.frame_locator("iframe.cke_wysiwyg_frame")
    ed.wait_for_timeout(500)  # CKEditor's own uploader would have put a bare image in by now
    expect(frame.locator("img")).to_have_count(0)

    panel.get_by_label("What the photo shows").fill("People queueing outside a bakery in Daraa")
    panel.get_by_label("Caption").fill("The queue at dawn.")
    panel.get_by_label("Credit").fill("SMART News Agency")
    panel.get_by_role("button", name="Add the photo to the text").click()
    expect(panel.locator(".nl-photo__status")).to_have_text("The photo is in the text.", timeout=30000)
    expect(frame.locator("figure img")).to_have_count(1)
    expect(frame.locator("img")).to_have_count(1)  # the captioned photo only, no bare copy
    ed.locator(".nl-compose").get_by_role("button", name="Publish now").click()
    expect(ed.locator("#desk-entries li.nl-entry", has_text="Queue at the bakery")).to_contain_text("Published")

    reader = browser.new_context().new_page()
    reader.goto(asgi_server.url + newsroom.get_absolute_url())
    figure = reader.locator("#entries figure", has=reader.locator('img[alt="People queueing outside a bakery in Daraa"]'))
    expect(figure.locator("figcaption")).to_have_text("The queue at dawn. SMART News Agency")
    expect(figure.locator("figcaption .credit")).to_have_text("SMART News Agency")
