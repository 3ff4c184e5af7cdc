"""The desk's pages as served: compact rows, conflicts side by side, no dangerous icon, text that reads apart."""

from django.test import Client
from django.urls import reverse

from liveupdates import richtext
from liveupdates.models import Entry

from .factories import EntryFactory, PublishedEntryFactory, UserFactory
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


def test_the_entry_page_offers_no_red_cross_to_delete_its_live_post(client, editor, post):
    entry = PublishedEntryFactory(post=post)
    client.force_login(editor)
    html = client.get(reverse("admin:liveupdates_entry_change", args=[entry.pk])).content.decode()
    assert 'id="delete_id_post"' not in html


def test_a_stale_save_shows_both_versions_side_by_side_and_the_next_save_keeps_the_merge(client, editor, post):
    entry = PublishedEntryFactory(post=post, headline="Strikes on Douma", body="<p>Seven strikes.</p>")
    url = reverse("admin:liveupdates_entry_change", args=[entry.pk])
    loaded = Entry.objects.get(pk=entry.pk).version
    other = Client()
    other.force_login(UserFactory(username="desk2", group="Editors"))
    other.post(url, change_form_data(post, loaded, "Strikes on Douma", "<p>Seven strikes, 14 killed.</p>"))

    client.force_login(editor)
    response = client.post(url, change_form_data(post, loaded, "Air strikes on Douma", "<p>Seven strikes.</p>"))
    html = response.content.decode()
    assert 'class="nl-conflict"' in html
    assert "Saved by desk2 at" in html and "Yours (still in the form below)" in html
    assert "14 killed" in html and "Air strikes on Douma" in html
    assert f'name="loaded_version" value="{loaded + 1}"' in html  # the form now starts from their version

    merged = change_form_data(post, loaded + 1, "Air strikes on Douma", "<p>Seven strikes, 14 killed.</p>")
    assert client.post(url, merged).status_code == 302
    saved = Entry.objects.get(pk=entry.pk)
    assert (saved.headline, saved.body) == ("Air strikes on Douma", "<p>Seven strikes, 14 killed.</p>")


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
