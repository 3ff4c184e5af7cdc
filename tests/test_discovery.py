"""Feeds, sitemaps, structured data, social cards and search: every door carries only published content."""

import json
import re
from datetime import timedelta

import extruct
import feedparser
import pytest
from django.utils import timezone

from liveupdates.editorial import workflow
from liveupdates.models import EntryStatus, PostStatus

from .factories import (
    AuthorFactory,
    CitationFactory,
    EntryFactory,
    LivePostFactory,
    PlaceFactory,
    PublishedEntryFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(post):
    """A public post with one public entry, and one entry in every state that must stay hidden."""
    author, place, source = AuthorFactory(), PlaceFactory(), SourceFactory()
    public = PublishedEntryFactory(post=post, headline="Visible strike report", body="<p>Seven strikes on Douma today.</p>")
    hidden = [
        EntryFactory(post=post, headline="Hidden draft"),
        EntryFactory(post=post, headline="Hidden in review", status=EntryStatus.IN_REVIEW),
        EntryFactory(
            post=post, headline="Hidden withdrawn", status=EntryStatus.WITHDRAWN, published_at=timezone.now() - timedelta(hours=1)
        ),
        EntryFactory(
            post=post, headline="Hidden scheduled", status=EntryStatus.PUBLISHED, published_at=timezone.now() + timedelta(hours=1)
        ),
        PublishedEntryFactory(
            post=LivePostFactory(column=post.column, status=PostStatus.DRAFT, published_at=None),
            headline="Hidden in unpublished post",
        ),
    ]
    for entry in [public, *hidden]:
        entry.authors.add(author)
        entry.places.add(place)
        CitationFactory(entry=entry, source=source)
        entry.tags.add("douma")
    return {"post": post, "public": public, "hidden": hidden, "author": author, "place": place, "source": source}


def feed_urls(world):
    post, author, place, source = world["post"], world["author"], world["place"], world["source"]
    urls = [
        "/feed/",
        f"/live/{post.slug}/feed/",
        f"/columns/{post.column.slug}/feed/",
        f"/authors/{author.slug}/feed/",
        f"/places/{place.slug}/feed/",
        f"/sources/{source.slug}/feed/",
        "/tags/douma/feed/",
    ]
    return urls + [url + "atom/" for url in urls]


def test_every_feed_parses_cleanly_and_carries_only_published_entries(client, world):
    for url in feed_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        titles = [item.title for item in parsed.entries]
        assert titles == ["Visible strike report"], (url, titles)
        assert parsed.entries[0].link.endswith(world["public"].get_absolute_url())
        assert "updated" in parsed.entries[0] or "published" in parsed.entries[0]


def test_feed_html_is_sanitised(client, post):
    entry = PublishedEntryFactory(post=post)
    type(entry).objects.filter(pk=entry.pk).update(body='<p onclick="x()">ok</p><script>alert(1)</script>')
    body = client.get(f"/live/{post.slug}/feed/").content.decode()
    assert "<script" not in body and "&lt;script" not in body and "onclick" not in body


def test_pages_advertise_their_feeds(client, world):
    html = client.get(world["post"].get_absolute_url()).content.decode()
    assert '<link rel="alternate" type="application/rss+xml"' in html and f'href="/live/{world["post"].slug}/feed/"' in html
    assert 'type="application/atom+xml"' in html
    assert 'href="/places/' in client.get(world["place"].get_absolute_url()).content.decode()


def test_an_unknown_feed_is_404(client, db):
    assert client.get("/authors/nobody/feed/").status_code == 404
    assert client.get("/live/not-public/feed/").status_code == 404


def test_the_live_post_carries_liveblogposting_json_ld_with_every_entry(client, world, editor):
    ended = world["post"]
    response = client.get(ended.get_absolute_url())
    data = extruct.extract(response.content.decode(), base_url="http://127.0.0.1:8000", syntaxes=["json-ld"])["json-ld"]
    [blog] = [item for item in data if item.get("@type") == "LiveBlogPosting"]
    assert blog["coverageStartTime"] and "coverageEndTime" not in blog
    [update] = blog["liveBlogUpdate"]
    assert update["@type"] == "BlogPosting" and update["headline"] == "Visible strike report"
    assert update["articleBody"] == "Seven strikes on Douma today."
    for key in ("datePublished", "dateModified", "author"):
        assert update[key]
    assert "Hidden" not in json.dumps(blog)


def test_an_ended_post_has_a_coverage_end_time(client):
    post = LivePostFactory(coverage_end=timezone.now() - timedelta(hours=1))
    data = extruct.extract(client.get(post.get_absolute_url()).content.decode(), syntaxes=["json-ld"])["json-ld"]
    assert data[0]["coverageEndTime"]


def test_json_ld_cannot_break_out_of_its_script_element(client, post):
    PublishedEntryFactory(post=post, headline="</script><script>alert(1)</script>")
    html = client.get(post.get_absolute_url()).content.decode()
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in script
    assert json.loads(script)["liveBlogUpdate"][0]["headline"].startswith("</script>")


def test_an_entry_permalink_carries_blogposting(client, world):
    html = client.get(world["public"].get_absolute_url()).content.decode()
    [item] = extruct.extract(html, syntaxes=["json-ld"])["json-ld"]
    assert item["@type"] == "BlogPosting" and item["headline"] == "Visible strike report"


@pytest.mark.parametrize("page", ["home", "post", "entry", "column", "author", "place", "source", "tag", "search"])
def test_public_pages_have_canonical_urls_and_social_cards(client, world, page):
    urls = {
        "home": "/",
        "post": world["post"].get_absolute_url(),
        "entry": world["public"].get_absolute_url(),
        "column": world["post"].column.get_absolute_url(),
        "author": world["author"].get_absolute_url(),
        "place": world["place"].get_absolute_url(),
        "source": world["source"].get_absolute_url(),
        "tag": "/tags/douma/",
        "search": "/search/",
    }
    html = client.get(urls[page]).content.decode()
    assert f'<link rel="canonical" href="http://127.0.0.1:8000{urls[page]}">' in html
    for tag in ('property="og:title"', 'property="og:url"', 'name="twitter:card"'):
        assert tag in html, tag


def test_sitemap_lists_public_posts_columns_authors_places_and_sources_only(client, world):
    xml = client.get("/sitemap.xml").content.decode()
    assert world["post"].get_absolute_url() in xml
    for kind in ("author", "place", "source"):
        assert world[kind].get_absolute_url() in xml
    assert "/live/" in xml and xml.count("/live/") == 1  # the unpublished post is not listed


def test_the_news_sitemap_lists_posts_of_the_last_48_hours(client, world):
    old = LivePostFactory(coverage_start=timezone.now() - timedelta(days=10), published_at=timezone.now() - timedelta(days=10))
    xml = client.get("/news-sitemap.xml").content.decode()
    assert world["post"].get_absolute_url() in xml and old.get_absolute_url() not in xml
    assert "<news:publication_date>" in xml


def test_robots_txt_points_at_the_sitemaps_and_keeps_out_of_the_admin(client, db):
    text = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in text and "Sitemap: http://127.0.0.1:8000/news-sitemap.xml" in text
    assert "Disallow: /admin/" in text


def test_search_finds_an_entry_by_a_word_in_its_body_and_highlights_it(client, world):
    html = client.get("/search/", {"q": "Douma"}).content.decode()
    assert "Visible strike report" in html and "<mark>Douma</mark>" in html
    assert "Hidden" not in html


def test_search_never_finds_a_draft(client, world):
    html = client.get("/search/", {"q": "Hidden"}).content.decode()
    assert "Hidden" not in html.split('id="results-title"', 1)[1]


@pytest.mark.parametrize("field", ["place", "source", "author", "column"])
def test_search_filters_narrow_the_results(client, world, field):
    other = PublishedEntryFactory(post=world["post"], headline="Other Douma report", body="<p>Douma again</p>")
    slug = world["post"].column.slug if field == "column" else world[field].slug
    html = client.get("/search/", {"q": "Douma", field: slug}).content.decode()
    assert "Visible strike report" in html
    if field != "column":
        assert other.headline not in html


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 500},
        {"q": "Douma", "place": "nowhere"},
        {"q": "Douma", "since": "yesterday"},
        {"q": "Douma", "since": "2026-11-25", "until": "2026-11-01"},
        {"q": "'); DROP TABLE x; --"},
        {"q": "<script>"},
    ],
)
def test_bad_search_input_is_a_clear_form_error_not_a_500(client, world, params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_a_search_result_snippet_never_carries_markup_from_the_body(client, post):
    entry = PublishedEntryFactory(post=post, headline="Markup test")
    type(entry).objects.filter(pk=entry.pk).update(body="<p>Douma <img src=x onerror=alert(1)> strikes</p>")
    html = client.get("/search/", {"q": "Douma"}).content.decode()
    assert "onerror" not in html


# --- The JSON API -------------------------------------------------------------------------


def test_the_api_lists_only_published_entries(client, world):
    data = client.get("/api/entries").json()
    assert [item["headline"] for item in data["items"]] == ["Visible strike report"]
    for field in ("post", "column", "author", "place", "source", "tag"):
        value = (
            world["post"].column.slug
            if field == "column"
            else world["post"].slug
            if field == "post"
            else "douma"
            if field == "tag"
            else world[field].slug
        )
        assert [i["headline"] for i in client.get("/api/entries", {field: value}).json()["items"]] == ["Visible strike report"], (
            field
        )


def test_the_api_pages_with_a_stable_cursor(client, post):
    entries = [PublishedEntryFactory(post=post, published_at=timezone.now() - timedelta(minutes=i)) for i in range(120)]
    seen, cursor = [], None
    while True:
        data = client.get("/api/entries", {"cursor": cursor} if cursor else {}).json()
        seen += [item["id"] for item in data["items"]]
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert seen == [e.pk for e in entries]


def test_the_api_since_filter_and_key_events(client, post, editor):
    old = PublishedEntryFactory(post=post, published_at=timezone.now() - timedelta(hours=3))
    new = PublishedEntryFactory(post=post, published_at=timezone.now() - timedelta(minutes=5))
    workflow.set_key_event(entry=new, user=editor, key_event=True)
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert [i["id"] for i in client.get("/api/entries", {"since": since}).json()["items"]] == [new.pk]
    assert [i["id"] for i in client.get("/api/entries", {"key_events": "true"}).json()["items"]] == [new.pk]
    assert old.pk in [i["id"] for i in client.get("/api/entries", {"key_events": "false"}).json()["items"]]


@pytest.mark.parametrize(
    "url, status",
    [
        ("/api/entries?cursor=nonsense", 400),
        ("/api/entries?since=not-a-date", 422),
        ("/api/entries?since=2026-11-25T10:00:00", 400),
        ("/api/entries?since=0001-01-01T00:00:00%2B05:00", 400),
        ("/api/entries?since=9999-12-31T23:59:59-05:00", 400),
        ("/api/entries?place=nowhere", 404),
        ("/api/entries?author=nobody", 404),
        ("/api/entries?tag=none", 404),
        ("/api/entries/999999", 404),
        ("/api/posts/no-such-post", 404),
        ("/api/places?cursor=abc", 400),
        ("/api/columns?cursor=%C2%B2", 400),
        ("/api/entries?key_events=perhaps", 422),
    ],
)
def test_bad_api_parameters_are_clear_4xx_errors(client, db, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response.json()["detail"]


def test_the_api_never_serves_an_unpublished_post_or_entry(client, world):
    hidden_post = world["hidden"][-1].post
    assert client.get(f"/api/posts/{hidden_post.slug}").status_code == 404
    for entry in world["hidden"]:
        assert client.get(f"/api/entries/{entry.pk}").status_code == 404
    assert hidden_post.slug not in client.get("/api/posts").content.decode()


def test_places_come_with_their_hierarchy(client, db):
    aleppo = PlaceFactory(name="Aleppo", slug="aleppo")
    PlaceFactory(name="Firdous", slug="firdous", parent=aleppo)
    data = {p["slug"]: p for p in client.get("/api/places").json()["items"]}
    assert data["firdous"]["parent"] == "aleppo" and data["firdous"]["ancestors"] == ["aleppo"]


def test_the_openapi_schema_and_its_docs_are_served_without_a_cdn(client, db):
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.") and "/api/entries" in schema["paths"]
    docs = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()


def test_the_post_page_draws_its_places_on_a_map_of_its_own(client, post):
    douma = PlaceFactory(name="Douma", latitude="33.57170", longitude="36.40170")
    harra = PlaceFactory(name="al-Harra", latitude="33.06300", longitude="36.00300")
    nowhere = PlaceFactory(name="Unlocated village")
    secret = PlaceFactory(name="Secret place", latitude="34.0", longitude="37.0")
    entry = PublishedEntryFactory(post=post)
    entry.places.add(douma, harra, nowhere)
    EntryFactory(post=post).places.add(secret)  # a draft's place is not shown
    html = client.get(post.get_absolute_url()).content.decode()
    svg = re.search(r'<figure class="place-map">.*?</figure>', html, re.S).group(0)
    assert "Douma" in svg and "al-Harra" in svg
    assert "Unlocated village" not in svg and "Secret place" not in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched from elsewhere


def test_on_postgresql_search_uses_the_gin_index(db):
    from django.contrib.postgres.search import SearchQuery, SearchVector
    from django.db import connection

    from liveupdates.models import Entry

    if connection.vendor != "postgresql":
        pytest.skip("the index exists on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # an empty table would otherwise always be scanned
        # A GIN index is read by a bitmap scan only; with plain index scans allowed, an empty table may
        # be walked through any other index (a full scan in disguise) at the same cost.
        cursor.execute("SET enable_indexscan = off")
    plan = (
        Entry.objects.annotate(document=SearchVector("headline", "body", config="english"))
        .filter(document=SearchQuery("douma", config="english", search_type="websearch"))
        .explain()
    )
    assert "entry_search_idx" in plan
