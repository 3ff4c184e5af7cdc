import shutil

import pytest

from .factories import EntryFactory, LivePostFactory, UserFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, with every other session on them closed before they
    are dropped: threads that played a second connection in the race and fault tests keep
    theirs open, and PostgreSQL refuses to drop a database in use (a warning at the end of
    the run, and a database left behind)."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if connection.vendor != "postgresql":
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            connection.close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rolled-back tests reuse primary keys; a page cached by one must not answer another.
    from django.core.cache import cache

    from liveupdates.delivery import live, polling
    from liveupdates.site import assembly

    cache.clear()
    assembly.forget()
    polling.forget_all()
    live.failures.retry_at.clear()
    yield
    cache.clear()
    assembly.forget()
    live.failures.retry_at.clear()


@pytest.fixture(autouse=True)
def _fresh_content_types():
    # A transactional test's flush recreates content types under new ids; revisions
    # (django-reversion) point at them, so no test may reuse a cached id.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.NEWSROOM_ARCHIVE_ROOT = tmp_path / "archive"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)
    shutil.rmtree(tmp_path / "archive", ignore_errors=True)


@pytest.fixture
def journalist(db):
    return UserFactory(username="jo", group="Journalists")


@pytest.fixture
def other_journalist(db):
    return UserFactory(username="sam", group="Journalists")


@pytest.fixture
def editor(db):
    return UserFactory(username="ed", group="Editors")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def reader(db):
    """A logged-in account with no newsroom role."""
    return UserFactory(username="reader", is_staff=False)


@pytest.fixture
def post(db):
    return LivePostFactory()


@pytest.fixture
def draft(journalist, post):
    return EntryFactory(post=post, created_by=journalist)


# --- Browser tests (Playwright + Debian Chromium) -------------------------------------


def pytest_collection_modifyitems(items):
    # Playwright's sync API keeps an event loop running in the main thread from its
    # first test to the end of the session; the asyncio tests must all run before.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    # A Chromium test that fails is run once more, and the retry is reported (RERUN in the
    # summary): on CI's two loaded cores a browser misses a timing now and then. Twice is a
    # failure. Only Chromium tests: what they prove is also proved without a browser, by tests
    # that are never retried (the takedown model, the races, the faults).
    for item in items:
        if item.get_closest_marker("browser") is not None and item.config.pluginmanager.hasplugin("rerunfailures"):
            item.add_marker(pytest.mark.flaky(reruns=1))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    from .browser import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def asgi_server(transactional_db, settings, tmp_path):
    """uvicorn serving this test's (committed) database, as production serves the stream."""
    from .browser import require_chromium, start_server

    require_chromium()
    server = start_server(settings.MEDIA_ROOT)
    yield server
    server.stop()


@pytest.fixture
def card_server(settings):
    """The networks, played by a local server (tests/card_server.py); fetches may reach it and nothing else private."""
    from tests.card_server import CardServer

    server = CardServer()
    base = server.base
    settings.NEWSROOM_FETCH_ALLOW = [f"127.0.0.1:{server.port}"]
    settings.NEWSROOM_FETCH_TIMEOUT = 3
    settings.NEWSROOM_CARD_ENDPOINTS = {
        **{name: f"{base}/oembed/{name}" for name in ("youtube", "x", "vimeo", "tiktok", "bluesky")},
        **{name: f"{base}/page/{name}" for name in ("telegram", "instagram", "facebook")},
    }
    yield server
    server.stop()
