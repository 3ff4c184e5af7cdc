"""Readers' controls on a live post: oldest first and filters, as server-rendered pages (no JavaScript needed)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from liveupdates.editorial import workflow
from liveupdates.models import Place

from .factories import AuthorFactory, EntryFactory, PlaceFactory, PublishedEntryFactory

pytestmark = pytest.mark.django_db


def at(minutes):
    return timezone.now() - timedelta(minutes=minutes)


def headlines(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    entries = html[html.index('id="entries"') :]
    return re.findall(r'class="entry__headline"[^>]*>([^<]+)<', entries)


def test_follow_from_the_start_lists_the_oldest_entry_first_and_pages_to_newer_ones(client, post):
    for n in range(25):
        PublishedEntryFactory(post=post, headline=f"Entry {n:02}", published_at=at(100 - n))
    url = post.get_absolute_url()
    first = headlines(client, url + "?order=oldest")
    assert first == [f"Entry {n:02}" for n in range(20)]
    html = client.get(url + "?order=oldest").content.decode()
    more = re.search(r'rel="next" href="\?([^"]+)"', html).group(1).replace("&amp;", "&")
    assert headlines(client, url + "?" + more) == [f"Entry {n:02}" for n in range(20, 25)]
    assert headlines(client, url)[0] == "Entry 24"  # the plain page is still newest first


def test_key_events_only(client, post):
    PublishedEntryFactory(post=post, headline="Ordinary")
    PublishedEntryFactory(post=post, headline="Key moment", is_key_event=True)
    assert headlines(client, post.get_absolute_url() + "?key=1") == ["Key moment"]


def test_filters_by_tag_place_including_the_places_inside_it_and_author(client, post):
    region = PlaceFactory(name="Daraa", slug="daraa")
    town = Place.objects.create(name="Busra", slug="busra", kind="town", parent=region)
    author = AuthorFactory(slug="pierre")
    tagged = PublishedEntryFactory(post=post, headline="Tagged", published_at=at(5))
    tagged.tags.add("air strikes")
    in_town = PublishedEntryFactory(post=post, headline="In Busra", published_at=at(4))
    in_town.places.add(town)
    signed = PublishedEntryFactory(post=post, headline="Signed", published_at=at(3))
    signed.authors.add(author)
    url = post.get_absolute_url()
    assert headlines(client, url + "?tag=air-strikes") == ["Tagged"]
    assert headlines(client, url + "?place=daraa") == ["In Busra"]
    assert headlines(client, url + "?author=pierre") == ["Signed"]
    assert headlines(client, url + "?author=pierre&place=daraa") == []


def test_a_filtered_page_is_noindex_and_names_the_post_as_canonical(client, post):
    PublishedEntryFactory(post=post)
    html = client.get(post.get_absolute_url() + "?key=1&order=oldest").content.decode()
    assert '<meta name="robots" content="noindex">' in html
    assert re.search(r'<link rel="canonical" href="[^"]*' + re.escape(post.get_absolute_url()) + '"', html)
    plain = client.get(post.get_absolute_url()).content.decode()
    assert "noindex" not in plain


def test_a_filtered_page_never_shows_a_draft_a_scheduled_or_a_withdrawn_entry(client, post, editor):
    EntryFactory(post=post, headline="Draft", is_key_event=True)
    PublishedEntryFactory(post=post, headline="Scheduled", is_key_event=True, published_at=timezone.now() + timedelta(hours=1))
    gone = PublishedEntryFactory(post=post, headline="Withdrawn", is_key_event=True)
    PublishedEntryFactory(post=post, headline="Public", is_key_event=True)
    workflow.withdraw(entry=gone, user=editor, reason="Wrong.")
    for query in ("?key=1", "?key=1&order=oldest", "?order=newest"):
        assert headlines(client, post.get_absolute_url() + query) == ["Public"]


def test_the_filter_form_offers_what_the_post_names_and_works_without_javascript(client, post):
    entry = PublishedEntryFactory(post=post)
    entry.tags.add("shelling")
    entry.places.add(PlaceFactory(name="Douma", slug="douma"))
    hidden = EntryFactory(post=post)
    hidden.tags.add("secret-draft-tag")
    html = client.get(post.get_absolute_url() + "?order=newest").content.decode()
    form = html[html.index('<form class="filters"') : html.index("</form>", html.index('<form class="filters"'))]
    assert 'method="get"' in form and 'value="shelling"' in form and 'value="douma"' in form
    assert "secret-draft-tag" not in html


def test_the_plain_page_links_to_every_order_and_filter(client, post):
    html = client.get(post.get_absolute_url()).content.decode()
    for link in ("?order=oldest", "?key=1", "?order=newest"):
        assert f'href="{post.get_absolute_url()}{link}"' in html


@pytest.mark.parametrize(
    ("query", "status"),
    [("?order=sideways", 400), ("?tag=no-such-tag", 404), ("?key=1&from=garbage", 400), ("?place=%3Cscript%3E", 400)],
)
def test_a_bad_control_is_a_clear_error_not_a_500(client, post, query, status):
    assert client.get(post.get_absolute_url() + query).status_code == status


def test_a_filtered_first_page_listens_to_the_stream_with_what_matches(client, post):
    PublishedEntryFactory(post=post)
    html = client.get(post.get_absolute_url() + "?key=1").content.decode()
    assert "data-live-stream=" in html and "data-controls=" in html and 'id="not-shown"' in html


def test_a_filtered_page_makes_a_fixed_number_of_queries(client, post):
    def fill(n):
        for _ in range(n):
            entry = PublishedEntryFactory(post=post, is_key_event=True)
            entry.tags.add("shared")
            entry.authors.add(AuthorFactory())

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = [post.get_absolute_url() + q for q in ("?key=1", "?order=oldest", "?tag=shared&order=oldest", "?order=newest")]
    fill(2)
    [client.get(url) for url in urls]
    few = [count(url) for url in urls]
    fill(20)
    [client.get(url) for url in urls]
    assert [count(url) for url in urls] == few
