"""The editorial workflow: every allowed and every refused move."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from liveupdates.editorial import workflow
from liveupdates.models import Entry, EntryStatus, PostStatus, WorkflowEvent

from .factories import EntryFactory, LivePostFactory, PublishedEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

DRAFT, IN_REVIEW, PUBLISHED, WITHDRAWN = EntryStatus.DRAFT, EntryStatus.IN_REVIEW, EntryStatus.PUBLISHED, EntryStatus.WITHDRAWN


def entry_in(status, *, author, post=None):
    extra = {"published_at": timezone.now() - timedelta(minutes=5)} if status in (PUBLISHED, WITHDRAWN) else {}
    return EntryFactory(status=status, created_by=author, post=post or LivePostFactory(), **extra)


def fresh(entry):
    return Entry.objects.get(pk=entry.pk)


# --- submit ------------------------------------------------------------------


def test_journalist_submits_own_draft_for_review(journalist, draft):
    workflow.submit_for_review(entry=draft, user=journalist)
    assert fresh(draft).status == IN_REVIEW


def test_editor_can_submit_a_journalists_draft(editor, draft):
    workflow.submit_for_review(entry=draft, user=editor)
    assert fresh(draft).status == IN_REVIEW


def test_journalist_cannot_submit_another_journalists_draft(other_journalist, draft):
    with pytest.raises(workflow.WorkflowError, match="Only the entry's author or an editor"):
        workflow.submit_for_review(entry=draft, user=other_journalist)
    assert fresh(draft).status == DRAFT


@pytest.mark.parametrize("status", [IN_REVIEW, PUBLISHED, WITHDRAWN])
def test_only_a_draft_can_be_submitted(journalist, status):
    entry = entry_in(status, author=journalist)
    with pytest.raises(workflow.WorkflowError, match="cannot be submitted for review"):
        workflow.submit_for_review(entry=entry, user=journalist)
    assert fresh(entry).status == status


# --- publish -----------------------------------------------------------------


@pytest.mark.parametrize("status", [DRAFT, IN_REVIEW])
def test_editor_publishes_a_draft_or_an_entry_in_review(editor, journalist, status):
    entry = entry_in(status, author=journalist)
    before = timezone.now()
    workflow.publish(entry=entry, user=editor)
    entry = fresh(entry)
    assert entry.status == PUBLISHED
    assert before <= entry.published_at <= timezone.now()
    assert entry.is_public


@pytest.mark.parametrize("status", [DRAFT, IN_REVIEW])
def test_journalist_cannot_publish_an_entry(journalist, status):
    entry = entry_in(status, author=journalist)
    with pytest.raises(workflow.WorkflowError, match="permission to publish"):
        workflow.publish(entry=entry, user=journalist)
    assert fresh(entry).status == status


def test_a_senior_journalist_given_publish_entry_can_publish(draft):
    senior = UserFactory(username="senior", group="Journalists")
    senior.user_permissions.add(Permission.objects.get(codename="publish_entry"))
    senior = type(senior).objects.get(pk=senior.pk)  # drop the permission cache
    workflow.publish(entry=draft, user=senior)
    assert fresh(draft).status == PUBLISHED


@pytest.mark.parametrize("status", [PUBLISHED, WITHDRAWN])
def test_published_or_withdrawn_entries_cannot_be_published_again(editor, status):
    entry = entry_in(status, author=editor)
    with pytest.raises(workflow.WorkflowError, match="cannot be published"):
        workflow.publish(entry=entry, user=editor)
    assert fresh(entry).status == status


def test_publishing_for_a_later_time_schedules_the_entry(editor, draft):
    later = timezone.now() + timedelta(hours=1)
    workflow.publish(entry=draft, user=editor, at=later)
    entry = fresh(draft)
    assert entry.status == PUBLISHED and entry.is_scheduled and not entry.is_public
    assert WorkflowEvent.objects.get(entry=draft, action="scheduled").actor == editor


def test_a_publication_time_without_a_time_zone_is_refused(editor, draft):
    with pytest.raises(workflow.WorkflowError, match="time zone"):
        workflow.publish(entry=draft, user=editor, at=timezone.now().replace(tzinfo=None))
    assert fresh(draft).status == DRAFT


def test_an_image_without_alt_text_cannot_be_published(editor, journalist):
    entry = EntryFactory(created_by=journalist, body='<p>Photo:</p><img src="/media/uploads/a.jpg">')
    with pytest.raises(workflow.WorkflowError, match="no alternative text"):
        workflow.publish(entry=entry, user=editor)
    assert fresh(entry).status == DRAFT


def test_an_image_with_alt_text_can_be_published(editor, journalist):
    entry = EntryFactory(created_by=journalist, body='<img src="/media/uploads/a.jpg" alt="Smoke over Douma">')
    workflow.publish(entry=entry, user=editor)
    assert fresh(entry).status == PUBLISHED


def test_an_empty_entry_cannot_be_published(editor, journalist):
    entry = EntryFactory(created_by=journalist, body="<p> </p>")
    with pytest.raises(workflow.WorkflowError, match="no text"):
        workflow.publish(entry=entry, user=editor)


def test_publishing_clears_the_editors_earlier_note(editor, journalist):
    entry = entry_in(IN_REVIEW, author=journalist)
    workflow.return_to_author(entry=entry, user=editor, note="Name the source.")
    workflow.publish(entry=fresh(entry), user=editor)
    assert fresh(entry).review_note == ""


# --- return ------------------------------------------------------------------


def test_editor_returns_an_entry_to_its_author_with_a_note(editor, journalist):
    entry = entry_in(IN_REVIEW, author=journalist)
    workflow.return_to_author(entry=entry, user=editor, note="Which agency filmed this?")
    entry = fresh(entry)
    assert entry.status == DRAFT
    assert entry.review_note == "Which agency filmed this?"
    assert workflow.can_edit(journalist, entry)


def test_returning_needs_a_note(editor, journalist):
    entry = entry_in(IN_REVIEW, author=journalist)
    with pytest.raises(workflow.WorkflowError, match="Write a note"):
        workflow.return_to_author(entry=entry, user=editor, note="   ")
    assert fresh(entry).status == IN_REVIEW


def test_journalist_cannot_return_an_entry(journalist, other_journalist):
    entry = entry_in(IN_REVIEW, author=other_journalist)
    with pytest.raises(workflow.WorkflowError, match="Only editors"):
        workflow.return_to_author(entry=entry, user=journalist, note="no")


@pytest.mark.parametrize("status", [DRAFT, PUBLISHED, WITHDRAWN])
def test_only_an_entry_in_review_can_be_returned(editor, journalist, status):
    entry = entry_in(status, author=journalist)
    with pytest.raises(workflow.WorkflowError, match="cannot be returned"):
        workflow.return_to_author(entry=entry, user=editor, note="Fix it")
    assert fresh(entry).status == status


# --- withdraw ----------------------------------------------------------------


def test_editor_withdraws_a_published_entry_and_it_is_unpinned(editor, journalist):
    entry = entry_in(PUBLISHED, author=journalist)
    workflow.pin(entry=entry, user=editor)
    workflow.withdraw(entry=fresh(entry), user=editor, reason="Video was from 2013.")
    entry = fresh(entry)
    assert entry.status == WITHDRAWN and not entry.is_pinned and not entry.is_public
    assert WorkflowEvent.objects.get(entry=entry, action="withdrawn").note == "Video was from 2013."


def test_a_scheduled_entry_can_be_withdrawn_before_its_time(editor, draft):
    workflow.publish(entry=draft, user=editor, at=timezone.now() + timedelta(hours=2))
    workflow.withdraw(entry=fresh(draft), user=editor, reason="Embargo lifted by mistake")
    assert fresh(draft).status == WITHDRAWN


def test_withdrawing_needs_a_reason(editor, journalist):
    entry = entry_in(PUBLISHED, author=journalist)
    with pytest.raises(workflow.WorkflowError, match="reason"):
        workflow.withdraw(entry=entry, user=editor, reason="")
    assert fresh(entry).status == PUBLISHED


def test_journalist_cannot_withdraw_an_entry(journalist):
    entry = entry_in(PUBLISHED, author=journalist)
    with pytest.raises(workflow.WorkflowError, match="Only editors"):
        workflow.withdraw(entry=entry, user=journalist, reason="mine")
    assert fresh(entry).status == PUBLISHED


@pytest.mark.parametrize("status", [DRAFT, IN_REVIEW, WITHDRAWN])
def test_only_a_published_entry_can_be_withdrawn(editor, journalist, status):
    entry = entry_in(status, author=journalist)
    with pytest.raises(workflow.WorkflowError, match="cannot be withdrawn"):
        workflow.withdraw(entry=entry, user=editor, reason="x")
    assert fresh(entry).status == status


# --- pin and key events -------------------------------------------------------


def test_pinning_an_entry_unpins_the_posts_previous_pinned_entry(editor, post):
    first, second = PublishedEntryFactory(post=post), PublishedEntryFactory(post=post)
    workflow.pin(entry=first, user=editor)
    workflow.pin(entry=second, user=editor)
    assert list(Entry.objects.filter(post=post, is_pinned=True)) == [second]


def test_pins_in_different_posts_do_not_interfere(editor):
    first, second = PublishedEntryFactory(), PublishedEntryFactory()
    workflow.pin(entry=first, user=editor)
    workflow.pin(entry=second, user=editor)
    assert Entry.objects.filter(is_pinned=True).count() == 2


def test_editor_unpins_an_entry(editor):
    entry = PublishedEntryFactory()
    workflow.pin(entry=entry, user=editor)
    workflow.unpin(entry=fresh(entry), user=editor)
    assert not fresh(entry).is_pinned


def test_editor_marks_and_unmarks_a_key_event(editor):
    entry = PublishedEntryFactory()
    workflow.set_key_event(entry=entry, user=editor, key_event=True)
    assert fresh(entry).is_key_event
    workflow.set_key_event(entry=fresh(entry), user=editor, key_event=False)
    assert not fresh(entry).is_key_event


@pytest.mark.parametrize(
    "act",
    [
        lambda e, u: workflow.pin(entry=e, user=u),
        lambda e, u: workflow.unpin(entry=e, user=u),
        lambda e, u: workflow.set_key_event(entry=e, user=u, key_event=True),
    ],
    ids=["pin", "unpin", "key event"],
)
def test_journalist_cannot_pin_or_mark_key_events(journalist, act):
    entry = PublishedEntryFactory(created_by=journalist)
    with pytest.raises(workflow.WorkflowError, match="Only editors"):
        act(entry, journalist)
    entry = fresh(entry)
    assert not entry.is_pinned and not entry.is_key_event


def test_a_withdrawn_entry_cannot_be_pinned(editor, journalist):
    entry = entry_in(WITHDRAWN, author=journalist)
    with pytest.raises(workflow.WorkflowError):
        workflow.pin(entry=entry, user=editor)
    assert not fresh(entry).is_pinned


# --- races, records and side effects ---------------------------------------------


def test_when_two_editors_race_the_second_gets_a_clear_refusal(editor, journalist):
    entry = entry_in(IN_REVIEW, author=journalist)
    seen_by_a, seen_by_b = fresh(entry), fresh(entry)
    workflow.publish(entry=seen_by_a, user=editor)
    with pytest.raises(workflow.WorkflowError, match="Someone else changed this entry first: it is now published"):
        workflow.return_to_author(entry=seen_by_b, user=editor, note="Too late")
    assert fresh(entry).status == PUBLISHED


def test_publish_and_withdraw_racing_leave_exactly_one_outcome(editor, journalist):
    entry = entry_in(PUBLISHED, author=journalist)
    stale = fresh(entry)
    workflow.withdraw(entry=fresh(entry), user=editor, reason="Wrong village")
    with pytest.raises(workflow.WorkflowError):
        workflow.withdraw(entry=stale, user=editor, reason="Also wrong")
    assert WorkflowEvent.objects.filter(entry=entry, action="withdrawn").count() == 1


def test_every_transition_is_recorded_with_who_what_and_when(editor, journalist, draft):
    workflow.submit_for_review(entry=draft, user=journalist)
    workflow.return_to_author(entry=fresh(draft), user=editor, note="Add a source")
    workflow.submit_for_review(entry=fresh(draft), user=journalist)
    workflow.publish(entry=fresh(draft), user=editor)
    workflow.withdraw(entry=fresh(draft), user=editor, reason="Retracted by the agency")
    events = list(WorkflowEvent.objects.filter(entry=draft).order_by("pk"))
    assert [(e.action, e.from_status, e.to_status, e.actor.username) for e in events] == [
        ("submitted", DRAFT, IN_REVIEW, "jo"),
        ("returned", IN_REVIEW, DRAFT, "ed"),
        ("submitted", DRAFT, IN_REVIEW, "jo"),
        ("published", IN_REVIEW, PUBLISHED, "ed"),
        ("withdrawn", PUBLISHED, WITHDRAWN, "ed"),
    ]
    assert all(e.at is not None for e in events)
    assert fresh(draft).updated_by == editor


def test_live_readers_hear_of_a_publication_only_after_commit(editor, draft, django_capture_on_commit_callbacks):
    from liveupdates.models import LiveEvent

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workflow.publish(entry=draft, user=editor)
    assert not LiveEvent.objects.filter(entry=draft).exists()
    assert fresh(draft).live_pending  # flagged in the transaction: the sweep announces it if the callback never runs
    for callback in callbacks:
        callback()
    assert list(LiveEvent.objects.filter(entry=draft).values_list("kind", flat=True)) == ["add"]
    assert not fresh(draft).live_pending


def test_a_withdrawal_is_in_the_live_log_in_its_own_transaction(editor, draft, django_capture_on_commit_callbacks):
    from liveupdates.models import LiveEvent

    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=draft, user=editor)
    with django_capture_on_commit_callbacks(execute=False):
        workflow.withdraw(entry=fresh(draft), user=editor, reason="Legal")
    # No callback ran: the removal was appended by the withdrawal itself.
    assert LiveEvent.objects.filter(entry=draft).latest("pk").kind == "remove"
    assert not fresh(draft).live_pending


def test_an_inactive_editor_can_do_nothing(editor, journalist):
    editor.is_active = False
    editor.save()
    entry = entry_in(IN_REVIEW, author=journalist)
    with pytest.raises(workflow.WorkflowError):
        workflow.publish(entry=entry, user=editor)


# --- who may edit ----------------------------------------------------------------


@pytest.mark.parametrize("status, expected", [(DRAFT, True), (IN_REVIEW, False), (PUBLISHED, False), (WITHDRAWN, False)])
def test_journalist_edits_own_entry_only_while_it_is_a_draft(journalist, status, expected):
    assert workflow.can_edit(journalist, entry_in(status, author=journalist)) is expected


def test_journalist_cannot_edit_another_journalists_draft(other_journalist, draft):
    assert not workflow.can_edit(other_journalist, draft)


@pytest.mark.parametrize("status", [DRAFT, IN_REVIEW, PUBLISHED, WITHDRAWN])
def test_editor_can_edit_any_entry(editor, journalist, status):
    assert workflow.can_edit(editor, entry_in(status, author=journalist))


# --- live posts -------------------------------------------------------------------


def test_editor_publishes_and_unpublishes_a_live_post(editor):
    post = LivePostFactory(status=PostStatus.DRAFT, published_at=None)
    entry = PublishedEntryFactory(post=post)
    assert not fresh(entry).is_public
    workflow.publish_post(post=post, user=editor)
    assert post.is_public and fresh(entry).is_public
    workflow.unpublish_post(post=post, user=editor)
    assert not fresh(entry).is_public
    assert [e.action for e in WorkflowEvent.objects.filter(post=post).order_by("pk")] == ["published", "unpublished"]


def test_journalist_cannot_publish_a_live_post(journalist):
    post = LivePostFactory(status=PostStatus.DRAFT, published_at=None)
    with pytest.raises(workflow.WorkflowError, match="Only editors"):
        workflow.publish_post(post=post, user=journalist)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_a_published_post_cannot_be_published_twice(editor, post):
    with pytest.raises(workflow.WorkflowError, match="already published"):
        workflow.publish_post(post=post, user=editor)


def test_an_unpublished_post_cannot_be_unpublished(editor):
    post = LivePostFactory(status=PostStatus.DRAFT, published_at=None)
    with pytest.raises(workflow.WorkflowError, match="not published"):
        workflow.unpublish_post(post=post, user=editor)


def test_a_post_whose_lead_image_has_no_alt_text_cannot_be_published(editor):
    post = LivePostFactory(status=PostStatus.DRAFT, published_at=None, lead_image="posts/x.jpg")
    with pytest.raises(workflow.WorkflowError, match="alternative text"):
        workflow.publish_post(post=post, user=editor)
