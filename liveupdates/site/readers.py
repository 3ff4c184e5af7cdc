"""Readers' controls on a live post: oldest first ("follow from the start") and filters (key events,
a tag, a place, an author), as real server-rendered URLs of the post's own page.

    /live/<post>/?order=oldest             from the first entry on, "Newer entries" onwards
    /live/<post>/?key=1&tag=<slug>         any combination of key, tag, place, author

The plain page (no control) is not built here: it stays the kept frame and its parts
(site/assembly.py, five queries). A controlled page is built in full, from
Entry.objects.published() like every public surface, says `noindex`, and keeps the
post as its canonical URL. It names the same live cursor, so the stream keeps
working under a filter: live.js shows a new entry that matches (data-controls tells
it what matches) and counts the others in a "N new entries not shown" notice.
"""

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import BadRequest
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from taggit.models import Tag

from liveupdates.delivery import fragments
from liveupdates.models import Author, Entry, Place, public_tags
from liveupdates.site import seo
from liveupdates.site.pagination import PAGE_SIZE, EntryPage, canonical_cursor, decode_cursor, encode_cursor, page_of

PARAMS = ("order", "key", "tag", "place", "author", "from")


class ControlsForm(forms.Form):
    order = forms.ChoiceField(
        label=gettext_lazy("Order"),
        required=False,
        choices=[("newest", gettext_lazy("Newest first")), ("oldest", gettext_lazy("Oldest first"))],
    )
    key = forms.BooleanField(label=gettext_lazy("Key events only"), required=False)
    tag = forms.SlugField(label=gettext_lazy("Tag"), required=False, allow_unicode=True, max_length=100)
    place = forms.SlugField(label=gettext_lazy("Place"), required=False, max_length=200)
    author = forms.SlugField(label=gettext_lazy("Author"), required=False, max_length=200)


@dataclass
class Controls:
    oldest: bool = False
    key: bool = False
    tag: Any = None
    place: Any = None
    author: Any = None
    place_slugs: list = field(default_factory=list)

    def query(self, **extra):
        """This page's controls as a query string (for the pager), with `extra` on top."""
        values = {
            "order": "oldest" if self.oldest else "",
            "key": "1" if self.key else "",
            "tag": self.tag.slug if self.tag else "",
            "place": self.place.slug if self.place else "",
            "author": self.author.slug if self.author else "",
            **extra,
        }
        return urlencode({name: value for name, value in values.items() if value})

    def client(self):
        """What live.js needs to tell whether a new entry matches: data-controls."""
        return json.dumps(
            {
                "oldest": self.oldest,
                "key": self.key,
                "tag": self.tag.slug if self.tag else None,
                "places": self.place_slugs,
                "author": self.author.slug if self.author else None,
            }
        )

    def apply(self, entries):
        if self.key:
            entries = entries.filter(is_key_event=True)
        if self.tag:
            entries = entries.tagged(self.tag)
        if self.place:
            entries = entries.in_place(self.place)
        if self.author:
            entries = entries.by_author(self.author)
        return entries


def from_request(request):
    """The reader's controls, or None on the plain page (no control in the query)."""
    if not any(name in request.GET for name in PARAMS):
        return None
    form = ControlsForm(request.GET)
    if not form.is_valid():
        raise BadRequest(_("This filter is not one a live post offers. Go back to the live post."))
    data = form.cleaned_data
    controls = Controls(oldest=data["order"] == "oldest", key=data["key"])
    # A tag only a draft carries answers as an unknown one (models.public_tags).
    for name, known in (("tag", public_tags()), ("place", Place.objects.public()), ("author", Author.objects.all())):
        if data[name]:
            found = known.filter(slug=data[name]).first()
            if found is None:
                raise Http404(_("There is no such tag, place or author."))
            setattr(controls, name, found)
    if controls.place:
        controls.place_slugs = list(Place.objects.filter(path__startswith=controls.place.path).values_list("slug", flat=True))
    return controls


def choices(post):
    """The tags, places and authors this post's public entries name: what its filter form offers."""
    public = Entry.objects.published().for_post(post).values("pk")
    return {
        "tags": Tag.objects.filter(liveupdates_taggedentry_items__content_object__in=public).distinct().order_by("name"),
        "places": Place.objects.public().filter(entries__in=public).distinct().order_by("name"),
        "authors": Author.objects.filter(entries__in=public).distinct().order_by("name"),
    }


def _oldest_page(queryset, start=None, size=PAGE_SIZE):
    """The page of `queryset`, oldest first, after the cursor `start` (the last entry of the page before)."""
    if start:
        moment, pk = decode_cursor(start)
        queryset = queryset.filter(Q(published_at__gt=moment) | Q(published_at=moment, pk__gt=pk))
    rows = list(queryset.order_by("published_at", "pk")[: size + 1])
    entries = rows[:size]
    newer = encode_cursor(entries[-1]) if len(rows) > size else None
    return EntryPage(entries=entries, older_cursor=newer, is_first=not start)


def page(request, post, controls, live_cursor):
    """The live post under the reader's controls, built in full."""
    listed = controls.apply(Entry.objects.published().for_post(post)).only(*fragments.LISTED_FIELDS)
    start = request.GET.get("from")
    if start:
        start = canonical_cursor(start)
    if controls.oldest:
        entry_page = _oldest_page(listed, start)
    else:
        entry_page = page_of(listed, before=start)
    fragments.attach_html(entry_page.entries)
    more = controls.query(**{"from": entry_page.older_cursor}) if entry_page.older_cursor else ""
    shown = [entry for entry in entry_page.entries if entry.ld]
    # Live updates reach the page that shows the newest entries: the first (newest first) or the last (oldest first).
    live_page = (entry_page.older_cursor is None) if controls.oldest else not start
    previous_post, next_post = post.neighbours()
    context = {
        "post": post,
        "page": entry_page,
        "controls": controls,
        "live_page": live_page,
        "previous_post": previous_post,
        "next_post": next_post,
        "parts": {
            "live_cursor": str(live_cursor),
            "json_ld": seo.live_blog_json_ld(post, shown),
            "key_events": "",
            "pinned": "",
            "place_map": "",
        },
        "more_query": more,
        "first_query": controls.query(),
        "choices": choices(post),
    }
    return render(request, "liveupdates/post_controlled.html", context)
