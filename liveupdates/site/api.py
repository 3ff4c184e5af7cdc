"""The public, read-only JSON API (django-ninja): OpenAPI 3 at /api/openapi.json, docs at /api/docs.

Everything starts from the published() querysets. Lists use cursor pagination
with a stable order; a bad parameter is a 4xx with a sentence, never a 500.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import BadRequest
from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import HttpError

from liveupdates import richtext
from liveupdates.delivery.cards import card_data
from liveupdates.models import Author, Column, Entry, LivePost, Place, Source, public_tags
from liveupdates.site.pagination import decode_cursor, encode_cursor

api = NinjaAPI(
    title=f"{settings.SITE_NAME} API",
    version="1",
    description="Published live coverage: columns, live posts, entries, authors, places and sources. Read-only.",
    urls_namespace="api",
)

PAGE = 50


class Link(Schema):
    name: str
    slug: str
    url: str | None = Field(description="Its page; null for a place or source an editor has not reviewed yet")


class Citation(Schema):
    name: str
    slug: str
    url: str | None = Field(description="Its page; null for a source an editor has not reviewed yet")
    cited_url: str
    citing: Link | None = Field(None, description="The source this source itself cites (NOW Lebanon, citing Alaraby Aljadeed)")


class VerificationOut(Schema):
    state: str = Field(description="'unverified', 'verified' or 'disputed'")
    label: str = Field(description="As readers see it: 'Verified: geolocated by our team'")
    method: str = Field(description="For verified: 'geolocated', 'confirmed' or 'first_hand'")
    note: str
    at: datetime | None


class CardOut(Schema):
    id: int
    network: str
    url: str = Field(description="The original post's address")
    title: str
    author_name: str
    author_handle: str
    author_url: str
    text: str
    published_at: datetime | None
    archived_at: datetime | None = Field(description="When the newsroom archived its copy; null when written by hand")
    image: str = Field(description="The newsroom's own copy of the image or video poster, or ''")
    video: bool
    source: str | None = Field(description="The cited source's slug")
    verification: str | None
    verification_label: str
    verification_note: str


class ColumnOut(Schema):
    name: str
    slug: str
    description: str
    active: bool
    url: str


class PostOut(Schema):
    headline: str
    slug: str
    summary: str
    column: str
    coverage_start: datetime
    coverage_end: datetime | None
    live: bool
    url: str


class CorrectionOut(Schema):
    kind: str = Field(description="'correction' or 'update'")
    text: str = Field(description="Plain text, as readers see it")
    at: datetime


class EntryOut(Schema):
    id: int
    post: str
    headline: str
    body_html: str
    published_at: datetime
    updated_at: datetime = Field(description="When the words last changed (a correction, an edit), else published_at")
    corrections: list[CorrectionOut]
    url: str
    key_event: bool
    pinned: bool
    authors: list[Link]
    places: list[Link]
    sources: list[Citation]
    tags: list[str]
    verification: VerificationOut | None = Field(
        None, description="What the newsroom says it has verified; null when not assessed"
    )
    cards: list[CardOut] = Field(default_factory=list, description="The newsroom's archived copies of the posts the entry cites")


class AuthorOut(Schema):
    name: str
    slug: str
    bio: str
    url: str


class PlaceOut(Schema):
    name: str
    slug: str
    kind: str
    parent: str | None
    ancestors: list[str]
    latitude: float | None
    longitude: float | None
    alternative_names: list[str]
    url: str


class SourceOut(Schema):
    name: str
    slug: str
    kind: str
    homepage: str
    description: str
    url: str


def page(items, next_cursor):
    return {"items": items, "next_cursor": next_cursor}


def _link(obj):
    # A place or source not yet reviewed has no page (PlaceQuerySet.public): named, not linked.
    linked = getattr(obj, "reviewed", True)
    return {"name": obj.name, "slug": obj.slug, "url": obj.get_absolute_url() if linked else None}


def _entry(entry):
    return {
        "id": entry.pk,
        "post": entry.post.slug,
        "headline": entry.headline,
        "body_html": richtext.sanitize(entry.body),
        "published_at": entry.published_at,
        "updated_at": entry.modified_at,
        "corrections": [{"kind": c.kind, "text": c.text, "at": c.created_at} for c in entry.corrections.all()],
        "url": entry.get_absolute_url(),
        "key_event": entry.is_key_event,
        "pinned": entry.is_pinned,
        "authors": [_link(a) for a in entry.authors.all()],
        "places": [_link(p) for p in entry.places.all()],
        "sources": [
            {**_link(c.source), "cited_url": c.public_url, "citing": _link(c.citing) if c.citing_id else None}
            for c in entry.citations.all()
        ],
        "tags": [t.name for t in entry.tags.all()],
        "verification": _verification(entry),
        "cards": [card_data(card) for card in entry.cards.all()],
    }


def _verification(entry):
    if not entry.verification:
        return None
    return {
        "state": entry.verification,
        "label": entry.verification_label,
        "method": entry.verification_method,
        "note": entry.verification_note,
        "at": entry.verified_at,
    }


def _by_pk(queryset, cursor, serialize, newest_first=False):
    """Pages of a list ordered by id; the cursor is the last id seen."""
    if cursor:
        # isdigit() alone would let "²" through to int(): found by the schemathesis fuzz test.
        if not (cursor.isascii() and cursor.isdigit() and len(cursor) < 19):
            raise HttpError(400, "cursor must be the next_cursor value of the previous page.")
        queryset = queryset.filter(pk__lt=int(cursor)) if newest_first else queryset.filter(pk__gt=int(cursor))
    rows = list(queryset.order_by("-pk" if newest_first else "pk")[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return page([serialize(row) for row in rows], str(rows[-1].pk) if more else None)


class EntryFilters(Schema):
    post: str | None = None
    column: str | None = None
    author: str | None = None
    place: str | None = None
    source: str | None = None
    tag: str | None = None
    key_events: bool | None = None
    since: datetime | None = None
    cursor: str | None = None


class ListOf(Schema):
    next_cursor: str | None


class EntryPage(ListOf):
    items: list[EntryOut]


class ColumnPage(ListOf):
    items: list[ColumnOut]


class PostPage(ListOf):
    items: list[PostOut]


class AuthorPage(ListOf):
    items: list[AuthorOut]


class PlacePage(ListOf):
    items: list[PlaceOut]


class SourcePage(ListOf):
    items: list[SourceOut]


def _subject(known, slug, kind):
    found = known.filter(slug=slug).first()
    if found is None:
        raise HttpError(404, f"There is no {kind} '{slug}'.")
    return found


def _post(post):
    return {
        "headline": post.headline,
        "slug": post.slug,
        "summary": post.summary,
        "column": post.column.slug,
        "coverage_start": post.coverage_start,
        "coverage_end": post.coverage_end,
        "live": post.is_live,
        "url": post.get_absolute_url(),
    }


@api.get("/columns", response=ColumnPage, summary="Columns (recurring series)")
def columns(request, cursor: str | None = None):
    return _by_pk(
        Column.objects.all(),
        cursor,
        lambda c: {
            "name": c.name,
            "slug": c.slug,
            "description": c.description,
            "active": c.is_active,
            "url": c.get_absolute_url(),
        },
    )


@api.get("/posts", response=PostPage, summary="Published live posts, newest coverage first")
def posts(request, column: str | None = None, cursor: str | None = None):
    queryset = LivePost.objects.published().select_related("column")
    if column:
        queryset = queryset.filter(column__slug=column)
    return _by_pk(queryset, cursor, _post, newest_first=True)


@api.get("/posts/{slug}", response=PostOut, summary="One published live post")
def post(request, slug: str):
    return _post(get_object_or_404(LivePost.objects.published().select_related("column"), slug=slug))


@api.get("/entries", response=EntryPage, summary="Published entries, newest first")
def entries(request, filters: Query[EntryFilters]):
    queryset = Entry.objects.published()
    if filters.post:
        queryset = queryset.filter(post__slug=filters.post)
    if filters.column:
        queryset = queryset.filter(post__column__slug=filters.column)
    if filters.author:
        queryset = queryset.by_author(_subject(Author.objects.all(), filters.author, "author"))
    if filters.place:
        queryset = queryset.in_place(_subject(Place.objects.public(), filters.place, "place"))
    if filters.source:
        queryset = queryset.citing(_subject(Source.objects.public(), filters.source, "source"))
    if filters.tag:
        queryset = queryset.tagged(_subject(public_tags(), filters.tag, "tag"))
    if filters.key_events is not None:
        queryset = queryset.filter(is_key_event=filters.key_events)
    if filters.since:
        if filters.since.tzinfo is None:
            raise HttpError(400, "since needs a time zone, e.g. 2026-11-25T14:05:00Z.")
        try:
            # The database compares in UTC; a time at the calendar's very edge has no UTC twin.
            since = filters.since.astimezone(UTC)
        except OverflowError as error:
            raise HttpError(400, "since is outside the calendar once moved to UTC.") from error
        queryset = queryset.filter(published_at__gt=since)
    if filters.cursor:
        try:
            moment, pk = decode_cursor(filters.cursor)
        except BadRequest as error:
            raise HttpError(400, "cursor must be the next_cursor value of the previous page.") from error

        queryset = queryset.filter(Q(published_at__lt=moment) | Q(published_at=moment, pk__lt=pk))
    rows = list(queryset.for_display().order_by("-published_at", "-pk")[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return page([_entry(e) for e in rows], encode_cursor(rows[-1]) if more else None)


@api.get("/entries/{entry_id}", response=EntryOut, summary="One published entry")
def entry(request, entry_id: int):
    if not 0 < entry_id < 2**63:
        raise HttpError(404, "There is no such entry.")
    return _entry(get_object_or_404(Entry.objects.published().for_display(), pk=entry_id))


@api.get("/authors", response=AuthorPage, summary="Bylines")
def authors(request, cursor: str | None = None):
    return _by_pk(
        Author.objects.all(), cursor, lambda a: {"name": a.name, "slug": a.slug, "bio": a.bio, "url": a.get_absolute_url()}
    )


@api.get("/places", response=PlacePage, summary="Places, with their hierarchy")
def places(request, cursor: str | None = None):
    names = dict(Place.objects.public().values_list("pk", "slug"))

    def serialize(p):
        ancestor_ids = [int(pk) for pk in p.path.strip("/").split("/") if pk][:-1]
        return {
            "name": p.name,
            "slug": p.slug,
            "kind": p.kind,
            "parent": names.get(p.parent_id),
            "ancestors": [names[pk] for pk in ancestor_ids if pk in names],
            "latitude": float(p.latitude) if p.latitude is not None else None,
            "longitude": float(p.longitude) if p.longitude is not None else None,
            "alternative_names": p.alternative_name_list,
            "url": p.get_absolute_url(),
        }

    return _by_pk(Place.objects.public(), cursor, serialize)


@api.get("/sources", response=SourcePage, summary="Cited sources")
def sources(request, cursor: str | None = None):
    return _by_pk(
        Source.objects.public(),
        cursor,
        lambda s: {
            "name": s.name,
            "slug": s.slug,
            "kind": s.kind,
            "homepage": s.homepage,
            "description": s.description,
            "url": s.get_absolute_url(),
        },
    )
