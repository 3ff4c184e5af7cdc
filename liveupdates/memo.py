"""Serve a hot live page from this process's memory, already compressed.

The whole-page cache (liveupdates.fragments) is shared by every process and
checked on each request: two small queries and a cache read of a 50-80 KB
page. At breaking-news traffic that is most of a request's cost. This
middleware, near the top of the stack, keeps the latest response of each live page
in process memory for a moment after the view last confirmed it fresh
(`NEWSROOM_PAGE_MEMO_SECONDS`, 0.1 s by default: less than the stream's own
latency). Within that moment a reader gets those bytes, with the same headers,
gzip or Brotli as they asked, without Django's other middleware, the
database or the cache. After it, the next request goes through the view,
which checks the page's key (its latest live event) and either confirms the
memo or replaces it.

Only anonymous GETs of a page's first screen are memoised (no query string,
no session cookie); the view decides which responses qualify, by marking
them with `memo_key`. Under WSGI (granian, in production) `serve_from_memory`
answers fresh memos even before Django builds a request; the middleware does
it for everything else (ASGI, the test client) and fills the memo. A reader
whose page is a moment old loses nothing: the page names the live event it
shows, and its stream resumes from there.
"""

import gzip
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified

try:  # Brotli is optional: without it, gzip only.
    import brotli
except ImportError:  # pragma: no cover - brotli is in requirements.txt
    brotli = None

MAX_PAGES = 256
_HOP_HEADERS = {"content-length", "content-encoding", "vary"}


@dataclass
class _Memo:
    key: str
    etag: str
    headers: dict
    bodies: dict  # encoding ("identity", "gzip", "br") -> bytes
    fresh_until: float


def _encodings(body):
    bodies = {"identity": body, "gzip": gzip.compress(body, compresslevel=6, mtime=0)}
    if brotli is not None:
        bodies["br"] = brotli.compress(body, quality=5)
    return bodies


def _accepted(accept, bodies):
    if "br" in accept and "br" in bodies:
        return "br"
    if "gzip" in accept:
        return "gzip"
    return "identity"


class _Store:
    """The memoised pages of this process, by path; shared by the WSGI front and the middleware."""

    def __init__(self):
        self.pages = OrderedDict()
        self.lock = threading.Lock()

    def fresh(self, path):
        memo = self.pages.get(path)
        return memo if memo is not None and time.monotonic() < memo.fresh_until else None

    def put(self, path, memo):
        with self.lock:
            self.pages[path] = memo
            self.pages.move_to_end(path)
            while len(self.pages) > MAX_PAGES:
                self.pages.popitem(last=False)

    def clear(self):
        with self.lock:
            self.pages.clear()


store = _Store()


def _answer(memo, accept_encoding, if_none_match, head):
    """(status, headers, body) of the memo for one reader."""
    if memo.etag and if_none_match == memo.etag:
        return 304, memo.headers, b""
    encoding = _accepted(accept_encoding, memo.bodies)
    body = memo.bodies[encoding]
    headers = {**memo.headers, "Content-Length": str(len(body)), "Vary": "Accept-Encoding"}
    if encoding != "identity":
        headers["Content-Encoding"] = encoding
    return 200, headers, b"" if head else body


def _memo_seconds():
    return getattr(settings, "NEWSROOM_PAGE_MEMO_SECONDS", 0.1)


def _may_answer(meta):
    """Whether a request (its WSGI environ or request.META) may get a memo: an anonymous GET of a first screen.

    Any cookie text naming the session counts as a session: doubtful requests go to Django.
    """
    return (
        _memo_seconds() > 0
        and meta.get("REQUEST_METHOD") in ("GET", "HEAD")
        and not meta.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in meta.get("HTTP_COOKIE", "")
    )


class RecentPageMemo:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _may_answer(request.META):
            return self.get_response(request)
        memo = store.fresh(request.path)
        if memo is not None:
            return self._respond(request, memo)
        response = self.get_response(request)
        key = getattr(response, "memo_key", None)
        if key is None or response.status_code not in (200, 304):
            return response
        return self._remember(request, response, key, store.pages.get(request.path))

    def _remember(self, request, response, key, memo):
        fresh_until = time.monotonic() + _memo_seconds()
        if memo is not None and memo.key == key:
            memo.fresh_until = fresh_until  # the view confirmed it: still the latest
        elif response.status_code == 200 and not response.streaming:
            headers = {name: value for name, value in response.items() if name.lower() not in _HOP_HEADERS}
            memo = _Memo(key, response.get("ETag", ""), headers, _encodings(response.content), fresh_until)
            store.put(request.path, memo)
        else:
            return response  # a 304 for a page this process has not memoised yet
        return self._respond(request, memo)

    def _respond(self, request, memo):
        status, headers, body = _answer(
            memo, request.META.get("HTTP_ACCEPT_ENCODING", ""), request.META.get("HTTP_IF_NONE_MATCH"), request.method == "HEAD"
        )
        if status == 304:
            return HttpResponseNotModified(headers=headers)
        return HttpResponse(body, headers=headers)


def serve_from_memory(application):
    """A WSGI front for the memo: a fresh memoised page is answered before Django builds a request.

    Django's request machinery (the request object, signals, the middleware
    chain) costs three times what sending the page does. The memo's rules are
    the middleware's; anything doubtful (a cookie naming the session, a query
    string, a page not memoised or past its moment) goes on to Django.
    """

    def front(environ, start_response):
        memo = store.fresh(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) if _may_answer(environ) else None
        if memo is None:
            return application(environ, start_response)
        status, headers, body = _answer(
            memo, environ.get("HTTP_ACCEPT_ENCODING", ""), environ.get("HTTP_IF_NONE_MATCH"), environ["REQUEST_METHOD"] == "HEAD"
        )
        start_response("304 Not Modified" if status == 304 else "200 OK", list(headers.items()))
        return [body]

    return front
