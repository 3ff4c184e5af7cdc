"""Revision history of entries and live posts: every save kept, compared and restorable.

django-reversion stores each save as a revision (who, when, a comment) holding
a JSON snapshot of the object and, for an entry, of its citations and tags.
Revisions are recorded explicitly, once the whole save is done (the entry, its
many-to-many fields and its inline citations), by `record`; the workflow and the
admin call it, nothing records one by accident halfway through a save.

This module reads snapshots back as plain dictionaries of what a reader or an
editor would recognise (names, not ids), and compares two of them. Restoring a
revision is an editorial change, so it lives in liveupdates.workflow.
"""

import difflib
from dataclasses import dataclass

import reversion
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from reversion.models import Version
from taggit.models import Tag

from . import richtext
from .models import Author, Citation, Column, Entry, LivePost, Place, Source, TaggedEntry


def register():
    reversion.register(Citation)
    reversion.register(TaggedEntry)
    reversion.register(Entry, follow=["citations", "tagged_entries"])
    reversion.register(LivePost)


def record(obj, *, user, comment):
    """Keep the current state of `obj` as a new revision by `user`."""
    with reversion.create_revision(manage_manually=True):
        reversion.add_to_revision(obj)
        reversion.set_user(user if user and user.is_authenticated else None)
        reversion.set_comment(comment)


def versions_of(obj):
    """Newest first, with who saved each."""
    return Version.objects.get_for_object(obj).select_related("revision", "revision__user")


# --- Snapshots: a revision as editors read it -------------------------------------------

ENTRY_FIELDS = [
    ("headline", _("Headline")),
    ("text", _("Text")),
    ("authors", _("Authors")),
    ("places", _("Places")),
    ("sources", _("Sources")),
    ("tags", _("Tags")),
]
POST_FIELDS = [
    ("headline", _("Headline")),
    ("slug", _("Address")),
    ("summary", _("Summary")),
    ("column", _("Column")),
    ("coverage_start", _("Coverage starts")),
    ("coverage_end", _("Coverage ends")),
    ("lead_image", _("Lead image")),
    ("lead_image_alt", _("Lead image alt text")),
    ("lead_image_credit", _("Lead image credit")),
]


def _names(model, ids):
    names = dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [names.get(pk, f"#{pk} (deleted)") for pk in ids]


def _related_in_revision(version, model, link):
    """The `model` rows saved in the same revision and linked (by the `link` column) to the entry."""
    others = version.revision.version_set.filter(
        content_type__app_label=model._meta.app_label, content_type__model=model._meta.model_name
    )
    return [v.field_dict for v in others if str(v.field_dict.get(link)) == str(version.object_id)]


def entry_snapshot(version):
    data = version.field_dict
    citations = _related_in_revision(version, Citation, "entry_id")
    tagged = _related_in_revision(version, TaggedEntry, "content_object_id")
    source_names = dict(Source.objects.filter(pk__in=[c["source_id"] for c in citations]).values_list("pk", "name"))
    return {
        "headline": data.get("headline", ""),
        "body": data.get("body", ""),
        "text": richtext.plain_text(data.get("body", "")),
        "author_ids": list(data.get("authors", [])),
        "place_ids": list(data.get("places", [])),
        "citations": [(c["source_id"], c.get("url", "")) for c in citations],
        "tag_ids": [t["tag_id"] for t in tagged],
        "authors": _names(Author, data.get("authors", [])),
        "places": _names(Place, data.get("places", [])),
        "sources": [source_names.get(c["source_id"], "?") + (f" ({c['url']})" if c.get("url") else "") for c in citations],
        "tags": sorted(_names(Tag, [t["tag_id"] for t in tagged])),
    }


def post_snapshot(version):
    data = version.field_dict
    column = Column.objects.filter(pk=data.get("column_id")).values_list("name", flat=True).first()
    return {
        **{name: data.get(name) for name, _label in POST_FIELDS if name != "column"},
        "column_id": data.get("column_id"),
        "column": column or "",
    }


def tags_with_ids(ids):
    return list(Tag.objects.filter(pk__in=ids))


def snapshot(version):
    return entry_snapshot(version) if version.content_type.model_class() is Entry else post_snapshot(version)


def fields_for(model):
    return ENTRY_FIELDS if model is Entry else POST_FIELDS


# --- Comparing two snapshots ---------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    html: str  # already escaped; <del> and <ins> mark the change


def _as_text(value):
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def inline_diff(old, new):
    """Word by word: removed words in <del>, added ones in <ins>, all text escaped."""
    old_words, new_words = old.split(" "), new.split(" ")
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_words, new_words, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape(" ".join(old_words[i1:i2])))
            continue
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(' '.join(old_words[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(' '.join(new_words[j1:j2]))}</ins>")
    return mark_safe(" ".join(parts))  # noqa: S308 - every piece of text is escaped above


def compare(model, old, new):
    """The fields that differ between two snapshots (old may be None: the first revision)."""
    changes = []
    for name, label in fields_for(model):
        before = _as_text(old.get(name)) if old else ""
        after = _as_text(new.get(name))
        if (old is not None and before == after) or (old is None and after == "—"):
            continue  # unchanged, or empty in the first version
        changes.append(FieldChange(str(label), inline_diff(before, after)))
    return changes


def history(obj, limit=50):
    """Each revision of `obj`, newest first (the latest `limit`), with what changed since the one before it."""
    versions = list(versions_of(obj)[: limit + 1])
    snapshots = [snapshot(version) for version in versions]
    model = type(obj)
    rows = []
    for index, version in enumerate(versions):
        previous = snapshots[index + 1] if index + 1 < len(snapshots) else None
        rows.append({"version": version, "revision": version.revision, "changes": compare(model, previous, snapshots[index])})
    return rows[:limit]
