"""Proposed edits in a real browser (issue 13): readers keep the published words until an editor approves."""

import os

import pytest
from playwright.sync_api import expect

from liveupdates.delivery import live
from liveupdates.models import EditProposal, ProposalStatus

from .factories import LivePostFactory, PublishedEntryFactory, UserFactory
from .test_accessibility import violations
from .test_browser import PASSWORD

pytestmark = [pytest.mark.browser]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

OLD, NEW = "Jets struck Sukayk at dawn", "Jets struck Sukayk at noon, the civil defence says"


@pytest.fixture
def newsroom(asgi_server):
    from .browser import ensure_roles

    ensure_roles()
    jo = UserFactory(username="jo", group="Journalists")
    UserFactory(username="ed", group="Editors")
    post = LivePostFactory(headline="Russian jets strike Daraa province again")
    entry = PublishedEntryFactory(post=post, created_by=jo, headline="Strikes on Sukayk", body=f"<p>{OLD}.</p>")
    live.announce_entry(entry.pk)
    return post, entry


def logged_in(browser, server, username):
    # bypass_csp: axe is injected as a script, which our own CSP rightly refuses.
    page = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(server.url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#logout-form")).to_have_count(1)
    return page


def test_a_journalist_proposes_readers_keep_the_old_words_until_the_editor_approves(browser, asgi_server, newsroom):
    post, entry = newsroom
    reader = browser.new_context().new_page()
    reader.goto(asgi_server.url + f"/live/{post.slug}/")
    article = reader.locator(f"#entry-{entry.pk}, [data-entry='{entry.pk}']").first
    expect(article).to_contain_text(OLD)

    jo = logged_in(browser, asgi_server, "jo")
    jo.goto(asgi_server.url + f"/admin/liveupdates/livepost/{post.pk}/desk/")
    jo.locator(f"#desk-entry-{entry.pk}").get_by_role("link", name="Propose an edit").click()
    jo.wait_for_function("() => window.CKEDITOR && CKEDITOR.instances.id_body && CKEDITOR.instances.id_body.status === 'ready'")
    assert violations(jo) == []
    jo.evaluate("text => CKEDITOR.instances.id_body.setData('<p>' + text + '.</p>')", NEW)
    jo.get_by_role("button", name="Send the edit to an editor").click()
    expect(jo.locator(".messagelist")).to_contain_text("was sent to the editors")
    assert EditProposal.objects.get().status == ProposalStatus.WAITING

    # The open page and a fresh one still show the published words, and only them.
    fresh = browser.new_context().new_page()
    fresh.goto(asgi_server.url + f"/live/{post.slug}/")
    expect(fresh.locator("main")).to_contain_text(OLD)
    expect(fresh.locator("main")).not_to_contain_text("at noon")
    expect(article).not_to_contain_text("at noon")

    ed = logged_in(browser, asgi_server, "ed")
    ed.goto(asgi_server.url + "/admin/liveupdates/entry/review/")
    proposal = ed.locator(".nl-proposal", has_text="Strikes on Sukayk")
    expect(proposal.locator("del")).to_contain_text("dawn.")
    expect(proposal.locator("ins")).to_contain_text("noon, the civil defence says.")
    assert violations(ed) == []
    # On a 390 px phone the queue, its diff and its side-by-side view fit without sideways scrolling.
    ed.set_viewport_size({"width": 390, "height": 844})
    proposal.locator("summary", has_text="Side by side").click()
    ed.wait_for_timeout(300)
    assert ed.evaluate("document.documentElement.scrollWidth") <= 390
    ed.set_viewport_size({"width": 1280, "height": 1000})
    proposal.get_by_role("button", name="Approve and publish the edit").click()
    expect(ed.locator(".messagelist")).to_contain_text("is published")

    # The reader who kept the page open gets the new words live; a fresh page has them too.
    expect(article).to_contain_text(NEW, timeout=15000)
    expect(article).not_to_contain_text(OLD)
    fresh.reload()
    expect(fresh.locator("main")).to_contain_text(NEW)
