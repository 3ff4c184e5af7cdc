"""A live post page assembled from stored parts, so a publish costs one new fragment, not a whole render.

After a publish the page's key moves (fragments.page_key) and its first page
must be built again, but most of it did not change. The page splits in two:

* the frame: head, header, navigation, column list, footer. It is rendered
  with a marker where each moving part goes and kept in process memory, keyed
  by everything it shows as read from the database on this request (the
  post's row, its column, whose `posts_changed_at` moves with every change to
  the neighbouring posts it links to, the column list, the day, whether
  coverage is live), so a change to any of them is a new key at once;
* the moving parts: the live cursor, the structured data, the key events, the
  pinned entry, the entry list and the map. The entries are their stored
  fragments (fragments.attach_html); the key events and the map are rendered
  once per content and kept by what they show, read from the database.

No part holds entry words under a key the database does not move: a
withdrawn entry is simply not in the lists read on the next request.

A miss reads the lists (ids and times), fills the markers and joins strings.
The first page's five queries are built by the same querysets as the parts'
and compiled to SQL once per process (site/prepared.py); each request still
reads every row. Older pages and previews use the same parts in the full template.
"""

import re
import time
from types import SimpleNamespace

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from liveupdates.delivery import fragments, live
from liveupdates.delivery.memory import Remembered
from liveupdates.models import Column, Entry, Place
from liveupdates.site import maps, prepared, seo
from liveupdates.site.pagination import PAGE_SIZE, page_from_rows, page_of

# Everything a frame shows is in its key; this bounds only what no key can name (a
# template changed by a deploy is a new process anyway).
FRAME_SECONDS = 300

SLOTS = ("live_cursor", "json_ld", "key_events", "pinned", "entries", "place_map")
_MARKER = re.compile("\x00([a-z_]+)\x00")  # NUL never reaches a page: forms and the middleware refuse it


_frames = Remembered(256)
_key_event_lists = Remembered(256)
_maps = Remembered(256)


def forget():
    """Drop every part kept in this process (tests reuse primary keys; production never does)."""
    for store in (_frames, _key_event_lists, _maps):
        store.clear()
    fragments.forget()
    prepared.forget()


# --- The moving parts ----------------------------------------------------------------


def _featured_query(entries):
    """The pinned entry and the key events among `entries`, newest first."""
    return entries.filter(Q(is_pinned=True) | Q(is_key_event=True)).order_by("-published_at", "-pk")


def _featured(entries, rows=None):
    """(the pinned entry, the key events) of `entries()`, read lean (ids and times) in one query (or from `rows`).

    Key events are a handful among a post's entries, and the pinned entry one:
    both come from their partial indexes. Only when more key events are newer
    than the pinned entry than the panel shows is the pinned entry read on its own.
    """
    shown = live.KEY_EVENTS_SHOWN
    if rows is None:
        rows = list(_featured_query(entries()).only(*fragments.LISTED_FIELDS, "is_pinned", "is_key_event")[: shown + 1])
    pinned = next((entry for entry in rows if entry.is_pinned), None)
    key_events = [entry for entry in rows if entry.is_key_event][:shown]
    if pinned is None and len(rows) > shown:
        pinned = entries().filter(is_pinned=True).only(*fragments.LISTED_FIELDS).first()
    return pinned, key_events


def _key_events_html(entries, key_events):
    """The key events panel, kept by the ids and `updated_at` of the entries it shows (read on every request).

    `entries()` gives the public entries, read only when the panel must be drawn."""
    signature = ",".join(f"{e.pk}:{e.updated_at.timestamp():.6f}" for e in key_events)
    key = (signature, timezone.localdate(), get_language())
    html = _key_event_lists.get(key)
    if html is None:
        # What the panel quotes (headlines, first words) is read only to draw it.
        html = _key_event_lists.put(
            key, render_to_string("liveupdates/_key_events.html", {"key_events": live.key_events_for(entries())})
        )
    return html


def _map_html(places):
    key = (tuple((p.pk, p.name, p.slug, p.kind, p.latitude, p.longitude) for p in places), get_language())
    html = _maps.get(key)
    if html is None:
        html = _maps.put(key, render_to_string("liveupdates/_map.html", {"place_map": maps.place_map(places)}))
    return html


def parts(post, entries, listed, before=None, live_cursor=0, structured_data=False):
    """The moving parts of a live post page, each rendered or taken from where it is kept.

    `entries` are those readers may see; `listed` what the page lists (removal notes included).
    Returns the parts (safe HTML, by slot) and the page of entries.
    """
    page = page_of(listed.only(*fragments.LISTED_FIELDS), before=before)
    pinned, key_events = _featured(lambda: entries) if page.is_first else (None, [])
    places = list(maps.latest_places(entries)) if page.is_first else []
    return _filled(post, page, pinned, key_events, lambda: entries, places, live_cursor, structured_data), page


def _filled(post, page, pinned, key_events, entries, places, live_cursor, structured_data):
    """The parts, from what was read: `entries()` gives the public entries, for a panel not kept yet."""
    fragments.attach_html(page.entries, pinned=pinned)
    values = dict.fromkeys(SLOTS, "")
    values["live_cursor"] = str(live_cursor)
    values["entries"] = render_to_string("liveupdates/_entry_stream.html", {"page": page})
    if page.is_first:
        values["pinned"] = render_to_string("liveupdates/_pinned.html", {"pinned": pinned})
        values["key_events"] = _key_events_html(entries, key_events)
        values["place_map"] = _map_html(places)
    if structured_data:
        # Crawlers see every entry on the page as a liveBlogUpdate, rendered on the server.
        shown = [entry for entry in page.entries if entry.ld]
        values["json_ld"] = seo.live_blog_json_ld(post, shown)
    return {slot: mark_safe(value) for slot, value in values.items()}  # noqa: S308 - rendered templates and escaped JSON


# --- The frame -----------------------------------------------------------------------------


def _frame(request, post, columns):
    """The first page around its moving parts: [text, slot, text, slot, ..., text].

    Kept under what it shows, as read with the post on this request: the post's
    row, its column (whose `posts_changed_at` moves with any change to the
    posts the frame links to as neighbours), the column list, the day and
    whether coverage is live. A post scheduled to become public later is
    linked as a neighbour once a frame is made after its time: within
    FRAME_SECONDS.
    """
    key = (
        post.pk,
        post.updated_at,
        post.column.name,
        post.column.slug,
        post.column.posts_changed_at,
        tuple((c.name, c.slug) for c in columns),
        timezone.localdate(),
        post.is_live,
        get_language(),
    )
    kept = _frames.get(key)
    now = time.time()
    if kept is not None and kept[0] > now:
        return kept[1]
    # The live badge flips when coverage ends: the frame lasts no longer than that.
    until = now + FRAME_SECONDS
    if post.is_live and post.coverage_end:
        until = min(until, now + max(0.0, (post.coverage_end - timezone.now()).total_seconds()))
    previous_post, next_post = post.neighbours()
    page_context = {
        "post": post,
        "page": SimpleNamespace(is_first=True),
        "parts": {slot: mark_safe(f"\x00{slot}\x00") for slot in SLOTS},  # noqa: S308 - fixed markers
        "previous_post": previous_post,
        "next_post": next_post,
        "nav_columns": columns,
    }
    pieces = _MARKER.split(render_to_string("liveupdates/post.html", page_context, request))
    _frames.put(key, (until, pieces))
    return pieces


# --- The first page's reads, compiled once (site/prepared.py) ------------------------------


def _model_order(model, names):
    """`names` in the order of the model's fields: the order Model.from_db() reads values in."""
    return [field.attname for field in model._meta.concrete_fields if field.attname in names]


LEAN = _model_order(Entry, {name if name != "pk" else "id" for name in fragments.LISTED_FIELDS})
FEATURED = _model_order(Entry, {*LEAN, "is_pinned", "is_key_event"})
_LISTED = prepared.Prepared(
    lambda now, post_id: (
        Entry.objects.on_page(now).filter(post_id=post_id).order_by("-published_at", "-pk").values_list(*LEAN)[: PAGE_SIZE + 1]
    ),
    now="time",
    post_id="id",
)


def _featured_rows(now, post_id):
    entries = Entry.objects.published(now).filter(post_id=post_id)
    return _featured_query(entries).values_list(*FEATURED)[: live.KEY_EVENTS_SHOWN + 1]


_FEATURED = prepared.Prepared(_featured_rows, now="time", post_id="id")
MAPPED = _model_order(Place, {"id", "name", "slug", "kind", "latitude", "longitude"})
_PLACES = prepared.Prepared(
    lambda now, post_id: maps.latest_places(Entry.objects.published(now).filter(post_id=post_id)).values_list(*MAPPED),
    now="time",
    post_id="id",
)
LISTED_COLUMNS = _model_order(Column, {"id", "name", "slug"})
_COLUMNS = prepared.Prepared(lambda: Column.objects.filter(is_active=True).values_list(*LISTED_COLUMNS))


def _lean(rows, fields=LEAN):
    return [Entry.from_db(None, fields, row) for row in rows]


def first_page(request, post, live_cursor, now):
    """The first page of a live post: its frame with the moving parts in place.

    The same reads as `parts()` for a first page, in the same five queries, run
    from SQL compiled once (test_assembly checks the two pages are the same).
    """
    page = page_from_rows(_lean(_LISTED.rows(now=now, post_id=post.pk)))

    def entries():  # built only if a part is not kept yet, or in the rare case _featured needs it
        return Entry.objects.published(now).for_post(post)

    pinned, key_events = _featured(entries, rows=_lean(_FEATURED.rows(now=now, post_id=post.pk), fields=FEATURED))
    places = [Place.from_db(None, MAPPED, row) for row in _PLACES.rows(now=now, post_id=post.pk)]
    values = _filled(post, page, pinned, key_events, entries, places, live_cursor, structured_data=True)
    columns = [Column.from_db(None, LISTED_COLUMNS, row) for row in _COLUMNS.rows()]
    pieces = _frame(request, post, columns)
    # Odd positions are slot names (re.split keeps the captured group).
    return "".join(values[piece] if i % 2 else piece for i, piece in enumerate(pieces))
