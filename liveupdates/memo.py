"""Serve a hot live page from this process's memory, already compressed.

The whole-page cache (liveupdates.fragments) is shared by every process and
checked on each request: two small queries and a cache read of a 50-80 KB
page. At breaking-news traffic that is most of a request's cost. This
middleware, first in the stack, keeps the latest response of each live page
in process memory for a moment after the view last confirmed it fresh
(`NEWSROOM_PAGE_MEMO_SECONDS`, 0.1 s by default: less than the stream's own
latency). Within that moment a reader gets those bytes, with the same headers,
gzip or Brotli as they asked, without Django's other middleware, the
database or the cache. After it, the next request goes through the view,
which checks the page's key (its latest live event) and either confirms the
memo or replaces it.

Only anonymous GETs of a page's first screen are memoised (no query string,
no session cookie); the view decides which responses qualify, by marking
them with `memo_key`. A reader whose page is a moment old loses nothing: the
page names the live event it shows, and its stream resumes from there.
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


def _accepted(request, bodies):
    accept = request.META.get("HTTP_ACCEPT_ENCODING", "")
    if "br" in accept and "br" in bodies:
        return "br"
    if "gzip" in accept:
        return "gzip"
    return "identity"


class RecentPageMemo:
    def __init__(self, get_response):
        self.get_response = get_response
        self.seconds = getattr(settings, "NEWSROOM_PAGE_MEMO_SECONDS", 0.1)
        self.pages = OrderedDict()
        self.lock = threading.Lock()

    def _eligible(self, request):
        return (
            self.seconds > 0
            and request.method in ("GET", "HEAD")
            and not request.META.get("QUERY_STRING")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        )

    def __call__(self, request):
        if not self._eligible(request):
            return self.get_response(request)
        memo = self.pages.get(request.path)
        if memo is not None and time.monotonic() < memo.fresh_until:
            return self._respond(request, memo)
        response = self.get_response(request)
        key = getattr(response, "memo_key", None)
        if key is None or response.status_code not in (200, 304):
            return response
        return self._remember(request, response, key, memo)

    def _remember(self, request, response, key, memo):
        fresh_until = time.monotonic() + self.seconds
        if memo is not None and memo.key == key:
            memo.fresh_until = fresh_until  # the view confirmed it: still the latest
        elif response.status_code == 200 and not response.streaming:
            headers = {name: value for name, value in response.items() if name.lower() not in _HOP_HEADERS}
            memo = _Memo(key, response.get("ETag", ""), headers, _encodings(response.content), fresh_until)
            with self.lock:
                self.pages[request.path] = memo
                self.pages.move_to_end(request.path)
                while len(self.pages) > MAX_PAGES:
                    self.pages.popitem(last=False)
        else:
            return response  # a 304 for a page this process has not memoised yet
        return self._respond(request, memo)

    def _respond(self, request, memo):
        if memo.etag and request.META.get("HTTP_IF_NONE_MATCH") == memo.etag:
            response = HttpResponseNotModified(headers=memo.headers)
            return response
        encoding = _accepted(request, memo.bodies)
        body = memo.bodies[encoding]
        response = HttpResponse(b"" if request.method == "HEAD" else body, headers=memo.headers)
        response["Content-Length"] = str(len(body))
        response["Vary"] = "Accept-Encoding"
        if encoding != "identity":
            response["Content-Encoding"] = encoding
        return response
