"""The newsroom's writing surface: live desk, review queue, change forms and lists."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from liveupdates.editorial import workflow
from liveupdates.models import Entry, EntryStatus, WorkflowEvent

from .factories import AuthorFactory, EntryFactory, PlaceFactory, PublishedEntryFactory, SourceFactory

pytestmark = pytest.mark.django_db


def desk_url(post):
    return reverse("admin:liveupdates_livepost_desk", args=[post.pk])


def compose(client, post, intent="draft", **fields):
    data = {
        "headline": "Strikes on Douma",
        "body": "<p>Seven strikes on Douma, the LCC says.</p>",
        "tags": "air strikes, Douma",
        "intent": intent,
    }
    data.update(fields)
    return client.post(desk_url(post), data)


def test_journalist_posts_a_draft_from_the_live_desk_with_byline_place_source_and_tags(client, journalist, post):
    author, place, source = AuthorFactory(user=journalist), PlaceFactory(name="Douma"), SourceFactory(name="LCC")
    client.force_login(journalist)
    response = compose(client, post, authors=[author.pk], places=[place.pk], sources=[source.pk])
    assert response.status_code == 302
    entry = Entry.objects.get(headline="Strikes on Douma")
    assert entry.post == post and entry.status == EntryStatus.DRAFT and entry.created_by == journalist
    assert list(entry.authors.all()) == [author] and list(entry.places.all()) == [place]
    assert list(entry.sources.all()) == [source]
    assert sorted(entry.tags.names()) == ["Douma", "air strikes"]
    assert WorkflowEvent.objects.filter(entry=entry, action="created", actor=journalist).exists()
    assert "Your draft was saved" in client.get(response["Location"]).content.decode()


def test_journalist_submits_straight_from_the_desk(client, journalist, post):
    client.force_login(journalist)
    compose(client, post, intent="submit")
    assert Entry.objects.get(headline="Strikes on Douma").status == EntryStatus.IN_REVIEW


def test_a_journalist_who_forges_publish_on_the_desk_gets_a_draft_and_an_explanation(client, journalist, post):
    client.force_login(journalist)
    response = compose(client, post, intent="publish")
    assert Entry.objects.get(headline="Strikes on Douma").status == EntryStatus.DRAFT
    assert "permission to publish" in client.get(response["Location"]).content.decode()


def test_editor_publishes_straight_from_the_desk(client, editor, post):
    client.force_login(editor)
    compose(client, post, intent="publish")
    entry = Entry.objects.get(headline="Strikes on Douma")
    assert entry.status == EntryStatus.PUBLISHED and entry.is_public


def test_the_desk_prefills_the_journalists_own_byline(client, journalist, post):
    author = AuthorFactory(name="Pierre Vaux", user=journalist)
    client.force_login(journalist)
    html = client.get(desk_url(post)).content.decode()
    assert f'<option value="{author.pk}" selected>Pierre Vaux</option>' in html


def test_the_desk_shows_no_publish_control_to_a_journalist(client, journalist, post):
    EntryFactory(post=post, status=EntryStatus.IN_REVIEW, created_by=journalist)
    client.force_login(journalist)
    html = client.get(desk_url(post)).content.decode()
    assert 'value="publish"' not in html and "/workflow/publish/" not in html and "Withdraw" not in html


def test_the_desk_shows_publish_return_and_withdraw_to_an_editor(client, editor, journalist, post):
    EntryFactory(post=post, status=EntryStatus.IN_REVIEW, created_by=journalist)
    PublishedEntryFactory(post=post)
    client.force_login(editor)
    html = client.get(desk_url(post)).content.decode()
    for control in ('value="publish"', "/workflow/publish/", "/workflow/return/", "/workflow/withdraw/", "/workflow/pin/"):
        assert control in html


def test_the_desk_lists_the_posts_entries_newest_first_with_their_status(client, editor, post):
    older = PublishedEntryFactory(post=post, headline="Older", published_at=timezone.now() - timedelta(hours=2))
    newer = PublishedEntryFactory(post=post, headline="Newer", published_at=timezone.now() - timedelta(hours=1))
    waiting = EntryFactory(post=post, headline="Waiting", status=EntryStatus.IN_REVIEW)
    client.force_login(editor)
    html = client.get(desk_url(post)).content.decode()
    assert html.index(waiting.headline) < html.index(newer.headline) < html.index(older.headline)
    assert "In review" in html and "Published" in html


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"body": ""}, "This field is required"),
        ({"places": ["999999"]}, "Select a valid choice"),
        ({"headline": "x" * 300}, "at most 200 characters"),
    ],
)
def test_bad_compose_input_gives_a_form_error_and_keeps_what_was_typed(client, journalist, post, fields, message):
    client.force_login(journalist)
    response = compose(client, post, **fields)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "Seven strikes on Douma" in html or fields.get("body") == ""
    assert not Entry.objects.exists()


def test_a_user_without_add_permission_cannot_post_to_the_desk(client, reader, post):
    client.force_login(reader)
    assert compose(client, post).status_code == 302  # not staff: sent to the login page
    assert not Entry.objects.exists()


def test_review_queue_lists_entries_in_review_oldest_first_across_posts(client, editor, journalist):
    first = EntryFactory(status=EntryStatus.DRAFT, created_by=journalist, headline="Submitted first")
    second = EntryFactory(status=EntryStatus.DRAFT, created_by=journalist, headline="Submitted second")
    workflow.submit_for_review(entry=first, user=journalist)
    workflow.submit_for_review(entry=second, user=journalist)
    EntryFactory(headline="Still a draft")
    client.force_login(editor)
    html = client.get(reverse("admin:liveupdates_entry_review")).content.decode()
    assert html.index("Submitted first") < html.index("Submitted second")
    assert "Still a draft" not in html
    assert first.post.headline in html and second.post.headline in html


def test_the_admin_index_shows_editors_the_review_queue_count(client, editor, journalist):
    EntryFactory(status=EntryStatus.IN_REVIEW, created_by=journalist)
    EntryFactory(status=EntryStatus.IN_REVIEW, created_by=journalist)
    client.force_login(editor)
    assert "Review queue: 2 entries waiting" in client.get(reverse("admin:index")).content.decode()


def test_the_admin_index_does_not_show_journalists_the_queue(client, journalist):
    client.force_login(journalist)
    assert "Review queue" not in client.get(reverse("admin:index")).content.decode()


def test_returned_entry_shows_the_editors_note_to_its_author(client, editor, journalist):
    entry = EntryFactory(status=EntryStatus.IN_REVIEW, created_by=journalist)
    workflow.return_to_author(entry=entry, user=editor, note="Which village exactly?")
    client.force_login(journalist)
    html = client.get(reverse("admin:liveupdates_entry_change", args=[entry.pk])).content.decode()
    assert "Which village exactly?" in html
    assert "/workflow/submit/" in html


def test_the_change_form_never_offers_state_fields_for_editing(client, editor):
    entry = PublishedEntryFactory()
    client.force_login(editor)
    html = client.get(reverse("admin:liveupdates_entry_change", args=[entry.pk])).content.decode()
    for field in ("status", "published_at", "is_pinned", "is_key_event", "review_note"):
        assert f'name="{field}"' not in html


def test_a_forged_status_field_in_the_change_form_is_ignored(client, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist)
    client.force_login(journalist)
    client.post(
        reverse("admin:liveupdates_entry_change", args=[entry.pk]),
        {
            "post": post.pk,
            "headline": "Edited",
            "body": "<p>x</p>",
            "status": "published",
            "published_at": "2020-01-01 00:00",
            "citations-TOTAL_FORMS": "0",
            "citations-INITIAL_FORMS": "0",
            "corrections-TOTAL_FORMS": "0",
            "corrections-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "loaded_version": entry.version,
        },
    )
    entry.refresh_from_db()
    assert entry.headline == "Edited" and entry.status == EntryStatus.DRAFT and entry.published_at is None


def test_editing_a_published_entry_is_recorded(client, editor, post):
    entry = PublishedEntryFactory(post=post)
    client.force_login(editor)
    client.post(
        reverse("admin:liveupdates_entry_change", args=[entry.pk]),
        {
            "post": post.pk,
            "headline": "Corrected",
            "body": "<p>14 civilians, not 15</p>",
            "tags": "",
            "citations-TOTAL_FORMS": "0",
            "citations-INITIAL_FORMS": "0",
            "corrections-TOTAL_FORMS": "0",
            "corrections-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "loaded_version": entry.version,
        },
    )
    event = WorkflowEvent.objects.get(entry=entry, action="edited")
    assert event.actor == editor


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status__exact=in_review",
        "?post__column__id__exact=1",
        "?authors__id__exact=1",
        "?places__id__exact=1",
        "?sources__id__exact=1",
        "?tags__id__exact=1",
        "?q=Douma",
        "?is_key_event__exact=1",
        "?status__exact=bogus",
        "?o=999",
    ],
)
def test_the_entry_list_filters_and_searches_without_errors(client, editor, query):
    PublishedEntryFactory()
    client.force_login(editor)
    response = client.get(reverse("admin:liveupdates_entry_changelist") + query)
    assert response.status_code in (200, 302)


def test_the_entry_list_makes_a_constant_number_of_queries(client, editor, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    PublishedEntryFactory.create_batch(3)
    client.force_login(editor)
    url = reverse("admin:liveupdates_entry_changelist")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    PublishedEntryFactory.create_batch(30)
    with django_assert_max_num_queries(len(few)):
        client.get(url)


def test_bulk_publish_reports_successes_and_refusals(client, editor, journalist):
    ready = EntryFactory(status=EntryStatus.IN_REVIEW, created_by=journalist)
    no_alt = EntryFactory(status=EntryStatus.IN_REVIEW, created_by=journalist, body='<img src="/media/uploads/a.jpg">')
    client.force_login(editor)
    response = client.post(
        reverse("admin:liveupdates_entry_changelist"),
        {"action": "publish_selected", "_selected_action": [ready.pk, no_alt.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "1 entry was published." in html and "no alternative text" in html
    assert Entry.objects.get(pk=ready.pk).status == EntryStatus.PUBLISHED
    assert Entry.objects.get(pk=no_alt.pk).status == EntryStatus.IN_REVIEW


def test_bulk_publish_is_not_offered_to_journalists(client, journalist):
    client.force_login(journalist)
    assert "publish_selected" not in client.get(reverse("admin:liveupdates_entry_changelist")).content.decode()


def test_the_audit_log_is_read_only(client, editor, draft, journalist):
    workflow.submit_for_review(entry=draft, user=journalist)
    client.force_login(editor)
    response = client.get(reverse("admin:liveupdates_workflowevent_changelist"))
    assert response.status_code == 200 and "submitted" in response.content.decode()
    assert client.get(reverse("admin:liveupdates_workflowevent_add")).status_code == 403


def change_form_data(post, version, headline, body):
    return {
        "post": post.pk,
        "headline": headline,
        "body": body,
        "tags": "",
        "loaded_version": version,
        "citations-TOTAL_FORMS": "0",
        "citations-INITIAL_FORMS": "0",
        "corrections-TOTAL_FORMS": "0",
        "corrections-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }


def test_the_second_of_two_concurrent_edits_is_refused_with_what_changed_and_nothing_is_lost(client, editor, post):
    from .factories import UserFactory

    entry = PublishedEntryFactory(post=post, headline="Strikes on Douma", body="<p>Seven strikes.</p>")
    other = UserFactory(username="desk2", group="Editors")
    url = reverse("admin:liveupdates_entry_change", args=[entry.pk])
    loaded_version = Entry.objects.get(pk=entry.pk).version  # both editors open the form now

    client.force_login(other)
    assert (
        client.post(
            url, change_form_data(post, loaded_version, "Strikes on Douma", "<p>Seven strikes, 14 killed.</p>")
        ).status_code
        == 302
    )

    client.force_login(editor)
    response = client.post(url, change_form_data(post, loaded_version, "Air strikes on Douma", "<p>Seven strikes.</p>"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "desk2 saved this entry at" in html and "your changes were not saved" in html
    assert "14 killed" in html  # the text they saved is shown
    saved = Entry.objects.get(pk=entry.pk)
    assert saved.body == "<p>Seven strikes, 14 killed.</p>" and saved.headline == "Strikes on Douma"

    # Reloaded, the editor's change applies on top.
    assert client.post(url, change_form_data(post, saved.version, "Air strikes on Douma", saved.body)).status_code == 302
    assert Entry.objects.get(pk=entry.pk).headline == "Air strikes on Douma"


def test_a_save_without_the_version_it_started_from_is_refused(client, editor, post):
    entry = PublishedEntryFactory(post=post, headline="Kept")
    client.force_login(editor)
    data = change_form_data(post, "", "Overwritten", "<p>x</p>")
    response = client.post(reverse("admin:liveupdates_entry_change", args=[entry.pk]), data)
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert Entry.objects.get(pk=entry.pk).headline == "Kept"


def test_a_desk_entry_whose_publication_is_refused_is_kept_as_a_draft_with_the_reason(client, editor, post):
    from liveupdates.models import Entry, EntryStatus

    client.force_login(editor)
    response = client.post(
        reverse("admin:liveupdates_livepost_desk", args=[post.pk]),
        {
            "headline": "Photo from Douma",
            "body": '<p>Smoke.</p><img src="/media/uploads/a.jpg">',
            "tags": "",
            "intent": "publish",
        },
        follow=True,
    )
    entry = Entry.objects.get(headline="Photo from Douma")
    assert entry.status == EntryStatus.DRAFT
    assert "Your entry was saved as a draft, but" in response.content.decode()
    assert "alternative text" in response.content.decode()


def _actions_page(client, user, entry):
    client.force_login(user)
    return client.get(reverse("admin:liveupdates_entry_change", args=[entry.pk])).content.decode()


def test_an_editor_sees_correct_history_and_a_public_note_on_an_entry_readers_saw(client, editor, post):
    from .factories import PublishedEntryFactory

    entry = PublishedEntryFactory(post=post, announced_at=timezone.now())
    page = _actions_page(client, editor, entry)
    assert "<summary>Correct</summary>" in page
    assert 'name="public_note"' in page
    assert reverse("admin:liveupdates_entry_history", args=[entry.pk]) in page


def test_no_public_note_is_offered_for_an_entry_readers_never_saw(client, editor, post):
    from .factories import PublishedEntryFactory

    entry = PublishedEntryFactory(post=post, published_at=timezone.now() + timedelta(hours=1))
    page = _actions_page(client, editor, entry)
    assert "<summary>Withdraw</summary>" in page
    assert 'name="public_note"' not in page


def test_a_journalist_is_offered_neither_correct_nor_withdraw(client, journalist, post):
    from .factories import PublishedEntryFactory

    entry = PublishedEntryFactory(post=post, created_by=journalist, announced_at=timezone.now())
    page = _actions_page(client, journalist, entry)
    assert "<summary>Correct</summary>" not in page and "<summary>Withdraw</summary>" not in page


def test_the_desk_lists_the_newest_thirty_entries_and_links_to_all_of_them(client, editor, post):
    now = timezone.now()
    for n in range(35):
        PublishedEntryFactory(post=post, headline=f"Update number {n:02d}", published_at=now - timedelta(minutes=35 - n))
    client.force_login(editor)
    html = client.get(desk_url(post)).content.decode()
    assert html.count('class="nl-entry nl-entry--') == 30
    assert "Update number 34" in html and "Update number 05" in html and "Update number 04" not in html
    assert html.index("Update number 34") < html.index("Update number 05")  # newest first
    assert reverse("admin:liveupdates_entry_changelist") + f"?post__id__exact={post.pk}" in html
