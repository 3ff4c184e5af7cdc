"""What readers see: only published entries of public posts, newest first, on valid, linked pages."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from liveupdates.editorial import workflow
from liveupdates.models import EntryStatus, PostStatus

from .factories import (
    AuthorFactory,
    CitationFactory,
    ColumnFactory,
    EntryFactory,
    LivePostFactory,
    PlaceFactory,
    PublishedEntryFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

now = timezone.now


def entry_ids(response):
    html = response.content.decode()
    stream = html[html.index('id="entries"') :]
    return [int(pk) for pk in re.findall(r'<article id="entry-(\d+)"', stream)]


@pytest.fixture
def hidden_entries(post):
    """One entry in every state readers must never see, in a public post."""
    return {
        "draft": EntryFactory(post=post, headline="Secret draft"),
        "in review": EntryFactory(post=post, headline="Secret in review", status=EntryStatus.IN_REVIEW),
        "withdrawn": EntryFactory(post=post, headline="Secret withdrawn", status=EntryStatus.WITHDRAWN, published_at=now()),
        "scheduled": EntryFactory(
            post=post, headline="Secret scheduled", status=EntryStatus.PUBLISHED, published_at=now() + timedelta(hours=1)
        ),
    }


def test_live_post_shows_published_entries_newest_first(client, post):
    older = PublishedEntryFactory(post=post, published_at=now() - timedelta(hours=2))
    newest = PublishedEntryFactory(post=post, published_at=now() - timedelta(minutes=1))
    middle = PublishedEntryFactory(post=post, published_at=now() - timedelta(hours=1))
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert entry_ids(response) == [newest.pk, middle.pk, older.pk]


def test_entries_published_in_the_same_second_keep_a_stable_order(client, post):
    moment = now() - timedelta(minutes=3)
    first, second = PublishedEntryFactory(post=post, published_at=moment), PublishedEntryFactory(post=post, published_at=moment)
    assert entry_ids(client.get(post.get_absolute_url())) == [second.pk, first.pk]


@pytest.mark.parametrize("state", ["draft", "in review", "withdrawn", "scheduled"])
def test_unpublished_entries_never_appear_on_any_public_page(client, post, hidden_entries, state):
    entry = hidden_entries[state]
    author, place, source = AuthorFactory(), PlaceFactory(), SourceFactory()
    entry.authors.add(author)
    entry.places.add(place)
    CitationFactory(entry=entry, source=source)
    entry.tags.add("secret-tag")
    pages = [
        reverse("liveupdates:home"),
        post.get_absolute_url(),
        post.column.get_absolute_url(),
        author.get_absolute_url(),
        place.get_absolute_url(),
        source.get_absolute_url(),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert entry.headline not in response.content.decode(), url
    assert client.get(reverse("liveupdates:tag", args=["secret-tag"])).status_code == 404  # only hidden entries carry it
    assert client.get(reverse("liveupdates:entry", args=[post.slug, entry.pk])).status_code == 404


def test_a_scheduled_entry_appears_by_itself_when_its_time_comes(client, editor, post, time_machine):
    time_machine.move_to(now(), tick=False)
    entry = EntryFactory(post=post, headline="Evening summary")
    workflow.publish(entry=entry, user=editor, at=now() + timedelta(minutes=30))
    assert "Evening summary" not in client.get(post.get_absolute_url()).content.decode()
    time_machine.shift(timedelta(minutes=31))
    assert "Evening summary" in client.get(post.get_absolute_url()).content.decode()


def test_entries_of_an_unpublished_post_are_never_public(client):
    post = LivePostFactory(status=PostStatus.DRAFT, published_at=None)
    entry = PublishedEntryFactory(post=post)
    assert client.get(post.get_absolute_url()).status_code == 404
    assert client.get(entry.get_absolute_url()).status_code == 404
    author = AuthorFactory()
    entry.authors.add(author)
    assert entry.headline not in client.get(author.get_absolute_url()).content.decode()
    assert post.headline not in client.get(reverse("liveupdates:home")).content.decode()


def test_a_post_scheduled_for_later_is_not_public_yet(client):
    post = LivePostFactory(published_at=now() + timedelta(hours=1))
    assert client.get(post.get_absolute_url()).status_code == 404


def test_each_entry_is_an_article_with_its_time_and_linked_byline_places_and_sources(client, post):
    entry = PublishedEntryFactory(post=post)
    author, place, source = AuthorFactory(name="Pierre Vaux"), PlaceFactory(name="Douma"), SourceFactory(name="SMART News Agency")
    entry.authors.add(author)
    entry.places.add(place)
    CitationFactory(entry=entry, source=source, url="https://example.org/report")
    entry.tags.add("air strikes")
    html = client.get(post.get_absolute_url()).content.decode()
    article = re.search(rf'<article id="entry-{entry.pk}".*?</article>', html, re.S).group(0)
    assert f'<time datetime="{timezone.localtime(entry.published_at).replace(microsecond=0).isoformat()}"' in article
    assert f'href="{author.get_absolute_url()}"' in article and "Pierre Vaux" in article
    assert f'href="{place.get_absolute_url()}"' in article
    assert f'href="{source.get_absolute_url()}"' in article and 'href="https://example.org/report"' in article
    assert 'href="/tags/air-strikes/"' in article


def test_the_entry_permalink_works_however_old_the_entry_is(client, post):
    old = PublishedEntryFactory(post=post, published_at=now() - timedelta(days=400))
    for _ in range(30):
        PublishedEntryFactory(post=post)
    response = client.get(old.get_absolute_url())
    assert response.status_code == 200
    assert entry_ids(response) == [old.pk]


def test_a_permalink_under_the_wrong_post_is_not_found(client, post):
    entry = PublishedEntryFactory(post=post)
    other = LivePostFactory()
    assert client.get(reverse("liveupdates:entry", args=[other.slug, entry.pk])).status_code == 404


def test_long_posts_show_twenty_entries_then_older_entries_by_plain_link(client, post):
    entries = [PublishedEntryFactory(post=post, published_at=now() - timedelta(minutes=i)) for i in range(45)]
    first = client.get(post.get_absolute_url())
    assert entry_ids(first) == [e.pk for e in entries[:20]]
    older = re.search(r'href="(\?before=[^"]+)"', first.content.decode()).group(1)
    second = client.get(post.get_absolute_url() + older)
    assert entry_ids(second) == [e.pk for e in entries[20:40]]
    third = client.get(post.get_absolute_url() + re.search(r'href="(\?before=[^"]+)"', second.content.decode()).group(1))
    assert entry_ids(third) == [e.pk for e in entries[40:]]
    assert "?before=" not in third.content.decode()


@pytest.mark.parametrize("cursor", ["nonsense", "12-x", "9" * 40 + "-1", "-"])
def test_a_malformed_older_entries_link_is_a_clear_400_not_a_500(client, post, cursor):
    response = client.get(post.get_absolute_url(), {"before": cursor})
    assert response.status_code == 400
    assert b"This link does not work" in response.content


def test_pinned_entry_and_key_events_are_shown_above_the_stream(client, editor, post):
    pinned = PublishedEntryFactory(post=post, headline="Pinned summary")
    key = PublishedEntryFactory(post=post, headline="Douma strikes kill 14")
    workflow.pin(entry=pinned, user=editor)
    workflow.set_key_event(entry=key, user=editor, key_event=True)
    html = client.get(post.get_absolute_url()).content.decode()
    assert html.index('id="pinned"') < html.index('id="entries"')
    assert html.index('id="key-events"') < html.index('id="entries"')
    assert f'href="#entry-{key.pk}"' in html


def test_a_withdrawn_pinned_entry_is_not_shown_pinned(client, editor, post):
    entry = PublishedEntryFactory(post=post, headline="Soon withdrawn")
    workflow.pin(entry=entry, user=editor)
    workflow.withdraw(entry=entry, user=editor, reason="wrong")
    assert "Soon withdrawn" not in client.get(post.get_absolute_url()).content.decode()


def test_a_post_links_to_the_previous_and_next_published_posts_of_its_column(client):
    column = ColumnFactory()
    start = now() - timedelta(days=3)
    first = LivePostFactory(column=column, coverage_start=start)
    LivePostFactory(column=column, coverage_start=start + timedelta(hours=12), status=PostStatus.DRAFT, published_at=None)
    second = LivePostFactory(column=column, coverage_start=start + timedelta(days=1))
    third = LivePostFactory(column=column, coverage_start=start + timedelta(days=2))
    LivePostFactory(coverage_start=start + timedelta(days=1, hours=1))  # another column
    assert second.previous_post() == first and second.next_post() == third
    assert first.previous_post() is None and third.next_post() is None
    html = client.get(second.get_absolute_url()).content.decode()
    assert f'rel="prev" href="{first.get_absolute_url()}"' in html
    assert f'rel="next" href="{third.get_absolute_url()}"' in html


def test_a_post_says_when_its_coverage_has_ended(client):
    ended = LivePostFactory(coverage_end=now() - timedelta(hours=1))
    live = LivePostFactory()

    def coverage_state(post):
        html = client.get(post.get_absolute_url()).content.decode()
        return re.search(r'<p class="coverage" id="coverage-state">(.*?)</p>', html, re.S).group(1)

    assert "Coverage has ended" in coverage_state(ended)
    assert "Coverage has ended" not in coverage_state(live) and "Live" in coverage_state(live)


def test_home_lists_live_posts_then_recent_posts_by_column(client):
    live = LivePostFactory(headline="Live: Daraa offensive")
    ended = LivePostFactory(headline="Yesterday in Aleppo", coverage_end=now() - timedelta(hours=2))
    html = client.get(reverse("liveupdates:home")).content.decode()
    assert html.index("Live: Daraa offensive") < html.index("Yesterday in Aleppo")
    assert ended.column.name in html and live.get_absolute_url() in html


def test_column_page_lists_its_published_posts_newest_first(client):
    column = ColumnFactory()
    older = LivePostFactory(column=column, coverage_start=now() - timedelta(days=2))
    newer = LivePostFactory(column=column, coverage_start=now() - timedelta(days=1))
    draft = LivePostFactory(column=column, status=PostStatus.DRAFT, published_at=None)
    html = client.get(column.get_absolute_url()).content.decode()
    assert html.index(newer.headline) < html.index(older.headline)
    assert draft.headline not in html


def test_a_place_page_includes_entries_from_places_inside_it(client, post):
    aleppo = PlaceFactory(name="Aleppo", kind="city")
    firdous = PlaceFactory(name="Firdous", kind="neighbourhood", parent=aleppo)
    douma = PlaceFactory(name="Douma")
    in_city = PublishedEntryFactory(post=post, headline="Strike in Aleppo")
    in_neighbourhood = PublishedEntryFactory(post=post, headline="Strike in Firdous")
    elsewhere = PublishedEntryFactory(post=post, headline="Strike in Douma")
    in_city.places.add(aleppo)
    in_neighbourhood.places.add(firdous, aleppo)  # in both: listed once
    elsewhere.places.add(douma)
    response = client.get(aleppo.get_absolute_url())
    assert sorted(entry_ids(response)) == sorted([in_city.pk, in_neighbourhood.pk])
    firdous_page = client.get(firdous.get_absolute_url()).content.decode()
    assert f'href="{aleppo.get_absolute_url()}"' in firdous_page  # the parent chain


@pytest.mark.parametrize("kind", ["author", "source", "tag"])
def test_author_source_and_tag_pages_list_their_published_entries_newest_first(client, post, kind):
    older = PublishedEntryFactory(post=post, published_at=now() - timedelta(hours=2))
    newer = PublishedEntryFactory(post=post, published_at=now() - timedelta(hours=1))
    unrelated = PublishedEntryFactory(post=post)
    if kind == "author":
        author = AuthorFactory()
        older.authors.add(author)
        newer.authors.add(author)
        url = author.get_absolute_url()
    elif kind == "source":
        source = SourceFactory()
        CitationFactory(entry=older, source=source)
        CitationFactory(entry=newer, source=source)
        CitationFactory(entry=newer, source=source, url="https://example.org/second")  # cited twice: listed once
        url = source.get_absolute_url()
    else:
        older.tags.add("Su-34")
        newer.tags.add("Su-34")
        url = reverse("liveupdates:tag", args=[Tag.objects.get(name="Su-34").slug])
    ids = entry_ids(client.get(url))
    assert ids == [newer.pk, older.pk] and unrelated.pk not in ids


@pytest.mark.parametrize(
    "url",
    [
        "/live/no-such-post/",
        "/columns/nope/",
        "/authors/nope/",
        "/places/nope/",
        "/sources/nope/",
        "/tags/nope/",
        "/live/x/entries/999999/",
    ],
)
def test_unknown_slugs_are_404_not_500(client, url, db):
    response = client.get(url)
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_entry_body_is_rendered_sanitised(client, post):
    entry = PublishedEntryFactory(post=post)
    # Bypass the model field as a bulk import or raw SQL would.
    type(entry).objects.filter(pk=entry.pk).update(body='<p onclick="alert(1)">Hi</p><script>alert(2)</script>')
    html = client.get(post.get_absolute_url()).content.decode()
    assert "alert(" not in html and "<script>alert" not in html


def test_public_pages_make_the_same_number_of_queries_however_many_entries(client, post, django_assert_max_num_queries):
    def fill(n):
        for _ in range(n):
            entry = PublishedEntryFactory(post=post)
            entry.authors.add(AuthorFactory())
            entry.places.add(PlaceFactory())
            CitationFactory(entry=entry)
            entry.tags.add(f"tag-{entry.pk}")

    fill(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(post.get_absolute_url())
    fill(18)
    with django_assert_max_num_queries(len(few)):
        client.get(post.get_absolute_url())


def test_preview_shows_a_draft_to_staff_and_is_never_cached(client, journalist, draft):
    client.force_login(journalist)
    response = client.get(reverse("liveupdates:preview_entry", args=[draft.pk]))
    assert response.status_code == 200
    assert draft.headline in response.content.decode()
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert b"Preview" in response.content


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_preview_is_refused_to_readers(client, draft, reader, who):
    if who == "reader":
        client.force_login(reader)
    response = client.get(reverse("liveupdates:preview_entry", args=[draft.pk]))
    assert response.status_code == 404
    assert draft.headline not in response.content.decode()


def test_an_editor_previews_an_unpublished_post(client, editor):
    post = LivePostFactory(status=PostStatus.DRAFT, published_at=None)
    PublishedEntryFactory(post=post, headline="Ready to go")
    client.force_login(editor)
    response = client.get(reverse("liveupdates:preview_post", args=[post.pk]))
    assert response.status_code == 200 and b"Ready to go" in response.content
    assert b'name="robots" content="noindex"' in response.content


# --- Nothing a reader can ask tells them a draft exists ------------------------------------------


def test_a_tag_only_a_draft_uses_has_no_public_page_as_if_it_did_not_exist(client, post):
    PublishedEntryFactory(post=post).tags.add("ceasefire")
    EntryFactory(post=post, headline="Secret draft").tags.add("secret-talks")
    assert client.get(reverse("liveupdates:tag", args=["ceasefire"])).status_code == 200
    assert client.get(reverse("liveupdates:tag", args=["secret-talks"])).status_code == 404
    assert client.get(reverse("liveupdates:tag", args=["never-used"])).status_code == 404


def test_a_tag_only_a_draft_uses_has_no_feed_and_the_api_knows_no_such_tag(client, post):
    EntryFactory(post=post, headline="Secret draft").tags.add("secret-talks")
    for slug in ("secret-talks", "never-used"):
        assert client.get(reverse("liveupdates:feed_tag", args=[slug])).status_code == 404
        answer = client.get(f"/api/entries?tag={slug}")
        assert answer.status_code == 404 and answer.json() == {"detail": f"There is no tag '{slug}'."}


def test_filtering_a_live_post_by_a_tag_only_a_draft_uses_answers_as_for_an_unknown_tag(client, post):
    PublishedEntryFactory(post=post)
    EntryFactory(post=post, headline="Secret draft").tags.add("secret-talks")
    draft_only = client.get(post.get_absolute_url() + "?tag=secret-talks")
    unknown = client.get(post.get_absolute_url() + "?tag=never-used")
    assert draft_only.status_code == unknown.status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_preview_answers_a_reader_the_same_for_a_draft_and_for_no_entry_at_all(client, draft, reader, who):
    if who == "reader":
        client.force_login(reader)
    existing = client.get(reverse("liveupdates:preview_entry", args=[draft.pk]))
    missing = client.get(reverse("liveupdates:preview_entry", args=[draft.pk + 1000]))
    assert existing.status_code == missing.status_code == 404
    assert draft.headline not in existing.content.decode()
    post_existing = client.get(reverse("liveupdates:preview_post", args=[draft.post_id]))
    post_missing = client.get(reverse("liveupdates:preview_post", args=[draft.post_id + 1000]))
    assert post_existing.status_code == post_missing.status_code == 404


@pytest.mark.parametrize("query", ["", "?order=oldest", "?tag=ceasefire"])
def test_a_drafts_tag_does_not_change_the_live_pages_bytes_or_etag(client, post, query):
    PublishedEntryFactory(post=post).tags.add("ceasefire")
    before = client.get(post.get_absolute_url() + query)
    draft = EntryFactory(post=post, headline="Secret draft")
    draft.tags.add("secret-talks", "ceasefire")
    after = client.get(post.get_absolute_url() + query)
    assert before.status_code == 200
    assert after["ETag"] == before["ETag"]
    assert after.content == before.content


def test_a_draft_saved_with_a_new_tag_on_the_desk_does_not_change_the_live_page(client, post, journalist):
    PublishedEntryFactory(post=post).tags.add("ceasefire")
    before = client.get(post.get_absolute_url())
    desk = type(client)()
    desk.force_login(journalist)
    answer = desk.post(
        reverse("admin:liveupdates_livepost_desk_compose", args=[post.pk]),
        {"headline": "Secret draft", "body": "<p>Not yet.</p>", "tags": "secret-talks, ceasefire"},
        HTTP_X_REQUESTED_WITH="newsroom-desk",
    )
    assert answer.status_code == 200, answer.content
    after = client.get(post.get_absolute_url())
    assert after.content == before.content
    assert after["ETag"] == before["ETag"]
