"""Live teasers: each live post with its latest entries and when it was last updated.

Shown on the home page and column pages, answered as JSON for the pages'
teasers.js to refresh them (site/embeds.py teasers_json), and embeddable
(site/embeds.py teaser_embed). Every teaser
starts from Entry.objects.published(): a withdrawn entry leaves the next
answer, and a post that is no longer public is absent from it (its teaser is
then removed from open pages).

One query for the entries of every teaser on a page, however many posts and
entries there are. On PostgreSQL each post's newest entries are read from
their own index range, joined by UNION ALL: a window function numbering each
post's entries reads every entry of the posts (50 ms for a post of 100,000
entries, on the home page, column pages, teasers.json and every partner's
teaser embed). SQLite allows no LIMIT inside a UNION, so there the window
function numbers them (the embedded default, not the engine for a big archive).
"""

from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string

from liveupdates.models import Entry

ENTRIES_SHOWN = 3


def latest_entries(post_ids, count=ENTRIES_SHOWN):
    """{post id: its `count` newest public entries}, in one query."""
    post_ids = list(dict.fromkeys(post_ids))  # once each: UNION ALL would repeat a post's entries
    if not post_ids:
        return {}
    newest = (
        Entry.objects.published()
        .only("pk", "post_id", "headline", "body", "published_at", "updated_at", "is_key_event")
        .order_by("-published_at", "-pk")
    )
    if connection.features.supports_slicing_ordering_in_compound:
        each = [newest.filter(post_id=pk)[:count] for pk in post_ids]
        rows = each[0].union(*each[1:], all=True) if len(each) > 1 else each[0]  # ordered as `newest`, as a whole
    else:
        ranked = Window(RowNumber(), partition_by=[F("post_id")], order_by=[F("published_at").desc(), F("pk").desc()])
        rows = newest.filter(post_id__in=post_ids).annotate(rank=ranked).filter(rank__lte=count)
    found = {pk: [] for pk in post_ids}
    for entry in rows:
        found[entry.post_id].append(entry)
    return found


def attach(posts):
    """Give each post its `teaser_entries` and `last_update` (the newest entry's time, or None)."""
    found = latest_entries([post.pk for post in posts])
    for post in posts:
        post.teaser_entries = found.get(post.pk, [])
        post.last_update = post.teaser_entries[0].published_at if post.teaser_entries else None
    return posts


def render(post):
    return render_to_string("liveupdates/_teaser.html", {"post": post})
