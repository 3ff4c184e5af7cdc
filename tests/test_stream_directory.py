"""The stream's directory of public posts: random slugs cost no query and no memory, real posts are found at once."""

import uuid

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from liveupdates.delivery import stream
from liveupdates.editorial import workflow
from liveupdates.models import PostStatus

from .factories import LivePostFactory, UserFactory
from .test_live import fresh_hub  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.usefixtures("fresh_hub")]


def hub_queries():
    """Count the queries the hub's own database thread makes (its connection, not the test's)."""
    hub = stream.get_hub()
    captured = {}

    def start():
        captured["context"] = CaptureQueriesContext(connection)
        captured["context"].__enter__()

    def stop():
        captured["context"].__exit__(None, None, None)
        return len(captured["context"].captured_queries)

    return hub, start, stop


async def test_a_thousand_random_slugs_are_404s_from_memory_with_no_query_each():
    post = await sync_to_async(LivePostFactory)()
    hub, start, stop = hub_queries()
    await hub.start()
    assert (await hub.public_post(post.slug)).pk == post.pk
    await hub.loop.run_in_executor(hub.executor, start)
    for _ in range(1000):
        assert await hub.public_post(f"random-{uuid.uuid4().hex}") is None
    queries = await hub.loop.run_in_executor(hub.executor, stop)
    assert queries <= 1, f"{queries} queries for 1,000 unknown slugs"  # at most one re-read of the directory
    assert set(hub.directory.posts) == {post.slug}, "the directory holds the public posts and nothing else"


async def test_a_post_published_after_the_directory_was_read_is_found_by_its_first_reader(monkeypatch):
    monkeypatch.setattr(stream, "DIRECTORY_RETRY", 0.0)
    hub = stream.get_hub()
    await hub.start()
    assert await hub.public_post("not-yet") is None
    await sync_to_async(LivePostFactory)(slug="not-yet")  # made public with no live event (as a scheduled time passing)
    assert (await hub.public_post("not-yet")) is not None


async def test_an_unpublished_post_is_dropped_from_the_directory_when_its_coverage_event_is_read():
    def make():
        from tests.browser import ensure_roles

        ensure_roles()
        return UserFactory(username="dir-editor", group="Editors"), LivePostFactory()

    editor, post = await sync_to_async(make)()
    hub = stream.get_hub()
    await hub.start()
    assert await hub.public_post(post.slug) is not None
    await sync_to_async(workflow.unpublish_post)(post=post, user=editor)
    assert (await sync_to_async(lambda: type(post).objects.get(pk=post.pk).status)()) != PostStatus.PUBLISHED
    await hub._fetch()  # the hub reads the coverage event
    assert await hub.public_post(post.slug) is None
