"""What live readers are told, and when: the append-only log behind the stream and the poll endpoint.

The path of a change, as calls you can follow:

    workflow.<action>            one transaction: the state change, its WorkflowEvent,
                                 and entry.live_pending = True ("readers must hear of this")
      withdraw, post changes  -> live.announce_entry / live.announce_post, inside that
                                 same transaction: the takedown and its event commit together
      everything else         -> transaction.on_commit -> announcer.soon(post_id)
                                 -> live.announce(post_id=...) off the request
    stream.Hub (every stream  -> reads new LiveEvents and writes them to its readers; once a
    process)                     second it calls live.announce(): the safety net for whatever a
                                 process died, or failed, before announcing
    views.post_updates        -> the same log, polled

Events are derived from state, not from actions: `announce_entry` locks the
entry's row, compares what readers were told (announced_at) with what is true
now, and appends the one event that closes the gap: `add` when a public entry
was never announced, `update` when it was, `remove` when readers saw it and it
is no longer public. Whatever order two editors' actions commit in, the last
event says what the database says. Only public content is ever written here: a
removal carries the entry's id (and an editor's public note), never its words.

Every process that serves the stream runs a hub (liveupdates/delivery/stream.py) that
reads new events from the database, so a change made by any process (a web
worker, a command, a scheduled time passing) reaches readers everywhere.
"""

import json
import logging
import time

from django.db import connection, transaction
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from liveupdates.delivery import fragments, polling, push
from liveupdates.models import Entry, LiveEvent, LivePost, public_post_q

logger = logging.getLogger(__name__)

CHANNEL = "liveupdates"
LOCK_KEY = 7_361_001  # pg_advisory_xact_lock key serialising appends
KEY_EVENTS_SHOWN = 12
BATCH = 200  # entries one call of announce() handles; the next sweep takes the rest

ADD, UPDATE, REMOVE, PINNED, KEY_EVENTS, COVERAGE = "add", "update", "remove", "pinned", "key-events", "coverage"
SUMMARY = "summary"  # the post's "What we know" box (announce_post)
SNAPSHOTS = {PINNED, KEY_EVENTS, COVERAGE, SUMMARY}  # the latest of each replaces all earlier ones


# --- Rendering (once per change, never per reader) ------------------------------


def key_events_for(entries):
    return list(
        entries.filter(is_key_event=True)
        .order_by("-published_at", "-pk")
        .only("pk", "headline", "body", "published_at", "updated_at", "post_id")[:KEY_EVENTS_SHOWN]
    )


def render_entry(entry):
    return fragments.render_fragment(Entry.objects.for_display().get(pk=entry.pk))


def render_pinned(post):
    pinned = Entry.objects.published().for_post(post).filter(is_pinned=True).for_display().first()
    return pinned, render_to_string("liveupdates/_pinned.html", {"pinned": pinned})


def render_key_events(post):
    key_events = key_events_for(Entry.objects.published().for_post(post))
    return key_events, render_to_string("liveupdates/_key_events.html", {"key_events": key_events})


# --- The log ----------------------------------------------------------------------------


def latest_event_id(post=None):
    events = LiveEvent.objects.all() if post is None else LiveEvent.objects.filter(post=post)
    return events.aggregate(last=Max("pk"))["last"] or 0


def latest_event_id_of_post():
    """latest_event_id as an annotation of a LivePost queryset: a page reads its cursor with its post, in one query."""
    latest = LiveEvent.objects.filter(post=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    return Coalesce(Subquery(latest), 0)


def _lock_log():
    """Become the one appender until this transaction ends (re-entrant within it).

    Event ids are then in commit order, so a reader (or a hub) that has seen id
    N has seen every event below N; and an announcer that reads the state after
    taking the lock sees every change whose event is already in the log.
    SQLite serialises writers by itself.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _append(post_id, kind, payload, entry_id=None):
    """Append one event; the caller holds a transaction."""
    _lock_log()
    event = LiveEvent.objects.create(post_id=post_id, entry_id=entry_id, kind=kind, payload={"type": kind, **payload})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Delivered to every LISTENing hub when this transaction commits.
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, f"{post_id}:{event.pk}"])
    logger.debug("appended live event %s (%s) for post %s", event.pk, kind, post_id)
    # Pollers' copy of the post's head (delivery/polling.py): gone now, and again once this
    # commits, so no poller is told "nothing new" from a head read in between.
    polling.forget(post_id)
    transaction.on_commit(lambda: polling.forget(post_id))
    return event


def _append_snapshots(post):
    pinned, html = render_pinned(post)
    _append(post.pk, PINNED, {"entry": pinned.pk if pinned else None, "html": html})
    key_events, html = render_key_events(post)
    _append(post.pk, KEY_EVENTS, {"entries": [entry.pk for entry in key_events], "html": html})


def _removal_payload(entry):
    """A removal: the entry's id, and the editor's public note if there is one. Never the words."""
    if not entry.is_removed_with_note:
        return {"entry": entry.pk}
    try:
        return {"entry": entry.pk, "html": render_entry(entry)}
    except Exception:  # the words must go even if the note cannot be drawn
        logger.exception("could not render the removal note of entry %s; removing it without one", entry.pk)
        return {"entry": entry.pk}


@transaction.atomic
def announce_entry(entry_id, now=None):
    """Append the event that brings readers of entry `entry_id` up to date, if any; returns its kind or None.

    Runs under the entry's row lock, so a workflow action committing at the
    same moment waits for it (or it is skipped, and the action announces after
    its commit) and the event always describes the state that committed last.
    """
    now = now or timezone.now()
    # The log's lock first: a post unpublished (or an entry withdrawn) by a transaction that
    # appended its event before us is then seen as committed, never overtaken by our event.
    _lock_log()
    # skip_locked: a row locked by another transaction is a change in progress, which flags
    # the entry and announces it after its own commit; waiting for it would stall the
    # stream hub's one database thread (and every reader) behind a slow admin save.
    entry = Entry.objects.select_for_update(of=("self",), skip_locked=True).select_related("post").filter(pk=entry_id).first()
    if entry is None:
        return None
    seen = entry.announced_at is not None
    if not entry.post.is_public:
        # The post's own event (coverage, public: false) has cleared readers' screens; the
        # entry stays flagged, and is announced when the post is public again.
        return None
    kind: str | None
    if entry.is_public:
        kind = UPDATE if seen else ADD
    else:
        kind = REMOVE if seen else None  # a draft or a scheduled entry readers never saw
    if kind is None and not entry.live_pending:
        return None
    Entry.objects.filter(pk=entry.pk).update(
        live_pending=False, announced_at=entry.announced_at or (now if kind == ADD else None)
    )
    if kind == REMOVE:
        _append(entry.post_id, REMOVE, _removal_payload(entry), entry.pk)
        try:
            with transaction.atomic():
                _append_snapshots(entry.post)
        except Exception:  # the removal stands; the pinned slot and key events come with the next change
            logger.exception("could not render the pinned entry or key events of post %s", entry.post_id)
        return kind
    if kind in (ADD, UPDATE):
        payload = {"entry": entry.pk, "html": render_entry(entry)}
        if kind == ADD and entry.published_at is not None:  # always set on a public entry
            payload["published_at"] = entry.published_at.isoformat()
        _append(entry.post_id, kind, payload, entry.pk)
        if entry.is_pinned or entry.is_key_event or (kind == UPDATE and _in_latest_snapshots(entry)):
            _append_snapshots(entry.post)
        push.queue_alerts(entry, kind)  # sent after this commits, off the request, re-checked then
    return kind


def _in_latest_snapshots(entry):
    """Whether readers' pinned slot or key events name `entry` (it was just unpinned or unmarked)."""
    for kind in (PINNED, KEY_EVENTS):
        payload = (
            LiveEvent.objects.filter(post_id=entry.post_id, kind=kind).order_by("-pk").values_list("payload", flat=True).first()
        )
        if payload and (payload.get("entry") == entry.pk or entry.pk in payload.get("entries", ())):
            return True
    return False


class _Failures:
    """Entries whose announcement failed: logged once, retried with a growing pause, never blocking others."""

    def __init__(self):
        self.retry_at = {}  # entry id -> (monotonic time of the next try, failures so far)

    def waiting(self):
        now = time.monotonic()
        return [entry_id for entry_id, (at, _) in self.retry_at.items() if at > now]

    def failed(self, entry_id):
        _, count = self.retry_at.get(entry_id, (0, 0))
        if count == 0:
            logger.exception("could not announce entry %s; the sweep will retry it", entry_id)
        self.retry_at[entry_id] = (time.monotonic() + min(60, 2**count), count + 1)

    def succeeded(self, entry_id):
        if self.retry_at.pop(entry_id, None) is not None:
            logger.info("announced entry %s after earlier failures", entry_id)


failures = _Failures()


def announce(post_id=None, now=None):
    """Announce every flagged entry, and every entry whose publication time has come; returns how many events.

    Called after a change commits (announcer.soon) and, once a second, by
    each stream process's hub, so a scheduled entry reaches live readers at
    its time with nobody acting, and a change whose announcement was lost (a
    process killed, a render that raised) is announced by the next sweep.
    Each entry is announced in its own transaction: one that fails is logged
    once and retried later, and the rest flow.
    """
    now = now or timezone.now()
    skip = failures.waiting()
    # An entry of a hidden post stays flagged until the post is public again: its readers
    # (if it ever had any) must then hear of what changed meanwhile.
    flagged = Entry.objects.filter(public_post_q(now, prefix="post__"), live_pending=True).exclude(pk__in=skip)
    due = Entry.objects.published(now).filter(announced_at__isnull=True).exclude(pk__in=skip)
    if post_id is not None:
        flagged, due = flagged.filter(post_id=post_id), due.filter(post_id=post_id)
    candidates = set(flagged.values_list("published_at", "pk")[:BATCH])
    candidates.update(due.order_by("published_at", "pk").values_list("published_at", "pk")[:BATCH])
    # Oldest first, so live readers receive entries in the order of the timeline.
    ordered = sorted(candidates, key=lambda row: (row[0] is None, row[0] or now, row[1]))
    announced = 0
    for _, entry_id in ordered:
        try:
            if announce_entry(entry_id, now) is not None:
                announced += 1
        except Exception:
            failures.failed(entry_id)
        else:
            failures.succeeded(entry_id)
    return announced


def announce_due(now=None, post=None):
    """The sweep: `announce` for every post (or one). Kept under this name for commands and benches."""
    return announce(post_id=post.pk if post is not None else None, now=now)


def announce_post(post):
    """Tell live readers of `post` what they must now see of the post itself; the caller holds the change's transaction.

    A post that is no longer public clears readers' screens (public: false);
    one whose coverage has ended stops its readers' streams (live: false).
    """
    post = LivePost.objects.get(pk=post.pk)
    payload = {
        "live": post.is_public and post.is_live,
        "coverage_end": post.coverage_end.isoformat() if post.coverage_end else None,
        "public": post.is_public,
    }
    _append(post.pk, COVERAGE, payload)
    if post.is_public:
        _append_summary(post)


def _append_summary(post):
    """The "What we know" box, drawn once for every open reader, when it differs from what they were told.

    A snapshot (the latest counts). A post's points are logged from the moment it is public
    with any (publish_post announces the post), so an empty box needs an event only after one.
    """
    html = render_to_string("liveupdates/_what_we_know.html", {"post": post})
    told = LiveEvent.objects.filter(post_id=post.pk, kind=SUMMARY).order_by("-pk").values_list("payload", flat=True).first()
    if (told is None and not post.known_points) or (told is not None and told.get("html") == html):
        return
    _append(post.pk, SUMMARY, {"html": html})


# --- Reading the log ------------------------------------------------------------------


def parse_cursor(value):
    """A live reader's cursor (a live event id): a non-negative integer, or None when absent or malformed.

    The log's own cursor: the stream, the poll endpoint and the pages use it
    (pages need not import the stream to read one).
    """
    if value is None or not (str(value).isascii() and str(value).isdigit()):  # "²" and "١٢" are digits to Python
        return None
    cursor = int(value)
    return cursor if cursor < 2**63 else None


def visible(events, removed_entries=(), removal_notes=None):
    """Drop what a reconnecting reader must not be replayed.

    The content of an entry withdrawn since it was announced is dropped (its
    "remove" event stays), and of each snapshot kind only the latest counts.
    `events` are (id, post_id, entry_id, payload) in id order; `removal_notes`
    ({entry id: html}) are the public notes of removals that may lie beyond
    these events (a later batch).
    """
    removed = set(removed_entries)
    removed.update(entry_id for _, _, entry_id, payload in events if payload.get("type") == REMOVE)
    latest_snapshot = {}
    for event_id, _, _, payload in events:
        if payload.get("type") in SNAPSHOTS:
            latest_snapshot[payload["type"]] = event_id
    # An entry removed with a public note: a reader who never saw it gets the note where the
    # entry would have been (its add carries the note), as a fresh page shows it.
    notes = dict(removal_notes or {})
    notes.update(
        (entry_id, payload["html"]) for _, _, entry_id, payload in events if payload.get("type") == REMOVE and payload.get("html")
    )
    kept = []
    for event in events:
        event_id, post_id, entry_id, payload = event
        kind = payload.get("type")
        if kind == ADD and entry_id in notes:
            kept.append((event_id, post_id, entry_id, {**payload, "html": notes[entry_id]}))
            continue
        if kind in (ADD, UPDATE) and entry_id in removed:
            continue
        if kind in SNAPSHOTS and latest_snapshot[kind] != event_id:
            continue
        if kind in (PINNED, KEY_EVENTS) and removed.intersection(_named(payload)):
            continue  # a pinned slot or key-events panel drawn with words that are gone; a fresh one follows the removal
        kept.append(event)
    return kept


def _named(payload):
    """The entries a snapshot shows."""
    return {payload.get("entry")} | set(payload.get("entries") or ())


def read_after(post_id, after, limit=200):
    """(events safe to replay, the id of the last event read) for a reader of a post at cursor `after`.

    The last id read, not the last kept, is the reader's next cursor: otherwise
    a reader whose batch was all dropped events would ask for the same batch
    forever.
    """
    rows = list(
        LiveEvent.objects.filter(post_id=post_id, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "post_id", "entry_id", "payload")[:limit]
    )
    if not rows:
        return [], after
    # Entries announced before the cursor but not public now (withdrawn, or their removal still
    # being written) must not come back through an add or an update.
    entry_ids = {row[2] for row in rows if row[2] is not None}
    for _, _, _, payload in rows:
        if payload.get("type") in (PINNED, KEY_EVENTS):
            entry_ids |= _named(payload) - {None}
    public = set(Entry.objects.published().filter(pk__in=entry_ids).values_list("pk", flat=True))
    removed = entry_ids - public
    return visible(rows, removed, removal_notes(removed)), rows[-1][0]


def removal_notes(entry_ids):
    """{entry id: the public note left in its place} for those of `entry_ids` removed with one.

    Read from their removal events, wherever they are in the log: a reader
    replaying in batches meets the entry's add long before its removal, and
    must get the note there, as a fresh page shows it.
    """
    if not entry_ids:
        return {}
    rows = (
        LiveEvent.objects.filter(entry_id__in=entry_ids, kind=REMOVE, payload__has_key="html")
        .order_by("pk")
        .values_list("entry_id", "payload")
    )
    return {entry_id: payload["html"] for entry_id, payload in rows if payload.get("html")}


def events_after(post_id, after, limit=200):
    """Events of a post after the cursor `after`, safe to replay, oldest first."""
    return read_after(post_id, after, limit)[0]


def sse_message(event_id, payload):
    """One Server-Sent Event, encoded once and written to every reader as it is.

    The id is on the SSE `id:` line (the browser's Last-Event-ID) and in the
    data, as in the poll's answer, so one handler applies both.
    """
    data = json.dumps({"id": event_id, **payload}, separators=(",", ":"))
    return f"id: {event_id}\ndata: {data}\n\n".encode()
