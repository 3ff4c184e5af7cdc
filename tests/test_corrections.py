"""Public corrections and removal notes: readers see what changed and when, never the withdrawn words."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from liveupdates.editorial import workflow
from liveupdates.models import Correction, Entry, LiveEvent

from .factories import EntryFactory, PublishedEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(post, journalist, editor, django_capture_on_commit_callbacks):
    entry = EntryFactory(
        post=post, created_by=journalist, headline="Strikes on Douma", body="<p>Douma lies north-west of Damascus.</p>"
    )
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=entry, user=editor)
    entry.refresh_from_db()
    return entry


def correct(client, entry, **data):
    return client.post(reverse("admin:liveupdates_entry_workflow", args=[entry.pk, "correct"]), data, follow=True)


def test_an_editor_attaches_a_correction_and_readers_see_it_with_its_time(client, editor, published, time_machine):
    # Five minutes after publication (a fixed clock time would fall before it on some afternoons).
    at = published.published_at + timedelta(minutes=5)
    time_machine.move_to(at, tick=False)
    client.force_login(editor)
    response = correct(client, published, kind="correction", text="Douma lies north-east of Damascus, not north-west.")
    assert "readers see it now" in response.content.decode()
    client.logout()
    page = client.get(published.post.get_absolute_url()).content.decode()
    shown = timezone.localtime(at).strftime("%H:%M")
    assert "Correction, <time" in page and f">{shown}</time>:</strong> Douma lies north-east of Damascus, not north-west." in page
    assert '<span class="entry__updated">Updated' in page


def test_an_update_note_reads_update(client, editor, published):
    workflow.correct(entry=published, user=editor, text="The toll rose to 14.", kind="update")
    page = client.get(published.post.get_absolute_url()).content.decode()
    assert "<strong>Update, <time" in page


def test_a_correction_sets_date_modified_for_search_engines(client, editor, published):
    workflow.correct(entry=published, user=editor, text="Fixed the direction.")
    published.refresh_from_db()
    page = client.get(published.get_absolute_url()).content.decode()
    data = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert data["dateModified"] == published.revised_at.isoformat()
    assert data["dateModified"] > data["datePublished"]


def test_pinning_does_not_mark_an_entry_updated(client, editor, published):
    workflow.pin(entry=published, user=editor)
    page = client.get(published.post.get_absolute_url()).content.decode()
    assert "entry__updated" not in page


def test_editing_a_published_entry_marks_it_updated_but_editing_a_draft_does_not(editor, published, post):
    workflow.record_edit(entry=published, user=editor, created=False)
    draft = EntryFactory(post=post)
    workflow.record_edit(entry=draft, user=editor, created=False)
    assert Entry.objects.get(pk=published.pk).revised_at is not None
    assert Entry.objects.get(pk=draft.pk).revised_at is None


def test_corrections_reach_live_readers_feeds_and_the_api(client, editor, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.correct(entry=published, user=editor, text="Douma is north-east of Damascus.")
    update = LiveEvent.objects.filter(entry=published, kind="update").latest("pk")
    assert "Douma is north-east of Damascus." in update.payload["html"]
    feed = client.get(reverse("liveupdates:feed_post", args=[published.post.slug])).content.decode()
    assert "Douma is north-east of Damascus." in feed
    api = client.get(f"/api/entries/{published.pk}").json()
    assert api["corrections"][0]["text"] == "Douma is north-east of Damascus."
    assert api["corrections"][0]["kind"] == "correction"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Write the correction"),
        ("   \n\t ", "Write the correction"),
        ("x" * 1001, "under 1,000 characters"),
    ],
)
def test_an_empty_or_oversized_correction_is_refused_with_a_reason(client, editor, published, text, message):
    client.force_login(editor)
    response = correct(client, published, kind="correction", text=text)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Correction.objects.exists()


def test_an_unknown_correction_kind_is_refused(client, editor, published):
    client.force_login(editor)
    response = correct(client, published, kind="retraction", text="Something")
    assert "correction or an update" in response.content.decode()
    assert not Correction.objects.exists()


def test_only_published_entries_can_be_corrected(editor, post):
    draft = EntryFactory(post=post)
    with pytest.raises(workflow.WorkflowError, match="cannot be corrected"):
        workflow.correct(entry=draft, user=editor, text="Nope")


def test_a_correction_is_plain_text_shown_escaped(client, editor, published):
    workflow.correct(entry=published, user=editor, text='<img src=x onerror="alert(1)"> fixed')
    page = client.get(published.post.get_absolute_url()).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; fixed" in page


# --- Withdrawn entries: an optional public note in their place ------------------------


def test_a_withdrawn_entry_can_leave_a_public_note_and_none_of_its_words(
    client, editor, published, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:liveupdates_entry_workflow", args=[published.pk, "withdraw"]),
            {"note": "Source retracted", "public_note": "The video in this update could not be verified."},
        )
    client.logout()
    page = client.get(published.post.get_absolute_url()).content.decode()
    assert "This update was removed." in page and "The video in this update could not be verified." in page
    assert "north-west of Damascus" not in page and "Strikes on Douma" not in page
    remove = LiveEvent.objects.filter(entry=published, kind="remove").latest("pk")
    assert "could not be verified" in remove.payload["html"]
    assert "north-west" not in json.dumps(remove.payload)
    # Everywhere else the entry is simply gone.
    assert client.get(published.get_absolute_url()).status_code == 404
    assert "Strikes on Douma" not in client.get(reverse("liveupdates:feed_post", args=[published.post.slug])).content.decode()
    assert client.get(f"/api/entries/{published.pk}").status_code == 404


def test_a_withdrawn_entry_without_a_note_disappears(client, editor, published):
    workflow.withdraw(entry=published, user=editor, reason="Duplicate")
    page = client.get(published.post.get_absolute_url()).content.decode()
    assert f'id="entry-{published.pk}"' not in page


def test_a_scheduled_entry_withdrawn_before_its_time_cannot_leave_a_public_note(editor, post):
    entry = EntryFactory(post=post)
    workflow.publish(entry=entry, user=editor, at=timezone.now() + timedelta(hours=1))
    with pytest.raises(workflow.WorkflowError, match="Readers never saw this entry"):
        workflow.withdraw(entry=entry, user=editor, reason="Changed plans", public_note="Removed")
    assert Entry.objects.get(pk=entry.pk).status == "published"


def test_the_removal_note_is_not_in_structured_data(client, editor, published):
    workflow.withdraw(entry=published, user=editor, reason="Unverified", public_note="Removed: unverified.")
    PublishedEntryFactory(post=published.post, headline="Still here")
    page = client.get(published.post.get_absolute_url()).content.decode()
    ld = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert [u["headline"] for u in ld["liveBlogUpdate"]] == ["Still here"]
