"""What the desk's staff see moving: the workflow's event log, who is editing what, what came back to whom.

Staff only: the desk's endpoints (editorial/admin/desk_api.py) check the reader
before calling anything here. Nothing here is cached or announced to readers;
the public stream (delivery/live.py) stays the only path to them.

The log is WorkflowEvent, written by editorial/workflow.py for every change
(created, edited, submitted, returned, published, withdrawn, pinned, key
events, corrections), each with its actor: a desk polls it by event id, so a
change reaches every colleague's screen within a poll (one second).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liveupdates import richtext
from liveupdates.models import Autosave, EditProposal, Entry, EntryStatus, WorkflowEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from liveupdates.models import LivePost

# An open edit form says it is still open every 10 s (static/liveupdates/desk/edit.js); a
# colleague who closed the tab stops being "editing" at most this long after.
PRESENCE_WINDOW = timedelta(seconds=30)
EVENTS_PER_POLL = 100

ACTIONS = {
    "created": gettext_lazy("%(who)s wrote a draft: %(what)s"),
    "edited": gettext_lazy("%(who)s edited %(what)s"),
    "submitted": gettext_lazy("%(who)s submitted %(what)s for review"),
    "returned": gettext_lazy("%(who)s returned %(what)s to its author"),
    "published": gettext_lazy("%(who)s published %(what)s"),
    "withdrawn": gettext_lazy("%(who)s withdrew %(what)s"),
    "pinned": gettext_lazy("%(who)s pinned %(what)s"),
    "unpinned": gettext_lazy("%(who)s unpinned %(what)s"),
    "marked_key_event": gettext_lazy("%(who)s marked %(what)s as a key event"),
    "unmarked_key_event": gettext_lazy("%(who)s unmarked %(what)s as a key event"),
    "corrected": gettext_lazy("%(who)s added a correction to %(what)s"),
    "edit_proposed": gettext_lazy("%(who)s proposed an edit of %(what)s"),
    "edit_approved": gettext_lazy("%(who)s approved the proposed edit of %(what)s"),
    "edit_refused": gettext_lazy("%(who)s refused the proposed edit of %(what)s"),
    "edit_withdrawn": gettext_lazy("%(who)s withdrew their proposed edit of %(what)s"),
}


def cursor() -> int:
    """The newest event's id: a desk opened now asks for what comes after it."""
    return WorkflowEvent.objects.aggregate(last=Max("pk"))["last"] or 0


# Ids are handed out when a row is inserted, not when its transaction commits: an event with
# a smaller id than one already seen can still appear a moment later. A poll looks back this
# many ids (for events this recent) and leaves out those the desk says it has seen.
LOOKBACK_IDS = 20
LOOKBACK_TIME = timedelta(seconds=15)


def events_since(post: LivePost, after: int, seen=(), now=None) -> list[WorkflowEvent]:
    """The post's and its entries' events after `after` (and late commits just before it), oldest first."""
    now = now or timezone.now()
    late = Q(pk__gt=max(0, after - LOOKBACK_IDS), pk__lte=after, at__gte=now - LOOKBACK_TIME)
    return list(
        WorkflowEvent.objects.filter(Q(entry__post=post) | Q(post=post))
        .filter(Q(pk__gt=after) | late)
        .exclude(pk__in=list(seen)[:LOOKBACK_IDS])
        .select_related("actor", "entry")
        .order_by("pk")[:EVENTS_PER_POLL]
    )


def who(user: User | None) -> str:
    if user is None:
        return _("Someone")
    return user.get_full_name() or user.get_username()


def describe(event: WorkflowEvent) -> str:
    """One line of the desk's activity: "jo submitted “Strikes near Daraa” for review"."""
    if event.entry is None and event.action == "discarded":
        return _("%(who)s discarded the draft “%(what)s”") % {"who": who(event.actor), "what": event.note.split(": ", 1)[-1]}
    if event.entry is None:
        return _("%(who)s changed the live post (%(action)s)") % {"who": who(event.actor), "action": event.action}
    what = f"“{event.entry.headline or richtext.excerpt(event.entry.body, words=8) or event.entry.pk}”"
    template = ACTIONS.get(event.action, _("%(who)s changed %(what)s"))
    return template % {"who": who(event.actor), "what": what}


def presence(post: LivePost, *, now=None) -> list[Autosave]:
    """Who has a form of this post open now (their autosave's heartbeat is recent), with what and since when."""
    now = now or timezone.now()
    return list(
        Autosave.objects.filter(post=post, saved_at__gte=now - PRESENCE_WINDOW)
        .select_related("user")
        .only("key", "entry_id", "started_at", "saved_at", "user__username", "user__first_name", "user__last_name")
        .order_by("started_at")
    )


def returned_to(user: User):
    """Entries an editor sent back to `user` that are not resubmitted yet: the note is still there."""
    return Entry.objects.filter(created_by=user, status=EntryStatus.DRAFT).exclude(review_note="")


def refused_proposals(user: User):
    """Edits `user` proposed that an editor refused, not yet answered or put away: also "Returned to you"."""
    return EditProposal.objects.returned_to(user).select_related("entry", "entry__post").order_by("-decided_at", "-pk")
