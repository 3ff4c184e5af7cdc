"""Every public page and API list makes a fixed number of queries, however much it shows.

Each page is measured twice with a cold cache: with 2 entries, then with 22,
each entry with its own byline, place, source, tag, correction and photo.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from liveupdates.editorial import workflow
from liveupdates.models import Citation

from .factories import AuthorFactory, PlaceFactory, PublishedEntryFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subjects(db):
    return {
        "author": AuthorFactory(slug="shared-author"),
        "place": PlaceFactory(slug="shared-place"),
        "source": SourceFactory(slug="shared-source"),
    }


def fill(post, subjects, editor, n):
    for _ in range(n):
        entry = PublishedEntryFactory(
            post=post, body='<p>Strikes reported.</p><img src="/media/uploads/a_1200x800.jpg" alt="Smoke">'
        )
        entry.authors.add(subjects["author"], AuthorFactory())
        entry.places.add(subjects["place"], PlaceFactory())
        Citation.objects.create(entry=entry, source=subjects["source"])
        Citation.objects.create(entry=entry, source=SourceFactory(), url="https://example.org/report")
        entry.tags.add("shared", f"tag-{entry.pk}")
        workflow.correct(entry=entry, user=editor, text="A detail was corrected.")


def pages(post):
    slug = post.slug
    return [
        "/",
        post.get_absolute_url(),
        reverse("liveupdates:column", args=[post.column.slug]),
        "/authors/shared-author/",
        "/places/shared-place/",
        "/sources/shared-source/",
        "/tags/shared/",
        reverse("liveupdates:search") + "?q=strikes",
        f"/live/{slug}/feed/",
        f"/live/{slug}/feed/atom/",
        "/feed/",
        "/authors/shared-author/feed/",
        "/tags/shared/feed/",
        f"/live/{slug}/updates.json?after=0",
        "/sitemap.xml",
        "/news-sitemap.xml",
        f"/api/entries?post={slug}",
        "/api/entries",
        "/api/posts",
        "/api/authors",
        "/api/places",
        "/api/sources",
        "/api/columns",
        # The live page everywhere (issue 15): embeds, teasers and the readers' controls.
        f"/live/{slug}/embed/",
        f"/live/{slug}/teaser/",
        post.get_absolute_url() + "?order=oldest",
        post.get_absolute_url() + "?key=1",
        post.get_absolute_url() + "?tag=shared",
        post.get_absolute_url() + "?place=shared-place",
        post.get_absolute_url() + "?author=shared-author",
        f"/teasers.json?posts={slug}",
    ]


def count(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_every_public_page_and_api_list_makes_a_fixed_number_of_queries(client, post, subjects, editor):
    fill(post, subjects, editor, 2)
    few = {url: count(client, url) for url in pages(post)}
    fill(post, subjects, editor, 20)
    many = {url: count(client, url) for url in pages(post)}
    grew = {url: (few[url], many[url]) for url in few if many[url] > few[url]}
    assert grew == {}


def test_an_entry_permalink_makes_a_fixed_number_of_queries(client, post, subjects, editor):
    fill(post, subjects, editor, 1)
    from liveupdates.models import Entry

    entry = Entry.objects.published().first()
    few = count(client, entry.get_absolute_url())
    for _ in range(5):
        entry.authors.add(AuthorFactory())
        entry.places.add(PlaceFactory())
        entry.tags.add(f"more-{_}")
        workflow.correct(entry=entry, user=editor, text="Another detail.")
    assert count(client, entry.get_absolute_url()) == few


def test_a_live_page_whose_fragments_are_kept_is_built_in_five_queries(client, post, subjects, editor):
    """The post with its cursor, the page of entries, the pinned entry with the key events, the map's places, the
    column list: the page a reader gets right after a change costs no more than this (docs/benchmarks.md)."""
    fill(post, subjects, editor, 20)
    workflow.pin(entry=post.entries.published().first(), user=editor)
    client.get(post.get_absolute_url())  # fragments, the frame, key events and map are kept by this first build
    with CaptureQueriesContext(connection) as queries:
        assert client.get(post.get_absolute_url()).status_code == 200
    assert len(queries) == 5, [query["sql"][:120] for query in queries]
