"""A hot live page answered from process memory: fresh, compressed, same headers, only for anonymous readers."""

import gzip
import time

import brotli
import pytest
from django.test import Client

from liveupdates import workflow
from liveupdates.models import Entry

from .factories import PublishedEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def memo_client(settings):
    settings.NEWSROOM_PAGE_MEMO_SECONDS = 30  # long enough that only the memo can answer within the test
    return Client()


def test_a_memoised_page_is_answered_without_a_query(memo_client, post, django_assert_num_queries):
    PublishedEntryFactory(post=post, headline="Strikes on Douma")
    first = memo_client.get(post.get_absolute_url())
    with django_assert_num_queries(0):
        second = memo_client.get(post.get_absolute_url())
    assert second.status_code == 200
    assert second.content == first.content
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control", "ETag"):
        assert second[header] == first[header]


def test_the_memo_is_confirmed_by_the_view_once_its_moment_has_passed(settings, post, editor):
    settings.NEWSROOM_PAGE_MEMO_SECONDS = 0.2
    client = Client()
    client.get(post.get_absolute_url())
    entry = Entry.objects.create(post=post, headline="New strikes on Sukayk", body="<p>Jets again.</p>", created_by=editor)
    workflow.publish(entry=entry, user=editor)
    from liveupdates import live

    live.announce_due()
    time.sleep(0.25)
    assert "New strikes on Sukayk" in client.get(post.get_absolute_url()).content.decode()


@pytest.mark.parametrize("accept, encoding, decode", [
    ("gzip, deflate, br", "br", brotli.decompress),
    ("gzip", "gzip", gzip.decompress),
    ("", None, lambda body: body),
])
def test_the_memo_answers_in_the_encoding_the_reader_accepts(memo_client, post, accept, encoding, decode):
    PublishedEntryFactory(post=post, headline="Strikes on Douma")
    plain = memo_client.get(post.get_absolute_url()).content if not accept else None
    response = memo_client.get(post.get_absolute_url(), headers={"Accept-Encoding": accept})
    assert response.get("Content-Encoding") == encoding
    assert response["Vary"] == "Accept-Encoding"
    assert b"Strikes on Douma" in decode(response.content)
    if plain is not None:
        assert response.content == plain


def test_a_memoised_page_answers_304_to_a_matching_etag(memo_client, post):
    etag = memo_client.get(post.get_absolute_url())["ETag"]
    response = memo_client.get(post.get_absolute_url(), headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_staff_with_a_session_and_older_pages_never_get_the_memo(memo_client, post, editor, django_assert_max_num_queries):
    memo_client.get(post.get_absolute_url())
    with django_assert_max_num_queries(50) as captured:
        memo_client.get(post.get_absolute_url() + "?before=9999999999999999-1")
    assert len(captured) > 0
    memo_client.force_login(editor)
    with django_assert_max_num_queries(50) as captured:
        memo_client.get(post.get_absolute_url())
    assert len(captured) > 0


def test_other_pages_are_gzipped_but_the_live_stream_is_not(client, post):
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    assert b"Newsroom Live" in gzip.decompress(response.content)
    from django.http import StreamingHttpResponse
    from django.test import RequestFactory

    from newsroom.middleware import CompressPages

    def stream(request):
        return StreamingHttpResponse(iter([b"data: {}\n\n"]), content_type="text/event-stream")

    request = RequestFactory().get(post.get_absolute_url() + "stream/", headers={"Accept-Encoding": "gzip"})
    response = CompressPages(stream)(request)
    assert not response.has_header("Content-Encoding")
    assert b"".join(response.streaming_content) == b"data: {}\n\n"


# --- The WSGI front: fresh memos answered before Django builds a request ------------------


def wsgi_environ(path, **extra):
    from io import BytesIO
    from wsgiref.util import setup_testing_defaults

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "wsgi.input": BytesIO(), **extra}
    setup_testing_defaults(environ)
    return environ


def call(front, environ):
    answered = {}

    def start_response(status, headers):
        answered["status"], answered["headers"] = status, dict(headers)

    body = b"".join(front(environ, start_response))
    return answered.get("status"), answered.get("headers"), body


@pytest.fixture
def behind_the_front():
    """The WSGI front over a stand-in for Django that records what reaches it."""
    from liveupdates.memo import serve_from_memory

    reached = []

    def django(environ, start_response):
        reached.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"from Django"]

    return serve_from_memory(django), reached


def test_the_wsgi_front_answers_a_fresh_memo_without_django(memo_client, post, behind_the_front):
    front, reached = behind_the_front
    PublishedEntryFactory(post=post, headline="Strikes on Douma")
    page = memo_client.get(post.get_absolute_url())  # Django renders it and the memo keeps it
    status, headers, body = call(front, wsgi_environ(post.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip"))
    assert reached == []
    assert status == "200 OK" and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == page.content
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "Cache-Control", "ETag"):
        assert headers[header] == page[header]
    assert call(front, wsgi_environ(post.get_absolute_url(), HTTP_IF_NONE_MATCH=page["ETag"]))[0] == "304 Not Modified"


@pytest.mark.parametrize("extra", [
    {"HTTP_COOKIE": "sessionid=abc"},
    {"QUERY_STRING": "before=9999999999999999-1"},
    {"REQUEST_METHOD": "POST"},
], ids=["a session", "an older page", "a form"])
def test_the_wsgi_front_passes_everything_doubtful_to_django(memo_client, post, behind_the_front, extra):
    front, reached = behind_the_front
    memo_client.get(post.get_absolute_url())
    assert call(front, wsgi_environ(post.get_absolute_url(), **extra))[2] == b"from Django"
    assert reached == [post.get_absolute_url()]


def test_the_wsgi_front_passes_a_page_past_its_moment_to_django(settings, post, behind_the_front):
    settings.NEWSROOM_PAGE_MEMO_SECONDS = 0.05
    front, reached = behind_the_front
    Client().get(post.get_absolute_url())
    time.sleep(0.06)
    assert call(front, wsgi_environ(post.get_absolute_url()))[2] == b"from Django"


def test_the_production_wsgi_application_has_the_front():
    from newsroom.wsgi import application

    assert application.__qualname__.endswith("front")


def test_the_production_wsgi_worker_keeps_its_start_up_objects_out_of_the_collector():
    import gc

    import newsroom.wsgi  # noqa: F401

    assert gc.get_freeze_count() > 10_000
