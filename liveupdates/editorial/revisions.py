"""Revision history of entries and live posts: every save kept, compared and restorable.

django-reversion stores each save as a revision (who, when, a comment) holding
a JSON snapshot of the object and, for an entry, of its citations and tags.
Revisions are recorded explicitly, once the whole save is done (the entry, its
many-to-many fields and its inline citations), by `record`; the workflow and the
admin call it, nothing records one by accident halfway through a save.

This module reads snapshots back as plain dictionaries of what a reader or an
editor would recognise (names, not ids), and compares two of them. Restoring a
revision is an editorial change, so it lives in liveupdates.editorial.workflow.
"""

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from html import unescape

import reversion
from django.contrib.contenttypes.models import ContentType
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from reversion.models import Version
from taggit.models import Tag

from liveupdates import richtext
from liveupdates.models import Author, Citation, Column, Entry, LivePost, Place, Source, TaggedEntry


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
    ("what_we_know", _("What we know")),
    ("column", _("Column")),
    ("coverage_start", _("Coverage starts")),
    ("coverage_end", _("Coverage ends")),
    ("lead_image", _("Lead image")),
    ("lead_image_alt", _("Lead image alt text")),
    ("lead_image_credit", _("Lead image credit")),
]


def _linked(versions, model, link):
    """For each version, the `model` rows saved in its revision and linked to its object (by `link`): one query for all."""
    rows = Version.objects.filter(
        revision_id__in={version.revision_id for version in versions}, content_type=ContentType.objects.get_for_model(model)
    )
    by_revision = defaultdict(list)
    for row in rows:
        by_revision[row.revision_id].append(row.field_dict)
    return {
        version.pk: [data for data in by_revision[version.revision_id] if str(data.get(link)) == str(version.object_id)]
        for version in versions
    }


def _name_lookup(model, ids):
    names = dict(model.objects.filter(pk__in=set(ids)).values_list("pk", "name"))
    return lambda pk: names.get(pk, f"#{pk} (deleted)")


def entry_snapshots(versions):
    """Each entry version as editors read it, names resolved: a fixed number of queries however many versions."""
    citations = _linked(versions, Citation, "entry_id")
    tagged = _linked(versions, TaggedEntry, "content_object_id")
    raws = []
    for version in versions:
        data = version.field_dict
        raws.append(
            {
                "headline": data.get("headline", ""),
                "body": data.get("body", ""),
                "author_ids": list(data.get("authors", [])),
                "place_ids": list(data.get("places", [])),
                "citations": [(c["source_id"], c.get("url", "")) for c in citations[version.pk]],
                "tag_ids": [t["tag_id"] for t in tagged[version.pk]],
            }
        )
    author = _name_lookup(Author, [pk for raw in raws for pk in raw["author_ids"]])
    place = _name_lookup(Place, [pk for raw in raws for pk in raw["place_ids"]])
    source = _name_lookup(Source, [pk for raw in raws for pk, _url in raw["citations"]])
    tag = _name_lookup(Tag, [pk for raw in raws for pk in raw["tag_ids"]])
    return [
        {
            **raw,
            "text": richtext.plain_text(raw["body"]),
            "authors": [author(pk) for pk in raw["author_ids"]],
            "places": [place(pk) for pk in raw["place_ids"]],
            "sources": [source(pk) + (f" ({url})" if url else "") for pk, url in raw["citations"]],
            "tags": sorted(tag(pk) for pk in raw["tag_ids"]),
        }
        for raw in raws
    ]


def entry_snapshot(version):
    return entry_snapshots([version])[0]


def post_snapshots(versions):
    datas = [version.field_dict for version in versions]
    column = _name_lookup(Column, [data.get("column_id") for data in datas])
    return [
        {
            **{name: data.get(name) for name, _label in POST_FIELDS if name != "column"},
            "column_id": data.get("column_id"),
            "column": column(data.get("column_id")) if data.get("column_id") else "",
        }
        for data in datas
    ]


def post_snapshot(version):
    return post_snapshots([version])[0]


def tags_with_ids(ids):
    return list(Tag.objects.filter(pk__in=ids))


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


# difflib's matcher is quadratic in the words compared: two 5,000-word texts took 4 s
# and 20,000 against 150,000 words did not finish in two minutes, on a page an editor
# loads (the review queue, an edit conflict). Past this many word pairs the diff is
# made paragraph by paragraph (whole paragraphs marked), which stays fast at any size.
WORD_DIFF_LIMIT = 1_500_000


def _paragraph_spans(words):
    """(start, stop) of each paragraph in a word list whose paragraphs are split by _BREAK."""
    spans, start = [], 0
    for index, word in enumerate(words):
        if word == _BREAK:
            spans.append((start, index))
            start = index + 1
    spans.append((start, len(words)))
    return spans


def _word_opcodes(old, new):
    """difflib opcodes over two word lists, bounded in time whatever their length."""
    if len(old) * len(new) <= WORD_DIFF_LIMIT:
        return difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    old_spans, new_spans = _paragraph_spans(old), _paragraph_spans(new)
    old_paragraphs = [tuple(old[a:b]) for a, b in old_spans]
    new_paragraphs = [tuple(new[a:b]) for a, b in new_spans]
    opcodes = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_paragraphs, new_paragraphs).get_opcodes():
        # Paragraph indexes back to word indexes (the _BREAK between two paragraphs goes with them).
        a1 = old_spans[i1][0] if i1 < len(old_spans) else len(old)
        a2 = old_spans[i2 - 1][1] if i2 > i1 else a1
        b1 = new_spans[j1][0] if j1 < len(new_spans) else len(new)
        b2 = new_spans[j2 - 1][1] if j2 > j1 else b1
        opcodes.append((op, a1, a2, b1, b2))
    return opcodes


def inline_diff(old, new, *, spoken=False):
    """Word by word: removed words in <del>, added ones in <ins>, all text escaped.

    `spoken` adds hidden words ("deleted:", "inserted:") before each change: screen
    readers do not announce <del> and <ins> by themselves.
    """
    old_words, new_words = old.split(" "), new.split(" ")
    said_del = f'<span class="nl-sr">{escape(_("deleted:"))} </span>' if spoken else ""
    said_ins = f'<span class="nl-sr">{escape(_("inserted:"))} </span>' if spoken else ""
    parts: list[str] = []
    for op, i1, i2, j1, j2 in _word_opcodes(old_words, new_words):
        if op == "equal":
            parts.append(escape(" ".join(old_words[i1:i2])))
            continue
        if op in ("delete", "replace"):
            parts.append(f"<del>{said_del}{escape(' '.join(old_words[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{said_ins}{escape(' '.join(new_words[j1:j2]))}</ins>")
    return mark_safe(" ".join(parts))  # noqa: S308 - every piece of text is escaped above


_PARAGRAPH_END = re.compile(r"</(?:p|li|h3|h4|blockquote|figcaption|figure)>|<br\s*/?>")
_BREAK = "\n"  # a paragraph break, diffed as a word of its own so the paragraphs line up


def _words(html):
    """A body's words, paragraphs apart: the text readers see (sanitised first), never its markup."""
    words: list[str] = []
    for chunk in _PARAGRAPH_END.split(richtext.sanitize(html or "")):
        text = unescape(strip_tags(chunk)).split()
        if text:
            if words:
                words.append(_BREAK)
            words.extend(text)
    return words


def _marked(words, spans, tag):
    """Paragraphs of escaped words, with the words in `spans` (index ranges) wrapped in <tag>."""
    paragraphs: list[list[str]] = [[]]
    inside = [False] * len(words)
    for start, stop in spans:
        inside[start:stop] = [True] * (stop - start)
    run: list[str] = []

    def flush():
        if run:
            paragraphs[-1].append(f"<{tag}>{escape(' '.join(run))}</{tag}>")
            run.clear()

    for word, changed in zip(words, inside, strict=True):
        if word == _BREAK:
            flush()
            paragraphs.append([])
        elif changed:
            run.append(word)
        else:
            flush()
            paragraphs[-1].append(escape(word))
    flush()
    return [mark_safe(" ".join(words)) for words in paragraphs if words]  # noqa: S308 - every word escaped above


@dataclass
class SideBySide:
    theirs: list[str]  # paragraphs, already escaped; <del> marks what is only in theirs
    mine: list[str]  # paragraphs, already escaped; <ins> marks what is only in mine


def side_by_side(theirs, mine, *, rich=True):
    """Two versions of one text, word by word, for reading side by side (an edit conflict).

    Unlike inline_diff, each side keeps its own paragraphs: the saved version
    marks the words the other lacks in <del>, the other marks its own in <ins>.
    """
    old = _words(theirs) if rich else (theirs or "").split()
    new = _words(mine) if rich else (mine or "").split()
    removed, added = [], []
    for op, i1, i2, j1, j2 in _word_opcodes(old, new):
        if op in ("delete", "replace"):
            removed.append((i1, i2))
        if op in ("insert", "replace"):
            added.append((j1, j2))
    return SideBySide(theirs=_marked(old, removed, "del"), mine=_marked(new, added, "ins"))


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
    model = type(obj)
    snapshots = (entry_snapshots if model is Entry else post_snapshots)(versions)
    rows = []
    for index, version in enumerate(versions):
        previous = snapshots[index + 1] if index + 1 < len(snapshots) else None
        rows.append({"version": version, "revision": version.revision, "changes": compare(model, previous, snapshots[index])})
    return rows[:limit]
