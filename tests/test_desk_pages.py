"""The desk's pages as served: compact rows, conflicts side by side, no dangerous icon, text that reads apart."""

import json

from bs4 import BeautifulSoup
from django.test import Client
from django.urls import reverse

from liveupdates import richtext
from liveupdates.models import Entry

from .factories import CitationFactory, EntryFactory, PublishedEntryFactory, SourceFactory, UserFactory
from .test_admin import change_form_data


def test_a_huge_draft_takes_a_few_lines_on_the_desk_and_says_it_is_too_long(client, journalist, post):
    EntryFactory(post=post, created_by=journalist, body="<p>" + "word " * 44_800 + "</p>")  # 224,000 characters
    client.force_login(journalist)
    html = client.get(reverse("admin:liveupdates_livepost_desk", args=[post.pk])).content.decode()
    assert "This text is 224,007 characters long" in html
    assert html.count("word ") < 100  # the first lines only, not the whole text


def test_a_long_entry_on_the_desk_shows_its_first_lines_and_show_more(client, journalist, post):
    EntryFactory(post=post, created_by=journalist, body="<p>" + "Strikes continued. " * 100 + "</p>")
    client.force_login(journalist)
    html = client.get(reverse("admin:liveupdates_livepost_desk", args=[post.pk])).content.decode()
    assert "Show more" in html and "nl-entry__excerpt" in html


def test_a_desk_row_names_each_cited_source_once_in_the_order_first_cited(client, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist)
    reuters, sohr = SourceFactory(name="Reuters"), SourceFactory(name="SOHR")
    CitationFactory(entry=entry, source=reuters, url="https://example.org/first-report")
    CitationFactory(entry=entry, source=sohr)
    CitationFactory(entry=entry, source=reuters, url="https://example.org/second-report")
    client.force_login(journalist)
    html = client.get(reverse("admin:liveupdates_livepost_desk", args=[post.pk])).content.decode()
    row = BeautifulSoup(html, "html.parser").find(string=lambda text: text and "Reuters" in text)
    assert row is not None and "Reuters, SOHR" in row and row.count("Reuters") == 1, row


def test_the_entry_page_offers_no_red_cross_to_delete_its_live_post(client, journalist, editor, superuser, post):
    # A draft: its post is still a choice (a select with its related links); a published entry's is read-only.
    entry = EntryFactory(post=post, created_by=journalist)
    for user in (journalist, editor, superuser):
        client.force_login(user)
        html = client.get(reverse("admin:liveupdates_entry_change", args=[entry.pk])).content.decode()
        assert 'id="view_id_post"' in html  # the post's own widget is there
        assert 'id="delete_id_post"' not in html and "Delete selected live post" not in html


def conflict(client, editor, post, *, theirs, mine, headline=("Strikes on Douma", "Air strikes on Douma")):
    """desk2 saves `theirs` while `editor` edits the same version; `editor`'s save of `mine` is refused."""
    entry = PublishedEntryFactory(post=post, headline=headline[0], body="<p>Seven strikes.</p>")
    url = reverse("admin:liveupdates_entry_change", args=[entry.pk])
    loaded = Entry.objects.get(pk=entry.pk).version
    other = Client()
    other.force_login(UserFactory(username="desk2", group="Editors"))
    assert other.post(url, change_form_data(post, loaded, headline[0], theirs)).status_code == 302
    client.force_login(editor)
    response = client.post(url, change_form_data(post, loaded, headline[1], mine))
    assert response.status_code == 200
    return entry, url, loaded, response


def versions_in(html):
    """The JSON the page hands merge.js."""
    found = BeautifulSoup(html, "html.parser").find("script", id="nl-conflict-versions")
    return json.loads(found.string)


def test_a_stale_save_shows_both_versions_side_by_side_and_the_next_save_keeps_the_merge(client, editor, post):
    entry, url, loaded, response = conflict(
        client, editor, post, theirs="<p>Seven strikes, 14 killed.</p>", mine="<p>Seven strikes.</p>"
    )
    html = response.content.decode()
    assert 'class="nl-conflict"' in html
    assert "Theirs: saved by desk2 at" in html and "Yours: what you typed (still in the form below)" in html
    assert "14 killed" in html and "Air strikes on Douma" in html
    assert f'name="loaded_version" value="{loaded + 1}"' in html  # the form now starts from their version

    merged = change_form_data(post, loaded + 1, "Air strikes on Douma", "<p>Seven strikes, 14 killed.</p>")
    assert client.post(url, merged).status_code == 302
    saved = Entry.objects.get(pk=entry.pk)
    assert (saved.headline, saved.body) == ("Air strikes on Douma", "<p>Seven strikes, 14 killed.</p>")


def test_a_conflict_marks_word_by_word_what_each_version_has_that_the_other_lacks(client, editor, post):
    _, _, _, response = conflict(
        client,
        editor,
        post,
        theirs="<p>Seven strikes, 14 killed.</p><p>Shelling went on.</p>",
        mine="<p>Seven strikes.</p><p>Shelling went on.</p>",
    )
    page = BeautifulSoup(response.content, "html.parser")
    theirs = page.select_one('[data-side="theirs"]')
    mine = page.select_one('[data-side="mine"]')
    assert [str(p) for p in theirs.select("p:not(.nl-conflict__headline)")] == [
        "<p>Seven <del>strikes, 14 killed.</del></p>",
        "<p>Shelling went on.</p>",  # paragraphs stay apart, unchanged ones unmarked
    ]
    assert [str(p) for p in mine.select("p:not(.nl-conflict__headline)")] == [
        "<p>Seven <ins>strikes.</ins></p>",
        "<p>Shelling went on.</p>",
    ]
    assert str(theirs.select_one(".nl-conflict__headline strong")) == "<strong><del>Strikes</del> on Douma</strong>"
    assert str(mine.select_one(".nl-conflict__headline strong")) == "<strong><ins>Air strikes</ins> on Douma</strong>"


def test_a_conflict_hands_the_merge_script_both_versions_and_the_version_to_save_against(client, editor, post):
    entry, _, loaded, response = conflict(
        client, editor, post, theirs="<p>Seven strikes, 14 killed.</p>", mine="<p>Seven strikes.</p>"
    )
    versions = versions_in(response.content.decode())
    assert versions["theirs"] == {
        "headline": "Strikes on Douma",
        "body": "<p>Seven strikes, 14 killed.</p>",
        "version": loaded + 1,
    }
    assert versions["theirs"]["version"] == Entry.objects.get(pk=entry.pk).version
    assert versions["mine"] == {"headline": "Air strikes on Douma", "body": "<p>Seven strikes.</p>"}
    assert versions["who"] == "desk2"
    assert "desk/merge.js" in response.content.decode()


def test_a_merge_saved_against_an_older_version_is_refused_again(client, editor, post):
    entry, url, loaded, _ = conflict(
        client, editor, post, theirs="<p>Seven strikes, 14 killed.</p>", mine="<p>Seven strikes.</p>"
    )
    third = Client()
    third.force_login(UserFactory(username="desk3", group="Editors"))
    assert third.post(url, change_form_data(post, loaded + 1, "Strikes on Douma", "<p>Eight strikes.</p>")).status_code == 302
    response = client.post(url, change_form_data(post, loaded + 1, "Air strikes on Douma", "<p>merged</p>"))
    assert response.status_code == 200 and "desk3 saved this entry at" in response.content.decode()
    assert versions_in(response.content.decode())["theirs"]["version"] == loaded + 2
    assert Entry.objects.get(pk=entry.pk).body == "<p>Eight strikes.</p>"


def test_a_conflict_shows_markup_typed_in_either_version_as_text_never_as_markup(client, editor, post):
    _, _, _, response = conflict(
        client,
        editor,
        post,
        theirs="<p>Watch &lt;i&gt; here</p>",
        mine="<p>Calm &lt;b onclick=x&gt;</p>",
        headline=("<i>x</i>", "<b>y</b>"),
    )
    page = BeautifulSoup(response.content, "html.parser")
    sides = page.select_one("#nl-conflict")
    assert not sides.select("section b, section i, section script")
    assert sides.select_one('[data-side="theirs"] .nl-conflict__headline').get_text() == "<i>x</i>"
    assert "Calm <b onclick=x>" in sides.select_one('[data-side="mine"]').get_text()
    assert "<b" not in page.select_one("#nl-conflict-versions").string  # json_script escapes <


def test_an_open_edit_form_carries_its_autosave_only_for_those_who_may_edit(client, journalist, other_journalist, post):
    entry = EntryFactory(post=post, created_by=journalist)
    url = reverse("admin:liveupdates_entry_change", args=[entry.pk])
    client.force_login(journalist)
    assert 'id="nl-edit"' in client.get(url).content.decode()
    client.force_login(UserFactory(username="ed2", group="Editors"))
    assert 'id="nl-edit"' in client.get(url).content.decode()


def test_paragraphs_read_apart_in_plain_text_and_search_snippets():
    assert richtext.plain_text("<p>Strikes continued overnight.</p><p>SMART reports four dead.</p>") == (
        "Strikes continued overnight. SMART reports four dead."
    )
    assert richtext.plain_text("<ul><li>One</li><li>Two</li></ul>") == "One Two"


def test_a_search_snippet_reads_paragraphs_apart(client, post):
    PublishedEntryFactory(
        post=post, headline="Overnight", body="<p>Strikes continued overnight.</p><p>SMART reports four dead.</p>"
    )
    html = client.get("/search/", {"q": "SMART"}).content.decode()
    snippet = BeautifulSoup(html, "html.parser").find("mark").parent.get_text()
    assert "overnight. SMART reports" in " ".join(snippet.split())  # as a browser shows it (PostgreSQL's has two spaces)
    assert "overnight.SMART" not in html
