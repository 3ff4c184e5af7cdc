"""What live readers are told, and when: the append-only log behind the stream and the poll endpoint.

The workflow announces changes after commit (signals.entry_changed); this
module turns them into LiveEvents, rendering each fragment once. Only public
content is ever written here: an entry is announced when it becomes public
(published, its time come, its post public), edits are sent only for public
entries, and a withdrawal sends just the entry's id.

Every process that serves the stream runs a hub (liveupdates/stream.py) that
reads new events from the database, so a change made by any process (a web
worker, a command, a scheduled time passing) reaches readers everywhere.
"""

import json
import logging

from django.db import connection, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from . import after_response, fragments
from .models import Entry, LiveEvent, LivePost
from .signals import entry_changed, post_changed

logger = logging.getLogger(__name__)

CHANNEL = "liveupdates"
LOCK_KEY = 7_361_001  # pg_advisory_xact_lock key serialising appends
KEY_EVENTS_SHOWN = 12

ADD, UPDATE, REMOVE, PINNED, KEY_EVENTS, COVERAGE = "add", "update", "remove", "pinned", "key-events", "coverage"
SNAPSHOTS = {PINNED, KEY_EVENTS, COVERAGE}  # the latest of each replaces all earlier ones


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


def _append(post_id, kind, payload, entry_id=None):
    """Append one event; the caller holds a transaction."""
    if connection.vendor == "postgresql":
        # One appender at a time, until commit: event ids are then in commit order, so a
        # reader (or a hub) that has seen id N has seen every event below N. SQLite
        # serialises writers by itself.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
    event = LiveEvent.objects.create(post_id=post_id, entry_id=entry_id, kind=kind, payload={"type": kind, **payload})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Delivered to every LISTENing hub when this transaction commits.
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, f"{post_id}:{event.pk}"])
    logger.debug("appended live event %s (%s) for post %s", event.pk, kind, post_id)
    return event


def _append_pinned(post):
    pinned, html = render_pinned(post)
    _append(post.pk, PINNED, {"entry": pinned.pk if pinned else None, "html": html})


def _append_key_events(post):
    key_events, html = render_key_events(post)
    _append(post.pk, KEY_EVENTS, {"entries": [entry.pk for entry in key_events], "html": html})


def announce_due(now=None, post=None):
    """Announce every entry that has become public and was not announced yet.

    Called after a publication commits and, once a second, by each stream
    process's hub, so a scheduled entry reaches live readers at its time with
    nobody acting. The compare-and-set on announced_at lets exactly one process
    announce each entry. Returns the number announced.
    """
    now = now or timezone.now()
    due = Entry.objects.published(now).filter(announced_at__isnull=True).select_related("post")
    if post is not None:
        due = due.filter(post=post)
    announced = 0
    for entry in due.order_by("published_at", "pk")[:200]:
        with transaction.atomic():
            if not Entry.objects.filter(pk=entry.pk, announced_at__isnull=True).update(announced_at=now):
                continue
            _append(entry.post_id, ADD, {"entry": entry.pk, "published_at": entry.published_at.isoformat(), "html": render_entry(entry)}, entry.pk)
            if entry.is_pinned:
                _append_pinned(entry.post)
            if entry.is_key_event:
                _append_key_events(entry.post)
            announced += 1
    return announced


@transaction.atomic
def entry_did_change(entry, action):
    """Tell live readers about a committed change to `entry`."""
    entry = Entry.objects.select_related("post").get(pk=entry.pk)
    post = entry.post
    if action in ("published", "scheduled"):
        announce_due(post=post)
        return
    if action == "withdrawn":
        # Only the removal note travels, never the withdrawn words.
        note = {"html": render_entry(entry)} if entry.is_removed_with_note else {}
        _append(post.pk, REMOVE, {"entry": entry.pk, **note}, entry.pk)
        _append_pinned(post)
        _append_key_events(post)
        return
    if not entry.is_public or entry.announced_at is None:
        return  # readers have not seen it yet; its announcement will carry the latest state
    if action in ("edited", "corrected"):
        _append(post.pk, UPDATE, {"entry": entry.pk, "html": render_entry(entry)}, entry.pk)
        if entry.is_pinned:
            _append_pinned(post)
        if entry.is_key_event:
            _append_key_events(post)
    elif action in ("pinned", "unpinned"):
        _append_pinned(post)
    elif action in ("marked_key_event", "unmarked_key_event"):
        _append(post.pk, UPDATE, {"entry": entry.pk, "html": render_entry(entry)}, entry.pk)
        _append_key_events(post)


@transaction.atomic
def post_did_change(post, action):
    post = LivePost.objects.get(pk=post.pk)
    payload = {
        "live": post.is_public and post.is_live,
        "coverage_end": post.coverage_end.isoformat() if post.coverage_end else None,
        "public": post.is_public,
    }
    _append(post.pk, COVERAGE, payload)


# --- Reading the log ------------------------------------------------------------------


def visible(events, removed_entries=()):
    """Drop what a reconnecting reader must not be replayed.

    The content of an entry withdrawn since it was announced is dropped (its
    "remove" event stays), and of each snapshot kind only the latest counts.
    `events` are (id, post_id, entry_id, payload) in id order.
    """
    removed = set(removed_entries)
    removed.update(entry_id for _, _, entry_id, payload in events if payload.get("type") == REMOVE)
    latest_snapshot = {}
    for event_id, _, _, payload in events:
        if payload.get("type") in SNAPSHOTS:
            latest_snapshot[payload["type"]] = event_id
    kept = []
    for event in events:
        event_id, _, entry_id, payload = event
        kind = payload.get("type")
        if kind in (ADD, UPDATE) and entry_id in removed:
            continue
        if kind in SNAPSHOTS and latest_snapshot[kind] != event_id:
            continue
        kept.append(event)
    return kept


def events_after(post_id, after, limit=200):
    """Events of a post after the cursor `after`, safe to replay, oldest first."""
    rows = list(
        LiveEvent.objects.filter(post_id=post_id, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "post_id", "entry_id", "payload")[:limit]
    )
    if not rows:
        return []
    # Entries announced before the cursor but withdrawn since must not come back through an update.
    entry_ids = {row[2] for row in rows if row[2] is not None}
    withdrawn = set(
        Entry.objects.filter(pk__in=entry_ids).exclude(pk__in=Entry.objects.published().values("pk")).values_list("pk", flat=True)
    )
    return visible(rows, withdrawn)


def sse_message(event_id, payload):
    """One Server-Sent Event, encoded once and written to every reader as it is."""
    return f"id: {event_id}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


# --- Wiring -------------------------------------------------------------------------------


def _on_entry_changed(sender, entry, action, **kwargs):
    if action in ("published", "scheduled"):
        # The sweep in every stream process catches a publication this misses, so the
        # announcement may wait until the saver has their answer. Edits and withdrawals
        # have no such net: they are announced before the response.
        after_response.defer(announce_due, None, entry.post_id)
    else:
        entry_did_change(entry, action)


def _on_post_changed(sender, post, action, **kwargs):
    post_did_change(post, action)


def connect():
    entry_changed.connect(_on_entry_changed, dispatch_uid="live-entry-changed")
    post_changed.connect(_on_post_changed, dispatch_uid="live-post-changed")
