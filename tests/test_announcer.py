"""Announcing committed changes off the request: the announcer thread, and the sweep behind it."""

import threading
import time

import pytest

from liveupdates.delivery import announcer, live
from liveupdates.editorial import workflow
from liveupdates.models import Entry, LiveEvent

from .factories import EntryFactory


@pytest.mark.django_db(transaction=True)
def test_a_publication_is_announced_by_the_background_thread_after_it_commits(settings, editor, post):
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
