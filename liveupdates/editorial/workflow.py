"""Every change of editorial state goes through this module.

Each action checks the user's permission and the current state on the server,
refuses an illegal move with a WorkflowError whose message is a full sentence,
records who did what and when (WorkflowEvent), and flags the entry for live
readers (`live_pending`) in the same transaction. The admin, the live desk,
commands and tests call these functions; nothing else writes `status`,
`published_at`, `is_pinned` or `is_key_event` (Entry.save() and
LivePost.save() never write them).

Live readers hear of a change by explicit calls (liveupdates/delivery/live.py has the
whole path): a withdrawal and every change to a post append their live event
inside the transaction, so the takedown and its announcement commit together;
other changes are announced once committed (`_announce_on_commit`), and the
stream processes' sweep announces whatever is still flagged.

State changes are compare-and-set UPDATEs (`WHERE status IN (...)`), so when
two editors race (one publishes while another withdraws) the database lets
exactly one win and the other gets a clear refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeGuard

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from liveupdates import richtext
from liveupdates.delivery import announcer, live
from liveupdates.editorial import feed, revisions
from liveupdates.models import (
    Author,
    Citation,
    Correction,
    CorrectionKind,
    EditProposal,
    Entry,
    EntryStatus,
    LivePost,
    Place,
    PostStatus,
    ProposalStatus,
    Source,
    WorkflowEvent,
    status_label,
    touch_columns,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from reversion.models import Version

DRAFT, IN_REVIEW, PUBLISHED, WITHDRAWN = (
    EntryStatus.DRAFT,
    EntryStatus.IN_REVIEW,
    EntryStatus.PUBLISHED,
    EntryStatus.WITHDRAWN,
)


class WorkflowError(Exception):
    """An editorial action was refused; the message tells the user why and what to do."""


# --- Who may do what ------------------------------------------------------


def _is_staff(user: User | None) -> TypeGuard[User]:
    return bool(user and user.is_active and user.is_staff)


def can_review_reference(user: User | None) -> bool:
    """Editors review the places and sources journalists add before readers get their pages."""
    return _is_staff(user) and user.has_perm("liveupdates.review_entry")


def can_preview(user: User | None) -> bool:
    """Whether `user` may ask for previews at all: newsroom staff. Anyone else is told nothing exists."""
    return _is_staff(user)


def can_view(user: User | None, entry: Entry) -> bool:
    return _is_staff(user) and user.has_perm("liveupdates.view_entry")


def can_edit(user: User | None, entry: Entry) -> bool:
    """Editors edit any entry; a journalist edits only their own entry while it is a draft."""
    if not _is_staff(user):
        return False
    if user.has_perm("liveupdates.review_entry"):
        return True
    return user.has_perm("liveupdates.change_entry") and entry.created_by_id == user.pk and entry.status == DRAFT


def can_submit(user: User | None, entry: Entry) -> bool:
    return entry.status == DRAFT and can_edit(user, entry)


def can_publish(user: User | None, entry: Entry | None = None) -> bool:
    allowed = _is_staff(user) and user.has_perm("liveupdates.publish_entry")
    return allowed and (entry is None or entry.status in (DRAFT, IN_REVIEW))


def can_return(user: User | None, entry: Entry) -> bool:
    return _is_staff(user) and user.has_perm("liveupdates.review_entry") and entry.status == IN_REVIEW


def can_withdraw(user: User | None, entry: Entry) -> bool:
    return _is_staff(user) and user.has_perm("liveupdates.publish_entry") and entry.status == PUBLISHED


def can_feature(user: User | None, entry: Entry) -> bool:
    """Pin, unpin, mark or unmark as a key event."""
    return _is_staff(user) and user.has_perm("liveupdates.publish_entry") and entry.status != WITHDRAWN


def can_leave_removal_note(user: User | None, entry: Entry) -> bool:
    """A public note in a withdrawn entry's place: only where readers saw the entry (it was announced)."""
    return can_withdraw(user, entry) and entry.announced_at is not None


def can_correct(user: User | None, entry: Entry) -> bool:
    """Attach a public correction or update note: editors, on a published entry."""
    return _is_staff(user) and user.has_perm("liveupdates.publish_entry") and entry.status == PUBLISHED


def can_restore(user: User | None, entry: Entry) -> bool:
    """Bring back an earlier revision's words: whoever may edit the entry now, never a withdrawn one."""
    return entry.status != WITHDRAWN and can_edit(user, entry)


def can_discard(user: User | None, entry: Entry) -> bool:
    """A draft readers never saw: its author, or an editor, may throw it away."""
    if entry.status != DRAFT or entry.announced_at is not None or not _is_staff(user):
        return False
    return entry.created_by_id == user.pk or user.has_perm("liveupdates.review_entry")


def can_propose_edit(user: User | None, entry: Entry) -> bool:
    """A published entry's author may propose new words; an editor decides (approve_edit)."""
    return (
        entry.status == PUBLISHED
        and _is_staff(user)
        and entry.created_by_id == user.pk
        and user.has_perm("liveupdates.change_entry")
    )


def can_decide_edit(user: User | None) -> bool:
    """Approve or refuse a proposed edit: those who may publish, since an approval changes public words."""
    return _is_staff(user) and user.has_perm("liveupdates.publish_entry")


def can_restore_post(user: User | None) -> bool:
    return _is_staff(user) and user.has_perm("liveupdates.change_livepost")


def can_publish_post(user: User | None) -> bool:
    return _is_staff(user) and user.has_perm("liveupdates.publish_livepost")


def can_see_desk(user: User | None) -> bool:
    """The live desk and previews: any newsroom member who can read entries."""
    return _is_staff(user) and user.has_perm("liveupdates.view_entry")


def can_compose(user: User | None) -> bool:
    return _is_staff(user) and user.has_perm("liveupdates.add_entry")


def can_upload(user: User | None) -> bool:
    return _is_staff(user) and (user.has_perm("liveupdates.add_entry") or user.has_perm("liveupdates.change_entry"))


def can_review(user: User | None) -> bool:
    """The review queue: those who return or publish others' entries."""
    return _is_staff(user) and (user.has_perm("liveupdates.review_entry") or user.has_perm("liveupdates.publish_entry"))


def can_preview_post(user: User | None) -> bool:
    return _is_staff(user) and user.has_perm("liveupdates.view_livepost")


@dataclass(frozen=True)
class Allowed:
    """The actions a user may take on one entry now; templates show only these."""

    edit: bool
    submit: bool
    publish: bool
    return_to_author: bool
    withdraw: bool
    removal_note: bool
    feature: bool
    correct: bool
    discard: bool = False
    verify: bool = False
    propose_verification: bool = False
    propose_edit: bool = False

    @property
    def any(self) -> bool:
        return any((self.submit, self.publish, self.return_to_author, self.withdraw, self.feature, self.correct))


def allowed_actions(user: User, entry: Entry) -> Allowed:
    return Allowed(
        edit=can_edit(user, entry),
        submit=can_submit(user, entry),
        publish=can_publish(user, entry),
        return_to_author=can_return(user, entry),
        withdraw=can_withdraw(user, entry),
        removal_note=can_leave_removal_note(user, entry),
        feature=can_feature(user, entry),
        correct=can_correct(user, entry),
        discard=can_discard(user, entry),
        verify=entry.status != WITHDRAWN and can_verify(user),
        propose_verification=entry.status != WITHDRAWN and can_propose_verification(user, entry),
        propose_edit=can_propose_edit(user, entry),
    )


# --- Helpers ----------------------------------------------------------------


def _refuse_unless(allowed: object, message: str) -> None:
    if not allowed:
        raise WorkflowError(message)


def _move(entry: Entry, *, user: User, allowed_from: list[str], action: str, changes: dict[str, Any], note: str = "") -> Entry:
    """Move `entry` from one of `allowed_from` in one conditional UPDATE and record it."""
    from_status = entry.status
    now = timezone.now()
    updated = Entry.objects.filter(pk=entry.pk, status__in=allowed_from).update(
        updated_by=user, updated_at=now, live_pending=True, **changes
    )
    if not updated:
        current = Entry.objects.filter(pk=entry.pk).values_list("status", flat=True).first()
        if current is None:
            raise WorkflowError(_("This entry no longer exists; it may have been deleted."))
        raise WorkflowError(
            _("Someone else changed this entry first: it is now %(status)s. Reload the page and check it before trying again.")
            % {"status": status_label(current)}
        )
    for field, value in changes.items():
        setattr(entry, field, value)
    entry.updated_by = user
    entry.updated_at = now
    WorkflowEvent.objects.create(
        entry=entry, action=action, from_status=from_status, to_status=entry.status, actor=user, note=note
    )
    _announce_on_commit(entry.post_id)
    return entry


def _announce_on_commit(post_id: int) -> None:
    """Once the change has committed, announce the post's flagged entries (off the request: announcer.soon).

    If that fails or the process dies first, the entries stay flagged and the
    stream processes' sweep (live.announce) announces them within a second.
    """
    transaction.on_commit(lambda: announcer.soon(post_id))


def _announce_now(entry: Entry) -> None:
    """Append the entry's live event inside the current transaction: it commits with the change or not at all.

    A failure to render must not undo a takedown: it is logged, the entry
    stays flagged, and the sweep retries it.
    """
    try:
        with transaction.atomic():
            live.announce_entry(entry.pk)
    except Exception:
        live.failures.failed(entry.pk)


def _wrong_state(entry: Entry, doing: str) -> str:
    return _("This entry is %(status)s, so it cannot be %(doing)s.") % {
        "status": status_label(entry.status),
        "doing": doing,
    }


# --- Entry actions -----------------------------------------------------------


@transaction.atomic
def submit_for_review(*, entry: Entry, user: User) -> Entry:
    """A draft goes to the editors' review queue."""
    _refuse_unless(entry.status == DRAFT, _wrong_state(entry, _("submitted for review")))
    _refuse_unless(
        can_submit(user, entry),
        _("Only the entry's author or an editor can submit it for review."),
    )
    # The editor's note was about the version they returned: it goes once the author sends a new one.
    return _move(entry, user=user, allowed_from=[DRAFT], action="submitted", changes={"status": IN_REVIEW, "review_note": ""})


@transaction.atomic
def publish(*, entry: Entry, user: User, at: datetime | None = None) -> Entry:
    """Publish a draft or an entry in review, now or at `at` (a later time schedules it).

    Refused while an image in the text has no alt text: readers who cannot see
    the photo must be told what it shows.
    """
    _refuse_unless(entry.status in (DRAFT, IN_REVIEW), _wrong_state(entry, _("published")))
    _refuse_unless(can_publish(user, entry), _("You do not have permission to publish entries. Submit it for review instead."))
    if richtext.images_without_alt(entry.body):
        raise WorkflowError(
            _(
                "An image in this entry has no alternative text. Double-click the image in the editor, describe it, save, then publish."
            )
        )
    if not richtext.plain_text(entry.body) and "<img" not in entry.body and "<iframe" not in entry.body:
        raise WorkflowError(_("This entry has no text. Write the update before publishing it."))
    now = timezone.now()
    if at is not None and timezone.is_naive(at):
        raise WorkflowError(_("The publication time must include a time zone."))
    published_at = at or now
    action = "scheduled" if published_at > now else "published"
    note = published_at.isoformat() if action == "scheduled" else ""
    return _move(
        entry,
        user=user,
        allowed_from=[DRAFT, IN_REVIEW],
        action=action,
        note=note,
        changes={"status": PUBLISHED, "published_at": published_at, "review_note": ""},
    )


@transaction.atomic
def return_to_author(*, entry: Entry, user: User, note: str) -> Entry:
    """Send an entry in review back to its author as a draft, with the editor's note."""
    _refuse_unless(entry.status == IN_REVIEW, _wrong_state(entry, _("returned to its author")))
    _refuse_unless(can_return(user, entry), _("Only editors can return entries to their authors."))
    note = (note or "").strip()
    _refuse_unless(note, _("Write a note telling the author what to change before returning the entry."))
    return _move(
        entry,
        user=user,
        allowed_from=[IN_REVIEW],
        action="returned",
        note=note,
        changes={"status": DRAFT, "review_note": note},
    )


@transaction.atomic
def withdraw(*, entry: Entry, user: User, reason: str, public_note: str = "") -> Entry:
    """Take a published (or scheduled) entry off every public surface.

    With a `public_note`, readers who saw the entry find the note in its place
    ("This update was removed because ..."), never its words.
    """
    _refuse_unless(entry.status == PUBLISHED, _wrong_state(entry, _("withdrawn")))
    _refuse_unless(can_withdraw(user, entry), _("Only editors can withdraw published entries."))
    reason = (reason or "").strip()
    _refuse_unless(reason, _("Give the reason for withdrawing this entry; it is kept in the entry's history."))
    public_note = richtext.plain_line(public_note)
    _refuse_unless(
        not public_note or can_leave_removal_note(user, entry),
        _("Readers never saw this entry, so there is nothing to leave a public note about. Withdraw it without one."),
    )
    _move(
        entry,
        user=user,
        allowed_from=[PUBLISHED],
        action="withdrawn",
        note=reason,
        changes={"status": WITHDRAWN, "is_pinned": False, "removal_note": public_note},
    )
    # Nothing may stay "waiting" on words readers no longer see: an approval now would
    # be refused anyway, and the queue must not offer it.
    EditProposal.objects.filter(entry=entry, status=ProposalStatus.WAITING).update(
        status=ProposalStatus.SUPERSEDED, decided_by=user, decided_at=timezone.now(), editor_note=reason
    )
    _announce_now(entry)
    return entry


@transaction.atomic
def discard_draft(*, entry: Entry, user: User) -> Entry:
    """Throw away a draft readers never saw; the post's log keeps who did it (the entry's own log goes with it)."""
    _refuse_unless(
        can_discard(user, entry), _("Only a draft that was never published can be discarded, by its author or an editor.")
    )
    label = str(entry)
    if not Entry.objects.filter(pk=entry.pk, status=DRAFT, announced_at__isnull=True).delete()[0]:
        raise WorkflowError(_("Someone else changed this entry first. Reload the page and check it before trying again."))
    WorkflowEvent.objects.create(
        post_id=entry.post_id, action="discarded", from_status=DRAFT, to_status="", actor=user, note=f"{entry.pk}: {label}"
    )
    return entry


@transaction.atomic
def pin(*, entry: Entry, user: User) -> Entry:
    """Pin this entry above the stream; the post's previously pinned entry is unpinned."""
    _refuse_unless(can_feature(user, entry), _("Only editors can pin entries, and not a withdrawn one."))
    # The entry pinned until now leaves the pinned slot: its readers must hear of it, and its record says so.
    replaced = list(
        Entry.objects.select_for_update()
        .filter(post_id=entry.post_id, is_pinned=True)
        .exclude(pk=entry.pk)
        .values_list("pk", "status")
    )
    Entry.objects.filter(pk__in=[pk for pk, _ in replaced]).update(is_pinned=False, live_pending=True, updated_at=timezone.now())
    WorkflowEvent.objects.bulk_create(
        WorkflowEvent(
            entry_id=pk,
            action="unpinned",
            from_status=status,
            to_status=status,
            actor=user,
            note=_("Replaced by another pinned entry."),
        )
        for pk, status in replaced
    )
    try:
        with transaction.atomic():
            return _move(
                entry,
                user=user,
                allowed_from=[DRAFT, IN_REVIEW, PUBLISHED],
                action="pinned",
                changes={"is_pinned": True},
            )
    except IntegrityError as error:
        raise WorkflowError(_("Another editor pinned an entry at the same moment. Reload the page and try again.")) from error


@transaction.atomic
def unpin(*, entry: Entry, user: User) -> Entry:
    _refuse_unless(can_feature(user, entry), _("Only editors can unpin entries."))
    return _move(
        entry,
        user=user,
        allowed_from=[DRAFT, IN_REVIEW, PUBLISHED],
        action="unpinned",
        changes={"is_pinned": False},
    )


@transaction.atomic
def set_key_event(*, entry: Entry, user: User, key_event: bool, alert: bool = False) -> Entry:
    """Mark (or unmark) an entry as a key event of its post; with `alert`, readers who asked for
    key-event alerts get a push once it is public (delivery/push.py, after the commit)."""
    _refuse_unless(can_feature(user, entry), _("Only editors can mark key events, and not on a withdrawn entry."))
    return _move(
        entry,
        user=user,
        allowed_from=[DRAFT, IN_REVIEW, PUBLISHED],
        action=("marked_key_event_with_alert" if alert else "marked_key_event") if key_event else "unmarked_key_event",
        changes={"is_key_event": bool(key_event), "key_event_alert": bool(key_event and alert)},
    )


def _mark_revised(entry: Entry) -> None:
    """A published entry's words changed: readers are shown "Updated" from now on."""
    # Read from the row, not the instance: it may be older than a withdrawal that just committed.
    now = timezone.now()
    if Entry.objects.published(now).filter(pk=entry.pk).update(revised_at=now):
        entry.revised_at = now


def record_edit(*, entry: Entry, user: User, created: bool, comment: str = "") -> None:
    """Record a content save, once it is complete (many-to-many fields and citations included).

    The save becomes a revision (restorable, compared in the admin's history)
    and a WorkflowEvent; live readers of a public entry get the new words.
    """
    action = "created" if created else "edited"
    if not created:
        _mark_revised(entry)
    revisions.record(entry, user=user, comment=comment or (_("Created") if created else _("Edited")))
    # The status as the row has it: the instance may be older than a withdrawal that just committed.
    # A row created by this save is the instance's own (no one else has changed it yet): no need to read it.
    status = (
        entry.status if created else Entry.objects.filter(pk=entry.pk).values_list("status", flat=True).first() or entry.status
    )
    WorkflowEvent.objects.create(entry=entry, action=action, from_status=status, to_status=status, actor=user)
    if not created:
        # Whatever the state now (the instance may be older than a withdrawal that just
        # committed), the announcer reads it under the row lock and tells readers the truth.
        Entry.objects.filter(pk=entry.pk).update(live_pending=True)
        _announce_on_commit(entry.post_id)


def record_post_edit(*, post: LivePost, user: User, created: bool = False, comment: str = "") -> None:
    """Record a live post's settings being saved (coverage times, headline) and tell live readers."""
    revisions.record(post, user=user, comment=comment or (_("Created") if created else _("Edited")))
    if created:
        return
    WorkflowEvent.objects.create(post=post, action="edited", from_status=post.status, to_status=post.status, actor=user)
    live.announce_post(post)  # coverage times may have changed: readers' "Live" follows in this transaction


@transaction.atomic
def correct(*, entry: Entry, user: User, text: str, kind: str = CorrectionKind.CORRECTION) -> Entry:
    """Attach a public correction or update note to a published entry; readers see it with its time."""
    _refuse_unless(entry.status == PUBLISHED, _wrong_state(entry, _("corrected")))
    _refuse_unless(can_correct(user, entry), _("Only editors can add corrections to published entries."))
    text = richtext.plain_line(text)
    _refuse_unless(text, _("Write the correction readers will see: what was wrong and what is right."))
    _refuse_unless(len(text) <= 1000, _("Keep the correction under 1,000 characters."))
    _refuse_unless(kind in CorrectionKind.values, _("Choose whether this is a correction or an update."))
    now = timezone.now()
    Correction.objects.create(entry=entry, kind=kind, text=text, created_at=now, created_by=user)
    changes = {"revised_at": now} if entry.is_public else {}
    return _move(entry, user=user, allowed_from=[PUBLISHED], action="corrected", note=text, changes=changes)


@transaction.atomic
def restore(*, entry: Entry, user: User, version: Version) -> Entry:
    """Bring back the words of an earlier revision of `entry`, as a new, recorded change.

    Restores the headline, text, authors, places, citations and tags; the
    editorial state (published or not, pinned, key event) stays as it is now.
    The text is sanitised again: the allowlist may have tightened since.
    """
    _refuse_unless(can_restore(user, entry), _("You cannot change this entry, so you cannot restore an earlier version of it."))
    _refuse_unless(
        int(version.object_id) == entry.pk and version.content_type.model_class() is Entry,
        _("That revision belongs to another entry."),
    )
    old = revisions.entry_snapshot(version)
    # An author, place or source that version names may have been deleted since: bringing the
    # version back would point at nothing (an integrity error at commit, a 500). Refused whole,
    # so nothing is half restored; the history page still shows that version's words to copy.
    gone = [
        f"{label} #{pk}"
        for model, ids, label in (
            (Author, old["author_ids"], _("author")),
            (Place, old["place_ids"], _("place")),
            (Source, [source for source, _url in old["citations"]], _("source")),
        )
        for pk in sorted(set(ids) - set(model.objects.filter(pk__in=ids).values_list("pk", flat=True)))
    ]
    _refuse_unless(
        not gone,
        _(
            "That version cannot come back as it was: it names what has been deleted since (%(gone)s). "
            "Copy its words from the comparison on the history page into the entry instead."
        )
        % {"gone": ", ".join(gone)},
    )
    entry.headline = old["headline"]
    entry.body = richtext.sanitize(old["body"])
    Entry.objects.filter(pk=entry.pk).update(
        headline=entry.headline, body=entry.body, version=F("version") + 1, updated_by=user, updated_at=timezone.now()
    )
    entry.record_photos()
    entry.refresh_from_db(fields=["version", "updated_at", "updated_by"])
    entry.authors.set(old["author_ids"])
    entry.places.set(old["place_ids"])
    Citation.objects.filter(entry=entry).delete()
    Citation.objects.bulk_create([Citation(entry=entry, source_id=source, url=url) for source, url in old["citations"]])
    entry.tags.set(revisions.tags_with_ids(old["tag_ids"]))
    when = timezone.localtime(version.revision.date_created).strftime("%d %b %H:%M")
    record_edit(entry=entry, user=user, created=False, comment=_("Restored the version of %(when)s") % {"when": when})
    return entry


@transaction.atomic
def restore_post(*, post: LivePost, user: User, version: Version) -> LivePost:
    """Bring back an earlier revision of a live post's settings; its status stays as it is."""
    _refuse_unless(can_restore_post(user), _("You cannot change live posts, so you cannot restore one."))
    _refuse_unless(
        int(version.object_id) == post.pk and version.content_type.model_class() is LivePost,
        _("That revision belongs to another live post."),
    )
    old = revisions.post_snapshot(version)
    for name in (
        "headline",
        "slug",
        "summary",
        "column_id",
        "coverage_start",
        "coverage_end",
        "lead_image",
        "lead_image_alt",
        "lead_image_credit",
    ):
        setattr(post, name, old[name])
    post.what_we_know = old["what_we_know"] or ""  # versions saved before the box existed have none
    try:
        with transaction.atomic():
            post.full_clean(exclude=["lead_image"])
            post.save()
    except (IntegrityError, ValidationError) as error:
        raise WorkflowError(
            _("That version cannot come back as it was: %(problem)s") % {"problem": "; ".join(_messages(error))}
        ) from error
    when = timezone.localtime(version.revision.date_created).strftime("%d %b %H:%M")
    record_post_edit(post=post, user=user, comment=_("Restored the version of %(when)s") % {"when": when})
    return post


def _messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return error.messages
    return [_("its address is now used by another live post.")]


# --- Proposed edits: a journalist fixes their own published entry ------------------------------

# A proposal becomes the entry's text, so it is held to the entry's own limit.
PROPOSAL_MAX_CHARS = richtext.BODY_MAX_CHARS
HEADLINE_MAX_CHARS = 200


def _too_long() -> str:
    return _("This text is over %(max)s characters. Split it into several entries.") % {"max": f"{PROPOSAL_MAX_CHARS:,}"}


def _proposal_problems(entry: Entry, body: str) -> list[str]:
    """What keeps a proposed text from becoming this entry's text, checked when proposed and again when approved.

    Cards: the review shows the words only, so a card the entry does not already
    show (another entry's, a colleague's draft's) would reach readers unseen by
    the editor. A proposal keeps the entry's cards; new ones are the editor's to add.
    """
    problems = []
    if len(body) > PROPOSAL_MAX_CHARS:
        problems.append(_too_long())
    from liveupdates.editorial import cards

    if set(cards.cards_in(body)) - set(cards.cards_in(entry.body)):
        problems.append(
            _(
                "A proposed edit can keep the entry's link cards but not add new ones. "
                "Remove the new card and ask an editor to add it."
            )
        )
    return problems


def proposal_is_stale(proposal: EditProposal, entry: Entry) -> bool:
    """The entry changed after the proposal was made: approving it would undo that change.

    An edit or a restore moves the entry's version; a correction or update note
    moves neither (the words stay), but a proposal made before it may bring back
    what the correction fixed. It is read from the corrections themselves: one made
    while readers could not see the entry (its post hidden, the entry scheduled)
    does not move revised_at. An entry has a handful of corrections: they are read
    whole, so a list of proposals prefetches them (`entry__corrections`) in one query.
    """
    if entry.version != proposal.base_version or (entry.revised_at and entry.revised_at > proposal.created_at):
        return True
    return any(correction.created_at > proposal.created_at for correction in entry.corrections.all())


def _locked_proposal(proposal: EditProposal) -> tuple[EditProposal, Entry]:
    """The proposal and its entry, locked in that order (entry first, as withdraw's UPDATE takes it)."""
    entry = Entry.objects.select_for_update().get(pk=proposal.entry_id)
    # of=self: the author's user row is read, not locked (a login would wait on it otherwise).
    locked = EditProposal.objects.select_for_update(of=("self",)).select_related("author").get(pk=proposal.pk)
    return locked, entry


def _proposal_event(entry: Entry, *, user: User, action: str, note: str = "") -> None:
    WorkflowEvent.objects.create(
        entry=entry, action=action, from_status=entry.status, to_status=entry.status, actor=user, note=note
    )


def _refuse_unless_waiting(proposal: EditProposal) -> None:
    _refuse_unless(
        proposal.status == ProposalStatus.WAITING,
        _("This proposed edit is no longer waiting: it was %(status)s. Reload the page to see where it stands.")
        % {"status": str(ProposalStatus(proposal.status).label).lower()},
    )


@transaction.atomic
def propose_edit(*, entry: Entry, user: User, headline: str, body: str) -> EditProposal:
    """Propose new words for one's own published entry; readers keep the old ones until an editor approves.

    A proposal waiting on the same entry is replaced (closed as superseded): the
    newest words are what the author wants reviewed. The text is sanitised as
    any entry's, and held to the same rules a publication is (text, alt text).
    """
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    _refuse_unless(entry.status == PUBLISHED, _wrong_state(entry, _("given a proposed edit (only a published entry is)")))
    _refuse_unless(
        can_propose_edit(user, entry),
        _("Only the entry's author can propose an edit to it. Editors change published entries directly."),
    )
    headline = richtext.plain_line(headline or "")
    _refuse_unless(len(headline) <= HEADLINE_MAX_CHARS, _("Keep the headline under 200 characters."))
    body = body or ""
    _refuse_unless(
        len(body) <= PROPOSAL_MAX_CHARS,  # before sanitising: a huge text is refused unread
        _too_long(),
    )
    body = richtext.sanitize(body)
    for problem in _proposal_problems(entry, body):
        raise WorkflowError(problem)
    _refuse_unless(
        richtext.plain_text(body) or "<img" in body or "<iframe" in body,
        _("The proposed text is empty. Write the words readers should see."),
    )
    _refuse_unless(
        not richtext.images_without_alt(body),
        _("An image in the proposed text has no alternative text. Describe it, then propose the edit."),
    )
    _refuse_unless(
        (headline, body) != (entry.headline, richtext.sanitize(entry.body)),
        _("The proposed words are the same as the published entry. Change something, or cancel."),
    )
    now = timezone.now()
    # The entry's row lock above serialises proposals of one entry: this sees any committed one.
    EditProposal.objects.filter(entry=entry, status=ProposalStatus.WAITING).update(
        status=ProposalStatus.SUPERSEDED, decided_at=now
    )
    proposal = EditProposal.objects.create(entry=entry, author=user, headline=headline, body=body, base_version=entry.version)
    # A new proposal answers the editor's last refusal: its note leaves "Returned to you".
    EditProposal.objects.filter(entry=entry, author=user, status=ProposalStatus.REFUSED, acknowledged_at__isnull=True).update(
        acknowledged_at=now
    )
    _proposal_event(entry, user=user, action="edit_proposed")
    return proposal


@transaction.atomic
def approve_edit(*, proposal: EditProposal, user: User) -> Entry:
    """Apply a proposed edit to the published entry, as an editor's own edit is applied.

    Refused when the entry changed since the proposal was made (another edit,
    a restored revision): approving would silently undo that change. The
    editor reads the entry again and refuses with a note, or edits it directly.
    """
    _refuse_unless(can_decide_edit(user), _("Only editors can approve a proposed edit."))
    proposal, entry = _locked_proposal(proposal)
    _refuse_unless_waiting(proposal)
    _refuse_unless(entry.status == PUBLISHED, _wrong_state(entry, _("changed by a proposed edit")))
    _refuse_unless(
        not proposal_is_stale(proposal, entry),
        _(
            "The entry changed after this edit was proposed, so approving it would undo that change. "
            "Read the entry again, then refuse the proposal with a note or edit the entry yourself."
        ),
    )
    for problem in _proposal_problems(entry, proposal.body):
        raise WorkflowError(problem)
    now = timezone.now()
    entry.headline, entry.body = proposal.headline, richtext.sanitize(proposal.body)
    Entry.objects.filter(pk=entry.pk).update(
        headline=entry.headline, body=entry.body, version=F("version") + 1, updated_by=user, updated_at=now
    )
    entry.record_photos()
    entry.refresh_from_db(fields=["version", "updated_at", "updated_by"])
    EditProposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.APPROVED, decided_by=user, decided_at=now)
    proposal.status, proposal.decided_by, proposal.decided_at = ProposalStatus.APPROVED, user, now
    _proposal_event(entry, user=user, action="edit_approved", note=feed.who(proposal.author))
    # The editor's edit path from here: cards bound, revision, "Updated", live readers told.
    from liveupdates.editorial import cards

    cards.attach(entry, user=user)
    record_edit(
        entry=entry,
        user=user,
        created=False,
        comment=_("Approved the edit proposed by %(who)s") % {"who": feed.who(proposal.author)},
    )
    return entry


@transaction.atomic
def refuse_edit(*, proposal: EditProposal, user: User, note: str) -> EditProposal:
    """Refuse a proposed edit with a note for its author; the entry stays as readers see it."""
    _refuse_unless(can_decide_edit(user), _("Only editors can refuse a proposed edit."))
    note = (note or "").strip()
    _refuse_unless(note, _("Write a note telling the author why, before refusing the proposed edit."))
    _refuse_unless(len(note) <= 2000, _("Keep the note under 2,000 characters."))
    proposal, entry = _locked_proposal(proposal)
    _refuse_unless_waiting(proposal)
    now = timezone.now()
    EditProposal.objects.filter(pk=proposal.pk).update(
        status=ProposalStatus.REFUSED, decided_by=user, decided_at=now, editor_note=note
    )
    proposal.status, proposal.decided_by, proposal.decided_at, proposal.editor_note = ProposalStatus.REFUSED, user, now, note
    _proposal_event(entry, user=user, action="edit_refused", note=note)
    return proposal


@transaction.atomic
def withdraw_proposal(*, proposal: EditProposal, user: User) -> EditProposal:
    """Its author takes back a waiting proposal; the entry stays as readers see it."""
    _refuse_unless(
        _is_staff(user) and proposal.author_id == user.pk, _("Only the journalist who proposed this edit can withdraw it.")
    )
    proposal, entry = _locked_proposal(proposal)
    now = timezone.now()
    _refuse_unless_waiting(proposal)
    EditProposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.WITHDRAWN, decided_by=user, decided_at=now)
    proposal.status, proposal.decided_by, proposal.decided_at = ProposalStatus.WITHDRAWN, user, now
    _proposal_event(entry, user=user, action="edit_withdrawn")
    return proposal


@transaction.atomic
def put_away_refusal(*, proposal: EditProposal, user: User) -> EditProposal:
    """Its author has read the editor's note on a refused proposal: it leaves "Returned to you"."""
    _refuse_unless(
        _is_staff(user) and proposal.author_id == user.pk, _("Only the journalist who proposed this edit can put it away.")
    )
    _refuse_unless(proposal.status == ProposalStatus.REFUSED, _("Only a refused proposal can be put away."))
    EditProposal.objects.filter(pk=proposal.pk, acknowledged_at__isnull=True).update(acknowledged_at=timezone.now())
    return proposal


# --- Live post actions ---------------------------------------------------------


def _move_post(post: LivePost, *, user: User, allowed_from: list[str], action: str, changes: dict[str, Any]) -> LivePost:
    from_status = post.status
    updated = LivePost.objects.filter(pk=post.pk, status__in=allowed_from).update(updated_at=timezone.now(), **changes)
    if not updated:
        raise WorkflowError(_("Someone else changed this live post first. Reload the page and check it."))
    touch_columns([post.column_id])  # its neighbours' pages link to it, or no longer
    for field, value in changes.items():
        setattr(post, field, value)
    WorkflowEvent.objects.create(post=post, action=action, from_status=from_status, to_status=post.status, actor=user)
    # In the same transaction: an unpublished post's readers lose its entries as it commits.
    live.announce_post(post)
    # Entries published while the post was a draft are announced once it is public.
    _announce_on_commit(post.pk)
    return post


@transaction.atomic
def publish_post(*, post: LivePost, user: User, at: datetime | None = None) -> LivePost:
    """Make a live post public (now, or at `at`); its published entries appear with it."""
    _refuse_unless(can_publish_post(user), _("Only editors can publish live posts."))
    _refuse_unless(post.status == PostStatus.DRAFT, _("This live post is already published."))
    if post.lead_image and not post.lead_image_alt.strip():
        raise WorkflowError(_("The lead image has no alternative text. Describe it, save, then publish the post."))
    _move_post(
        post,
        user=user,
        allowed_from=[PostStatus.DRAFT],
        action="published",
        changes={"status": PostStatus.PUBLISHED, "published_at": at or timezone.now()},
    )
    # Entries withdrawn while the post was hidden: readers who saw them before must lose
    # them as the post comes back, in this transaction, before any replay can offer them.
    for entry in Entry.objects.filter(post=post, live_pending=True, status=WITHDRAWN).only("pk"):
        _announce_now(entry)
    return post


@transaction.atomic
def unpublish_post(*, post: LivePost, user: User) -> LivePost:
    """Take a live post and all its entries off the public site."""
    _refuse_unless(can_publish_post(user), _("Only editors can unpublish live posts."))
    _refuse_unless(post.status == PostStatus.PUBLISHED, _("This live post is not published."))
    return _move_post(
        post,
        user=user,
        allowed_from=[PostStatus.PUBLISHED],
        action="unpublished",
        changes={"status": PostStatus.DRAFT},
    )


# --- Verification (issue 14): what the newsroom says it has checked ----------------------


def can_verify(user: User | None) -> bool:
    """Set an entry's or a card's verification label: editors (those who may publish)."""
    return _is_staff(user) and user.has_perm("liveupdates.publish_entry")


def can_propose_verification(user: User | None, entry: Entry) -> bool:
    """A journalist may propose a label for their own entry; an editor decides."""
    return can_verify(user) or can_edit(user, entry) or (_is_staff(user) and entry.created_by_id == user.pk)


def _clean_verification(state: str, method: str, note: str) -> tuple[str, str, str]:
    from liveupdates.models import Verification, VerificationMethod

    _refuse_unless(
        state in Verification.values, _("Choose a verification state: not assessed, unverified, verified or disputed.")
    )
    _refuse_unless(
        method in VerificationMethod.values,
        _("Choose how it was verified: geolocated, confirmed by a named source or seen first-hand."),
    )
    _refuse_unless(
        state != Verification.VERIFIED or method,
        _("Say how it was verified (geolocated, confirmed by a named source, seen first-hand) before marking it verified."),
    )
    note = richtext.plain_line(note)
    _refuse_unless(len(note) <= 300, _("Keep the note for readers under 300 characters."))
    _refuse_unless(
        state != Verification.DISPUTED or note, _("Tell readers why it is disputed in the note before marking it disputed.")
    )
    return state, method if state == Verification.VERIFIED else "", note


def _verification_note(state: str, method: str, note: str) -> str:
    return " · ".join(part for part in (state or "not assessed", method, note) if part)


@transaction.atomic
def set_verification(*, entry: Entry, user: User, state: str, method: str = "", note: str = "") -> Entry:
    """Set what the newsroom says it has verified about an entry; readers see the label, the history records it.

    On a published entry the change is public: it counts as an update
    ("Updated 14:05"), like a correction, and live readers get it.
    """
    _refuse_unless(entry.status != WITHDRAWN, _wrong_state(entry, _("given a verification label")))
    _refuse_unless(can_verify(user), _("Only editors can set what is verified. Propose it to an editor instead."))
    state, method, note = _clean_verification(state, method, note)
    changes: dict[str, Any] = {
        "verification": state,
        "verification_method": method,
        "verification_note": note,
        "verified_by": user,
        "verified_at": timezone.now(),
    }
    if entry.is_public and (entry.verification, entry.verification_method, entry.verification_note) != (state, method, note):
        changes["revised_at"] = changes["verified_at"]
    return _move(
        entry,
        user=user,
        allowed_from=[DRAFT, IN_REVIEW, PUBLISHED],
        action="verification",
        changes=changes,
        note=_verification_note(state, method, note),
    )


@transaction.atomic
def propose_verification(*, entry: Entry, user: User, state: str, method: str = "", note: str = "") -> None:
    """A journalist's proposal, recorded in the entry's history for an editor to decide; the label does not change."""
    _refuse_unless(can_propose_verification(user, entry), _("Only the entry's author or an editor can propose a label."))
    state, method, note = _clean_verification(state, method, note)
    WorkflowEvent.objects.create(
        entry=entry,
        action="verification_proposed",
        from_status=entry.status,
        to_status=entry.status,
        actor=user,
        note=_verification_note(state, method, note),
    )


@transaction.atomic
def set_card_verification(*, card: Any, user: User, state: str, method: str = "", note: str = "") -> Any:
    """Set a card's verification label: editors only; recorded in its entry's history, shown with the card."""
    _refuse_unless(can_verify(user), _("Only editors can set what is verified. Propose it to an editor instead."))
    state, method, note = _clean_verification(state, method, note)
    now = timezone.now()
    type(card).objects.filter(pk=card.pk).update(
        verification=state, verification_method=method, verification_note=note, verified_by=user, verified_at=now, updated_at=now
    )
    card.verification, card.verification_method, card.verification_note = state, method, note
    card.verified_by, card.verified_at = user, now
    if card.entry_id:
        entry = Entry.objects.get(pk=card.entry_id)
        if entry.status != WITHDRAWN:
            _move(
                entry,
                user=user,
                allowed_from=[entry.status],
                action="card_verification",
                changes={},
                note=f"{card.url}: " + _verification_note(state, method, note),
            )
    return card
