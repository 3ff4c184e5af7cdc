"""The poll endpoint for up-to-date readers: no query, and still every rule of a page (delivery/polling.py)."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from liveupdates.delivery import live, polling
from liveupdates.editorial import workflow

from .factories import EntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


def poll(client, post, after, **headers):
    return client.get(f"{reverse('liveupdates:post_updates', args=[post.slug])}?after={after}", **headers)


def published(run_on_commit, post, editor, headline):
    entry = EntryFactory(post=post, headline=headline, created_by=editor)
    run_on_commit(workflow.publish, entry=entry, user=editor)
    return entry


def test_an_up_to_date_reader_is_answered_without_a_query(client, post, editor, run_on_commit, django_assert_num_queries):
    published(run_on_commit, post, editor, "First")
    latest = live.latest_event_id(post)
    assert poll(client, post, latest).json()["events"] == []  # reads the post's head once
    with django_assert_num_queries(0):
        answer = poll(client, post, latest)
    assert answer.status_code == 200 and answer.json() == {"events": [], "last": latest, "live": True, "public": True}
    assert answer["Cache-Control"] == "public, max-age=1, stale-while-revalidate=1" and answer["ETag"]


def test_a_new_entry_reaches_an_up_to_date_poller_at_once(client, post, editor, run_on_commit):
    published(run_on_commit, post, editor, "First")
    latest = live.latest_event_id(post)
    poll(client, post, latest)  # the head is kept
    entry = published(run_on_commit, post, editor, "Second")
    events = poll(client, post, latest).json()["events"]
    assert [(event["type"], event["entry"]) for event in events] == [("add", entry.pk)]


def test_a_withdrawal_reaches_an_up_to_date_poller_at_once(client, post, editor, run_on_commit):
    entry = published(run_on_commit, post, editor, "Soon withdrawn")
    latest = live.latest_event_id(post)
    poll(client, post, latest)
    run_on_commit(workflow.withdraw, entry=entry, user=editor, reason="unverified")
    answer = poll(client, post, latest).json()
    assert [event["entry"] for event in answer["events"] if event["type"] == "remove"] == [entry.pk]
    assert "Soon withdrawn" not in str(answer)


def test_an_unpublished_post_stops_answering_its_pollers_at_once(client, post, editor, run_on_commit):
    from .browser import ensure_roles

    ensure_roles()
    latest = live.latest_event_id(post)
    assert poll(client, post, latest).status_code == 200
    run_on_commit(workflow.unpublish_post, post=post, user=editor)
    assert poll(client, post, latest).status_code == 404


def test_a_lost_delete_keeps_nothing_new_for_at_most_the_heads_bound(
    client, post, editor, run_on_commit, monkeypatch, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    published(run_on_commit, post, editor, "First")
    latest = live.latest_event_id(post)
    poll(client, post, latest)
    monkeypatch.setattr(polling, "forget", lambda post_id: None)  # Redis missed the delete
    entry = published(run_on_commit, post, editor, "Second")
    assert poll(client, post, latest).json()["events"] == []  # the bound, not a bug
    # Past the bound on every clock: local memory's (time-machine's), Redis's own and the process's monotonic one.
    time_machine.shift(timedelta(seconds=polling.HEAD_SECONDS + 0.01))
    time.sleep(polling.HEAD_SECONDS + polling.MEMO_SECONDS + 0.05)
    assert [event["entry"] for event in poll(client, post, latest).json()["events"]] == [entry.pk]


def test_a_draft_never_reaches_a_poller(client, post, editor, journalist, run_on_commit):
    published(run_on_commit, post, editor, "Public")
    latest = live.latest_event_id(post)
    EntryFactory(post=post, headline="Secret draft", created_by=journalist)
    answer = poll(client, post, 0)
    assert "Secret draft" not in answer.content.decode() and poll(client, post, latest).json()["events"] == []


def test_the_poll_endpoint_still_checks_the_host_and_sends_its_security_headers(client, post, settings):
    assert poll(client, post, 0, HTTP_HOST="evil.example").status_code == 400
    answer = poll(client, post, 0)
    assert answer["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in answer


def test_the_poll_endpoint_redirects_plain_http_when_the_site_is_https(client, post, settings):
    settings.SECURE_SSL_REDIRECT = True
    answer = poll(client, post, 0)
    assert answer.status_code == 301 and answer["Location"].startswith("https://")


def test_an_unknown_post_is_a_404(client, db):
    assert client.get("/live/no-such-post/updates.json?after=0").status_code == 404
