"""A save answers as soon as it is stored; announcing a publication to live readers follows the response."""

import logging

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse

from liveupdates import after_response, live, workflow
from liveupdates.after_response import RunAfterResponse
from liveupdates.models import Entry, LiveEvent


@pytest.fixture
def in_a_request(rf, django_capture_on_commit_callbacks):
    """Run `action` inside a request, as a view would; returns the response, not yet closed (not yet sent)."""

    def run(action, **kwargs):
        def view(request):
            with django_capture_on_commit_callbacks(execute=True):
                action(**kwargs)
            return HttpResponse("saved")

        return RunAfterResponse(view)(rf.post("/admin/"))

    return run


def sent(response):
    """What a server does once it has sent a response: close it (as Django's test client does, keeping the test's database)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def kinds():
    return list(LiveEvent.objects.order_by("pk").values_list("kind", flat=True))


@pytest.mark.django_db
def test_a_publication_in_a_request_is_announced_once_its_response_is_sent(in_a_request, editor, draft):
    response = in_a_request(workflow.publish, entry=draft, user=editor)
    assert Entry.objects.get(pk=draft.pk).status == "published"  # stored before the answer
    assert kinds() == []  # the saver was not kept waiting for the announcement
    sent(response)
    assert kinds() == ["add"]


@pytest.mark.django_db
def test_a_withdrawal_in_a_request_reaches_live_readers_before_its_response(in_a_request, editor, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=draft, user=editor)
    response = in_a_request(workflow.withdraw, entry=Entry.objects.get(pk=draft.pk), user=editor, reason="Unconfirmed.")
    assert "remove" in kinds()  # no sweep would catch a lost withdrawal, so it is never deferred
    sent(response)


@pytest.mark.django_db
def test_a_publication_outside_a_request_is_announced_at_once(editor, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=draft, user=editor)
    assert kinds() == ["add"]


@pytest.mark.django_db
def test_an_announcement_lost_after_the_response_is_made_by_the_sweep(in_a_request, editor, draft):
    in_a_request(workflow.publish, entry=draft, user=editor)  # the process dies: never closed
    assert kinds() == []
    assert live.announce_due() == 1
    assert kinds() == ["add"]


def test_deferred_work_that_fails_is_logged_and_the_rest_still_runs(rf, caplog):
    done = []

    def fails():
        raise RuntimeError("boom")

    def view(request):
        after_response.defer(fails)
        after_response.defer(done.append, "second")
        return HttpResponse("ok")

    response = RunAfterResponse(view)(rf.get("/"))
    with caplog.at_level(logging.ERROR, logger="liveupdates.after_response"):
        sent(response)
    assert done == ["second"]
    assert "fails" in caplog.text and "boom" in caplog.text


def test_work_deferred_by_one_request_does_not_leak_into_the_next(rf):
    done = []

    def first(request):
        after_response.defer(done.append, "first")
        return HttpResponse("ok")

    RunAfterResponse(first)(rf.get("/"))  # never closed
    sent(RunAfterResponse(lambda request: HttpResponse("ok"))(rf.get("/")))
    assert done == []
