"""Pages are assembled from stored fragments whose keys move through the database."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from liveupdates.delivery import fragments
from liveupdates.editorial import workflow
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


def test_a_page_built_while_the_cache_is_down_shows_the_truth(client, post, editor, publish_live, monkeypatch):
    entry = EntryFactory(post=post, headline="Written while Redis was away")
    publish_live(entry, editor)

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set_many", down)
    assert "Written while Redis was away" in client.get(post.get_absolute_url()).content.decode()
    workflow.withdraw(entry=Entry.objects.get(pk=entry.pk), user=editor, reason="legal")
    assert "Written while Redis was away" not in client.get(post.get_absolute_url()).content.decode()


def test_a_tag_saved_on_a_draft_elsewhere_moves_no_other_fragment(post, journalist):
    shown = PublishedEntryFactory(post=post)
    before = Entry.objects.get(pk=shown.pk).updated_at
    EntryFactory(created_by=journalist).tags.add("Elsewhere")
    assert Entry.objects.get(pk=shown.pk).updated_at == before


def test_renaming_a_place_moves_only_the_fragments_that_name_it(post):
    from .factories import PlaceFactory

    place = PlaceFactory(name="Daraa")
    naming, other = PublishedEntryFactory(post=post), PublishedEntryFactory(post=post)
    naming.places.add(place)
    stamps = {e.pk: Entry.objects.get(pk=e.pk).updated_at for e in (naming, other)}
    place.name = "Daraa al-Balad"
    place.save()
    assert Entry.objects.get(pk=naming.pk).updated_at > stamps[naming.pk]
    assert Entry.objects.get(pk=other.pk).updated_at == stamps[other.pk]


# --- Each process's own copy of the fragments it read (fragments._nearby) ---------------------


def test_a_page_asks_the_shared_cache_only_for_fragments_this_process_has_not_read(client, post, monkeypatch):
    entries = PublishedEntryFactory.create_batch(3, post=post)
    page = client.get(post.get_absolute_url()).content
    asked = []
    original = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys, *a, **kw: asked.append(list(keys)) or original(keys, *a, **kw))
    assert client.get(post.get_absolute_url()).content == page
    assert asked == []  # every fragment of the page was in this process already
    # A fragment another process rendered (the announcer's): this process reads that one, once.
    gone = next(key for key in list(fragments._nearby.items) if f":{entries[0].pk}:" in key)
    del fragments._nearby.items[gone]
    assert client.get(post.get_absolute_url()).content == page
    assert asked == [[gone]]


def test_a_correction_reaches_the_page_while_the_process_holds_the_old_fragment_and_the_cache_is_down(
    client, post, editor, publish_live, monkeypatch
):
    entry = EntryFactory(post=post, headline="Casualty figures")
    publish_live(entry, editor)
    assert "Casualty figures" in client.get(post.get_absolute_url()).content.decode()  # kept in this process

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set_many", down)
    workflow.correct(entry=Entry.objects.get(pk=entry.pk), user=editor, text="The toll was 12, not 21.")
    assert "The toll was 12, not 21." in client.get(post.get_absolute_url()).content.decode()
    workflow.withdraw(entry=Entry.objects.get(pk=entry.pk), user=editor, reason="legal")
    assert "Casualty figures" not in client.get(post.get_absolute_url()).content.decode()


def test_the_pages_structured_data_carries_each_entrys_blog_posting_as_it_was_kept(client, post):
    import json
    import re

    first = PublishedEntryFactory(post=post, headline='Quote "</script><b>" & more')
    second = PublishedEntryFactory(post=post, headline="Second")
    html = client.get(post.get_absolute_url()).content.decode()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "</script" not in block.lower() and "<b>" not in block
    data = json.loads(block)
    assert data["@type"] == "LiveBlogPosting"
    assert [update["headline"] for update in data["liveBlogUpdate"]] == ["Second", 'Quote "</script><b>" & more']
    assert [update["url"].rsplit("/", 2)[-2] for update in data["liveBlogUpdate"]] == [str(second.pk), str(first.pk)]


def test_an_entry_previewed_before_its_post_was_public_is_in_the_public_pages_structured_data(client, editor):
    # The preview renders (and keeps) the entry's fragment while the post is a draft; the key does
    # not name the post's state, so what it keeps must not depend on it.
    import json
    import re

    from django.urls import reverse

    from liveupdates.models import PostStatus

    from .factories import LivePostFactory

    post = LivePostFactory(status=PostStatus.DRAFT, published_at=None)
    PublishedEntryFactory(post=post, headline="Written before the post went live")
    client.force_login(editor)
    assert "Written before the post went live" in client.get(reverse("liveupdates:preview_post", args=[post.pk])).content.decode()
    workflow.publish_post(post=post, user=editor)
    client.logout()
    html = client.get(post.get_absolute_url()).content.decode()
    assert "Written before the post went live" in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert [update["headline"] for update in json.loads(block)["liveBlogUpdate"]] == ["Written before the post went live"]
