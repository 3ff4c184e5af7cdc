"""Render each entry once, when it changes, and reuse the HTML on every page that lists it.

A fragment's cache key names the entry row's `updated_at`, which the database
moves with every change the fragment shows:

* every workflow action and every content save of the entry moves it
  (liveupdates.editorial.workflow, Entry.save());
* renaming what an entry names (an author, place, source, tag, or its live
  post's address) moves it on exactly the entries that name it:
  `touch_entries_naming` and `touch_entries_of_moved_post` below, connected
  to those models' save and delete signals in `connect()`; citations, tags
  and bylines changed without saving the entry move it on that one entry.

So the key moves through the database: a lost or failed cache write (Redis
down) can only cost a render, never keep old words on a page, and a change to
one entry never flushes the fragments of the rest of the site. Nothing is
purged; old keys expire. The cache is a copy of what the database says, so
every cache call here tolerates the cache being down.

Each process keeps the fragments it read last in its own memory too, under
the same keys (`_nearby`): a key names everything its fragment shows, so the
rule is the same one, and a page build reads Redis only for fragments this
process has not seen (an eighth of a hot page's build, docs/benchmarks.md).
Pages share those values: they read a fragment's HTML and BlogPosting and
never change them.

The fragments are the only cache of entry words in the application (the
table of every copy and its rule is in docs/architecture.md).
"""

import logging

from django.core.cache import cache
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.template.loader import render_to_string
from django.utils import timezone
from taggit.models import Tag

from liveupdates.delivery import structured
from liveupdates.delivery.memory import Remembered
from liveupdates.models import Author, Card, Citation, Entry, LivePost, Place, Source, TaggedEntry

logger = logging.getLogger(__name__)

FRAGMENT_TTL = 24 * 60 * 60

# What a lean list reads of each entry (ids and times): enough to name its fragment.
LISTED_FIELDS = ["pk", "post_id", "published_at", "updated_at", "revised_at", "status", "removal_note"]

FORMAT = 6  # moves when what a fragment's cache entry holds changes, so a deploy never reads the old shape

# About 2 KiB each: a few megabytes per process, enough for every entry on the hot pages.
_nearby = Remembered(4096)


def forget():
    """Drop the fragments kept in this process (tests reuse primary keys and times; production never does)."""
    _nearby.clear()


def _key(entry, slot, today):
    # `today`: times of earlier days show their date, so yesterday's fragment is not today's.
    return f"entry{FORMAT}:{today}:{entry.pk}:{entry.updated_at.timestamp():.6f}:{slot}"


def _render(entry, pinned_slot):
    """(HTML, BlogPosting as JSON-LD text): a page splices the text into its LiveBlogPosting as it is.

    The BlogPosting goes with every published entry, not only a public one: the key names the
    row, not the time or the post's state, so one kept while the entry was scheduled or its post
    a draft (a staff preview) is the one its public page reads. A page lists only what readers may see.
    """
    html = render_to_string("liveupdates/_entry.html", {"entry": entry, "pinned_slot": pinned_slot})
    return html, structured.script_json(structured.blog_posting(entry)) if entry.is_published else None


def _get_many(keys):
    """The fragments under `keys` that this process or the cache holds."""
    found = {}
    for key in keys:
        value = _nearby.get(key)
        if value is not None:
            found[key] = value
    if len(found) == len(keys):
        return found
    try:
        shared = cache.get_many([key for key in keys if key not in found])
    except Exception:  # the cache is a copy: without it, render
        logger.warning("fragment cache unavailable for reading; rendering", exc_info=True)
        return found
    for key, value in shared.items():
        found[key] = _nearby.put(key, value)
    return found


def _set_many(values):
    for key, value in values.items():
        _nearby.put(key, value)
    try:
        cache.set_many(values, timeout=FRAGMENT_TTL)
    except Exception:
        logger.warning("fragment cache unavailable for writing", exc_info=True)


def render_fragment(entry):
    """Render `entry` (loaded with Entry.objects.for_display()) now and keep it for the pages.

    The live stream's announcement renders each change once, here, so the
    first page built after a publish finds the new entry's fragment ready.
    """
    value = _render(entry, False)
    _set_many({_key(entry, 0, timezone.localdate().isoformat()): value})
    return value[0]


def attach_html(entries, pinned_slot=False, pinned=None):
    """Give each entry its fragment (`html`) and its schema.org BlogPosting (`ld`, JSON-LD text), from the cache
    or rendered now: one query for all misses, none when every fragment is cached.

    `pinned`, if given, gets its fragment for the pinned slot in the same cache read.
    The entries may come from a lean query (ids and times only): only the
    missing ones are loaded with everything they show.
    """
    today = timezone.localdate().isoformat()
    keys = {_key(entry, int(pinned_slot), today): (entry, pinned_slot) for entry in entries}
    if pinned is not None:
        keys[_key(pinned, 1, today)] = (pinned, True)
    if not keys:
        return entries
    found = _get_many(list(keys))
    missing = {key: shown for key, shown in keys.items() if key not in found}
    if missing:
        full = Entry.objects.for_display().in_bulk({entry.pk for entry, _ in missing.values()})
        rendered = {key: _render(full[entry.pk], slot) for key, (entry, slot) in missing.items() if entry.pk in full}
        _set_many(rendered)
        found.update(rendered)
    for key, (entry, _) in keys.items():
        entry.html, entry.ld = found.get(key, ("", None))
    return entries


# --- What moves a fragment's key, besides the entry's own changes ----------------------


def touch_entries(entries):
    """Move the fragment keys of `entries` (a queryset): one UPDATE, however many."""
    entries.update(updated_at=timezone.now())


def _entries_naming(instance):
    if isinstance(instance, Author):
        return Q(authors=instance)
    if isinstance(instance, Place):
        return Q(places=instance)
    if isinstance(instance, Source):
        return Q(citations__source=instance) | Q(citations__citing=instance) | Q(cards__source=instance)
    return Q(tagged_entries__tag=instance)  # a taggit Tag


def touch_entries_naming(sender, instance, **kwargs):
    """An author, place, source or tag was saved or is being deleted: move the fragments that name it.

    Receivers of post_save and pre_delete (connect(); pre_delete because the
    links are gone by post_delete): renames happen in the admin, the shell
    and data migrations alike, and every path must reach the fragments.
    """
    touch_entries(Entry.objects.filter(pk__in=Entry.objects.filter(_entries_naming(instance)).values("pk")))


def touch_entries_of_moved_post(sender, instance, **kwargs):
    """A live post's address is changing: its entries' permalinks change with it (pre_save of LivePost).

    Other settings of the post are not in any fragment, so saving them touches nothing.
    """
    if instance.pk is None:
        return
    old_slug = LivePost.objects.filter(pk=instance.pk).values_list("slug", flat=True).first()
    if old_slug is not None and old_slug != instance.slug:
        touch_entries(Entry.objects.filter(post_id=instance.pk))


def touch_entry(sender, instance, **kwargs):
    """A citation or tag of one entry changed without the entry being saved: move that entry's fragment."""
    touch_entries(Entry.objects.filter(pk=instance.entry_id if hasattr(instance, "entry_id") else instance.content_object_id))


def touch_entry_m2m(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if reverse:  # an author or place gained or lost entries
        touch_entries(Entry.objects.filter(pk__in=pk_set or ()))
    else:
        touch_entries(Entry.objects.filter(pk=instance.pk))


def connect():

    for model in (Author, Place, Source, Tag):
        post_save.connect(touch_entries_naming, sender=model, dispatch_uid=f"fragments-save-{model.__name__}")
        pre_delete.connect(touch_entries_naming, sender=model, dispatch_uid=f"fragments-delete-{model.__name__}")
    pre_save.connect(touch_entries_of_moved_post, sender=LivePost, dispatch_uid="fragments-moved-post")
    for model in (TaggedEntry, Citation, Card):  # a card edited by hand moves its entry
        post_save.connect(touch_entry, sender=model, dispatch_uid=f"fragments-save-{model.__name__}")
        post_delete.connect(touch_entry, sender=model, dispatch_uid=f"fragments-delete-{model.__name__}")
    for through in (Entry.authors.through, Entry.places.through):
        m2m_changed.connect(touch_entry_m2m, sender=through, dispatch_uid=f"fragments-m2m-{through.__name__}")
