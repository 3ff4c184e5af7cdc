"""Announcing committed changes off the request: the announcer thread, and the sweep behind it."""

import threading
import time

import pytest

from liveupdates.delivery import announcer, live
from liveupdates.editorial import workflow
from liveupdates.models import Entry, LiveEvent

from .browser import ensure_roles
from .factories import EntryFactory


@pytest.fixture
def roles(transactional_db):
    """The newsroom's groups again: a transactional test run before this one (tests/test_nchan.py) emptied every table."""
    ensure_roles()


@pytest.mark.django_db(transaction=True)
def test_a_publication_is_announced_by_the_background_thread_after_it_commits(settings, roles, editor, post):
    settings.NEWSROOM_ANNOUNCE_IN_BACKGROUND = True
    entry = EntryFactory(post=post)
    workflow.publish(entry=entry, user=editor)  # autocommit: committed when it returns
    deadline = time.monotonic() + 10
    while not LiveEvent.objects.filter(entry=entry, kind="add").exists():
        assert time.monotonic() < deadline, "the announcer thread never announced the entry"
        time.sleep(0.05)
    assert not Entry.objects.get(pk=entry.pk).live_pending
    assert any(thread.name == "live-announcer" for thread in threading.enumerate())


@pytest.mark.django_db
def test_a_failed_announcement_is_logged_not_raised_and_the_sweep_announces_it(
    editor, post, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    entry = EntryFactory(post=post)

    def broken(**kwargs):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(live, "announce", broken)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=entry, user=editor)  # no exception reaches the editor
    assert "renderer down" in caplog.text
    assert Entry.objects.get(pk=entry.pk).live_pending
    monkeypatch.undo()
    assert live.announce() == 1
    assert LiveEvent.objects.filter(entry=entry, kind="add").exists()


@pytest.mark.django_db
def test_an_editor_is_told_when_readers_could_not_be_told_yet(client, editor, post, monkeypatch):
    entry = EntryFactory(post=post)
    monkeypatch.setattr(announcer, "announce", lambda post_id: None)  # the announcement is lost
    client.force_login(editor)
    response = client.post(f"/admin/liveupdates/entry/{entry.pk}/workflow/publish/", follow=True)
    texts = [str(message) for message in response.context["messages"]]
    assert any("was published" in text for text in texts)
    assert any("live readers could not be told yet" in text for text in texts)


FRESH_PROCESS = """
import sys, django
django.setup()
from newsroom import startup
startup.warm_up()
from django.template import engines
from django.urls import get_resolver
loaded = {name for loader in engines["django"].engine.template_loaders for name in getattr(loader, "get_template_cache", {})}
missing = [name for name in startup.WARM_TEMPLATES if name not in loaded]
assert not missing, f"templates not compiled at start-up: {missing}"
assert get_resolver()._populated, "reverse lookups not built at start-up"
assert "django_redis" in sys.modules or "redis" not in str(django.conf.settings.CACHES), "cache client not loaded"
"""


def test_a_process_start_up_loads_what_its_first_announcement_renders():
    import os
    import subprocess
    import sys
    from pathlib import Path

    answer = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.returncode == 0, answer.stderr[-2000:]
