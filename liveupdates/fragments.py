"""Render each entry once, when it changes, and assemble pages from the stored fragments.

A fragment's cache key names everything it shows: the entry and its
updated_at (every edit and every workflow action moves it), the slot, the
newsroom's date (times of earlier days show their date), and a version that
moves whenever a byline, place, source, tag or column is saved. Nothing is
ever purged: a change makes a new key, and old keys expire.

A live post page is cached whole in the same way, keyed by the post's latest
live event: every change readers may see appends one, so a page is never
older than the stream. When a popular page's key changes, one process
renders it while the others wait a moment for its result.
"""

import hashlib
import time

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.template.loader import render_to_string
from django.utils import timezone

from . import seo
from .models import Author, Citation, Column, Entry, LivePost, Place, Source, TaggedEntry

FRAGMENT_TTL = 24 * 60 * 60
PAGE_TTL = 60  # bounds what a page shows that no event announces: its neighbours in the column
LOCK_TTL = 10
WAIT_FOR_RENDER = 2.0
VERSION_KEY = "fragments:version"


def version():
    value = cache.get(VERSION_KEY)
    if value is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        value = cache.get(VERSION_KEY, 1)
    return value


def bump_version(**kwargs):
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


# What a lean list reads of each entry (ids and times): enough to name its fragment.
LISTED_FIELDS = ["pk", "post_id", "published_at", "updated_at", "revised_at", "status", "removal_note"]

FORMAT = 2  # moves when what a fragment's cache entry holds changes, so a deploy never reads the old shape


def _key(entry, slot, today, v):
    return f"entry{FORMAT}:{v}:{today}:{entry.pk}:{entry.updated_at.timestamp():.6f}:{slot}"


def _render(entry, pinned_slot):
    html = render_to_string("liveupdates/_entry.html", {"entry": entry, "pinned_slot": pinned_slot})
    return html, seo.blog_posting(entry) if entry.is_public else None


def render_fragment(entry):
    """Render `entry` (loaded with Entry.objects.for_display()) now and keep it for the pages.

    The live stream's announcement renders each change once, here, so the
    first page built after a publish finds the new entry's fragment ready.
    """
    value = _render(entry, False)
    cache.set(_key(entry, 0, timezone.localdate().isoformat(), version()), value, timeout=FRAGMENT_TTL)
    return value[0]


def attach_html(entries, pinned_slot=False, v=None):
    """Give each entry its fragment (`html`) and its schema.org BlogPosting (`ld`), from the cache
    or rendered now: one query for all misses, none when every fragment is cached.

    The entries may come from a lean query (ids and times only): only the
    missing ones are loaded with everything they show. `v` is the version if
    the caller has read it already (one cache read per page, not per part).
    """
    if not entries:
        return entries
    v, today, slot = v or version(), timezone.localdate().isoformat(), int(pinned_slot)
    keys = {_key(entry, slot, today, v): entry for entry in entries}
    found = cache.get_many(list(keys))
    missing = {key: entry for key, entry in keys.items() if key not in found}
    if missing:
        full = Entry.objects.for_display().in_bulk([entry.pk for entry in missing.values()])
        rendered = {key: _render(full[entry.pk], pinned_slot) for key, entry in missing.items() if entry.pk in full}
        cache.set_many(rendered, timeout=FRAGMENT_TTL)
        found.update(rendered)
    for key, entry in keys.items():
        entry.html, entry.ld = found.get(key, ("", None))
    return entries


def page_key(post, live_cursor, before):
    raw = f"{post.pk}:{live_cursor}:{post.updated_at.timestamp():.6f}:{version()}:{before or ''}:{timezone.localdate()}"
    return "page:" + hashlib.sha1(raw.encode()).hexdigest()


def cached_page(key, render):
    """The page stored under `key`, rendering it (once across processes) when missing.

    `render` returns (content, seconds the content may be kept at most). The
    deadline is stored with the page and checked here, not left to the cache's
    expiry: a scheduled entry must appear at its second.
    """

    def fresh():
        stored = cache.get(key)
        if stored is not None and stored[0] > time.time():
            return stored[1]
        return None

    page = fresh()
    if page is not None:
        return page
    if cache.add(key + ":lock", 1, timeout=LOCK_TTL):
        try:
            page, ttl = render()
            ttl = max(0.0, min(PAGE_TTL, ttl))
            cache.set(key, (time.time() + ttl, page), timeout=PAGE_TTL)
            return page
        finally:
            cache.delete(key + ":lock")
    deadline = time.monotonic() + WAIT_FOR_RENDER
    while time.monotonic() < deadline:
        time.sleep(0.02)
        page = fresh()
        if page is not None:
            return page
    return render()[0]  # the renderer is slow or gone: do not make readers wait longer


def connect():
    for model in (Author, Column, Place, Source):
        post_save.connect(bump_version, sender=model, dispatch_uid=f"fragments-save-{model.__name__}")
        post_delete.connect(bump_version, sender=model, dispatch_uid=f"fragments-delete-{model.__name__}")
    from taggit.models import Tag

    # Tags and citations can change after the entry itself was saved (admin inlines,
    # the desk's many-to-many step): they move the version too, so no fragment
    # rendered in between survives.
    for model in (Tag, TaggedEntry, Citation):
        post_save.connect(bump_version, sender=model, dispatch_uid=f"fragments-save-{model.__name__}")
        post_delete.connect(bump_version, sender=model, dispatch_uid=f"fragments-delete-{model.__name__}")
    for through in (Entry.authors.through, Entry.places.through):
        m2m_changed.connect(bump_version, sender=through, dispatch_uid=f"fragments-m2m-{through.__name__}")
    post_save.connect(bump_version, sender=LivePost, dispatch_uid="fragments-save-post")
