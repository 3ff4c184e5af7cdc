"""Pages are assembled from stored fragments and cached whole, and never older than the live stream."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from liveupdates import fragments, workflow
from liveupdates.models import Entry

from .factories import AuthorFactory, EntryFactory, PublishedEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish_live(django_capture_on_commit_callbacks):
    def publish(entry, user, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.publish(entry=entry, user=user, **kwargs)

    return publish


def test_a_cached_page_shows_a_new_entry_as_soon_as_it_is_published(client, post, editor, publish_live):
    PublishedEntryFactory(post=post, headline="Earlier")
    assert "Earlier" in client.get(post.get_absolute_url()).content.decode()
    publish_live(EntryFactory(post=post, headline="Breaking now"), editor)
    assert "Breaking now" in client.get(post.get_absolute_url()).content.decode()


def test_a_cached_page_drops_a_withdrawn_entry_at_once(client, post, editor, publish_live, django_capture_on_commit_callbacks):
    entry = EntryFactory(post=post, headline="Soon withdrawn")
    publish_live(entry, editor)
    assert "Soon withdrawn" in client.get(post.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(entry=Entry.objects.get(pk=entry.pk), user=editor, reason="wrong")
    assert "Soon withdrawn" not in client.get(post.get_absolute_url()).content.decode()


def test_renaming_a_byline_reaches_cached_pages(client, post):
    author = AuthorFactory(name="P. Vaux")
    PublishedEntryFactory(post=post).authors.add(author)
    assert "P. Vaux" in client.get(post.get_absolute_url()).content.decode()
    author.name = "Pierre Vaux"
    author.save()
    html = client.get(post.get_absolute_url()).content.decode()
    assert "Pierre Vaux" in html and "P. Vaux" not in html


def test_a_scheduled_entry_appears_at_its_time_even_with_no_stream_running(client, post, editor, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    entry = EntryFactory(post=post, headline="At noon")
    workflow.publish(entry=entry, user=editor, at=timezone.now() + timedelta(seconds=30))
    assert "At noon" not in client.get(post.get_absolute_url()).content.decode()
    time_machine.shift(timedelta(seconds=31))
    assert "At noon" in client.get(post.get_absolute_url()).content.decode()


def test_a_cached_page_costs_two_queries_however_many_entries(client, post, django_assert_num_queries):
    PublishedEntryFactory.create_batch(30, post=post)
    client.get(post.get_absolute_url())
    with django_assert_num_queries(2):  # the post, its latest live event
        response = client.get(post.get_absolute_url())
    assert response.status_code == 200 and response.content.count(b"<article id=\"entry-") == 20


def test_live_pages_are_cacheable_by_a_cdn_and_answer_304(client, post):
    first = client.get(post.get_absolute_url())
    assert "public" in first["Cache-Control"] and "max-age" in first["Cache-Control"]
    again = client.get(post.get_absolute_url(), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_fragments_are_rendered_once_and_reused(post, django_assert_num_queries):
    entries = list(PublishedEntryFactory.create_batch(5, post=post))
    fragments.attach_html(entries)
    again = list(Entry.objects.filter(pk__in=[e.pk for e in entries]))
    with django_assert_num_queries(0):
        fragments.attach_html(again)
    assert all(e.html.startswith(f'<article id="entry-{e.pk}"') for e in again)


def test_only_one_process_renders_a_missing_page_the_others_wait_for_it(monkeypatch):
    renders = []
    cache.add("page:x:lock", 1, timeout=10)  # another process is rendering it
    cache.set("page:x", (__import__("time").time() + 10, b"rendered elsewhere"), timeout=10)
    assert fragments.cached_page("page:x", lambda: renders.append(1) or (b"mine", 60)) == b"rendered elsewhere"
    assert renders == []


def test_a_reader_does_not_wait_forever_for_a_renderer_that_died(monkeypatch):
    monkeypatch.setattr(fragments, "WAIT_FOR_RENDER", 0.05)
    cache.add("page:y:lock", 1, timeout=10)
    assert fragments.cached_page("page:y", lambda: (b"rendered here", 60)) == b"rendered here"
