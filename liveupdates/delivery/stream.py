"""The live stream: Server-Sent Events from one hub per process.

Each process that serves the stream (uvicorn under ASGI, or each worker of
`manage.py stream_server`, liveupdates/delivery/stream_server.py) runs one
Hub. The hub, not the readers, talks to the database: it wakes on PostgreSQL
NOTIFY (or every POLL_INTERVAL on SQLite), reads the new LiveEvents with one
indexed query, encodes each once, and hands the same bytes to every
subscribed reader: onto its queue under ASGI, straight onto its socket in the
stream server. A thousand readers cost the database nothing more than one.

A reader that connects or reconnects names the last event it has
(Last-Event-ID, or ?after= from the page) and first receives exactly what it
missed, from the hub's recent memory or from the database.
"""

import asyncio
import contextlib
import logging
import select
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, NamedTuple, Protocol
from urllib.parse import parse_qs

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, StreamingHttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from liveupdates.delivery import live
from liveupdates.models import LiveEvent, LivePost

logger = logging.getLogger(__name__)

HEARTBEAT = 15.0  # a comment line this often keeps proxies from closing an idle stream
KEEP_ALIVE = b": keep-alive\n\n"
POLL_INTERVAL = 0.1  # seconds between change queries without NOTIFY (SQLite)
SAFETY_INTERVAL = 2.0  # with NOTIFY, still look now and then: a notification can be lost with a connection
DUE_INTERVAL = 1.0  # how often scheduled entries are checked
RECENT = 2000  # events the hub remembers for reconnecting readers
DIRECTORY_MAX_AGE = 30.0  # the directory of public posts is read again at least this often
DIRECTORY_RETRY = 1.0  # a slug it does not know reads it again at most this often (then: 404)
QUEUE_LIMIT = 500  # a reader this far behind is disconnected and catches up on reconnect


class Subscriber(Protocol):
    """What the hub asks of a reader: take this event's bytes (False: too slow, let me go), take a heartbeat."""

    def deliver(self, event_id: int, message: bytes) -> bool: ...

    def beat(self) -> None: ...


class Reader:
    """A reader served through ASGI (uvicorn, `make run`): the hub puts each message on its queue.

    Every kind of reader offers the hub the same two calls, `deliver(event_id,
    message)` (False: too slow, let go) and `beat()`; the stream server's
    readers (stream_server.Connection) write to their socket instead.
    """

    __slots__ = ("queue", "dropped")

    def __init__(self) -> None:
        # (event id, bytes); (None, bytes) is a heartbeat, (None, None) a wake-up to end.
        self.queue: asyncio.Queue[tuple[int | None, bytes | None]] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.dropped = False

    def deliver(self, event_id, message):
        try:
            self.queue.put_nowait((event_id, message))
            return True
        except asyncio.QueueFull:
            # Too slow to keep up: its stream ends and it catches up on reconnect.
            self.dropped = True
            return False

    def beat(self):
        if not self.queue.full():
            self.queue.put_nowait((None, KEEP_ALIVE))


class Hub:
    loop: asyncio.AbstractEventLoop  # set by start(), before anything uses it

    def __init__(self) -> None:
        self.subscribers: defaultdict[int, set[Subscriber]] = defaultdict(set)
        self.recent: deque[tuple[int, int, int | None, dict[str, Any], bytes]] = deque(maxlen=RECENT)
        self.floor = 0  # every event after this id is in `recent`
        self.last_id = 0
        self.removed: set[int | None] = set()  # entries withdrawn since the hub started
        self.wake = asyncio.Event()
        self.starting = asyncio.Lock()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-hub")
        self.task: asyncio.Task[None] | None = None
        self.directory = Directory()
        self.listener: Any = None  # psycopg2's LISTEN connection (untyped)
        self.failing: set[str] = set()  # steps of the loop failing now: logged once, not every second

    # --- lifecycle ---

    async def start(self):
        if self.task is not None and not self.task.done():
            return
        # A rush of first readers all arrive here; exactly one starts the hub.
        async with self.starting:
            if self.task is not None and not self.task.done():
                return
            self.loop = asyncio.get_running_loop()
            self.last_id = await self.db(live.latest_event_id)
            self.floor = self.last_id
            if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
                await self.db(self._listen)
            self.task = asyncio.create_task(self._run(), name="live-hub")

    async def stop(self):
        """Stop reading and let go of both database connections (tests, shutdown)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        if self.listener is not None:
            with contextlib.suppress(Exception):
                self.loop.remove_reader(self.listener.fileno())
                self.listener.close()
            self.listener = None
        if getattr(self, "loop", None) is not None:
            # Looked up on the hub thread: each thread has its own connection object.
            await self.loop.run_in_executor(self.executor, lambda: connection.close())
        self.executor.shutdown(wait=False)

    async def db(self, function, *args):
        """Run ORM work on the hub's own thread (one database connection per process)."""

        def call():
            # The hub keeps its one connection for the life of the process; a
            # broken one is dropped and the next call reconnects.
            try:
                return function(*args)
            except (InterfaceError, OperationalError):
                connection.close()
                raise

        return await self.loop.run_in_executor(self.executor, call)

    def _listen(self):
        import psycopg2  # late: only a PostgreSQL deployment has it loaded for LISTEN

        params = connection.get_connection_params()
        self.listener = psycopg2.connect(**params)
        self.listener.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
        with self.listener.cursor() as cursor:
            cursor.execute(f"LISTEN {live.CHANNEL}")
        self.loop.call_soon_threadsafe(self.loop.add_reader, self.listener.fileno(), self._notified)

    def _notified(self):
        try:
            if select.select([self.listener], [], [], 0)[0]:
                self.listener.poll()
            logger.debug("hub notified: %s", [n.payload for n in self.listener.notifies])
            self.listener.notifies.clear()
        except Exception:  # the connection died: fall back to polling until it is remade
            logger.exception("live hub lost its LISTEN connection")
            with contextlib.suppress(Exception):
                self.loop.remove_reader(self.listener.fileno())
            self.listener = None
        self.wake.set()

    async def _run(self):
        next_due = 0.0
        next_beat = time.monotonic() + HEARTBEAT
        while True:
            interval = SAFETY_INTERVAL if self.listener is not None else POLL_INTERVAL
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=interval)
            self.wake.clear()
            if time.monotonic() >= next_due:
                next_due = time.monotonic() + DUE_INTERVAL
                # Apart from reading: a sweep that fails must never stop delivery of what is in the log.
                await self._guarded("announce", self.db, live.announce)
            await self._guarded("read", self._fetch)
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + HEARTBEAT
                self._broadcast_heartbeat()
            if self.listener is None and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
                await self._guarded("listen", self.db, self._listen)

    async def _guarded(self, what, function, *args):
        """Run one step of the hub's loop; a failure is logged once until that step succeeds again."""
        try:
            await function(*args)
        except asyncio.CancelledError:
            raise
        except Exception:
            if what not in self.failing:
                logger.exception("live hub: %s failed; retrying every second", what)
            self.failing.add(what)
            await asyncio.sleep(0.5)
        else:
            if what in self.failing:
                logger.info("live hub: %s works again", what)
                self.failing.discard(what)

    async def _fetch(self):
        rows = await self.db(self._rows_after, self.last_id)
        if rows:
            logger.debug("hub read %d events after %s for %d readers", len(rows), self.last_id, self.readers)
        for event_id, post_id, entry_id, payload in rows:
            message = live.sse_message(event_id, payload)
            if len(self.recent) == self.recent.maxlen:
                self.floor = self.recent[0][0]  # about to be forgotten: older readers go to the database
            self.recent.append((event_id, post_id, entry_id, payload, message))
            if payload.get("type") == live.REMOVE:
                self.removed.add(entry_id)
            elif payload.get("type") == live.COVERAGE:
                self.directory.stale = True  # a post published, unpublished or changed: read the directory again
            self.last_id = event_id
            readers = self.subscribers.get(post_id)
            if readers:
                # The same bytes for every reader, encoded once above.
                slow = [reader for reader in tuple(readers) if not reader.deliver(event_id, message)]
                for reader in slow:
                    readers.discard(reader)

    def _broadcast_heartbeat(self):
        # One timer for all readers, instead of a timeout on every reader's wait.
        for readers in self.subscribers.values():
            for reader in readers:
                reader.beat()

    @staticmethod
    def _rows_after(after):

        return list(
            LiveEvent.objects.filter(pk__gt=after).order_by("pk").values_list("pk", "post_id", "entry_id", "payload")[:1000]
        )

    # --- readers ---

    def add(self, post_id, reader):
        self.subscribers[post_id].add(reader)

    def unsubscribe(self, post_id, reader):
        readers = self.subscribers.get(post_id)
        if readers is not None:
            readers.discard(reader)
            if not readers:
                self.subscribers.pop(post_id, None)

    async def missed(self, post_id, after):
        """(id, message) pairs a reader at `after` has not seen, in order."""
        if after >= self.last_id:
            return []
        if after >= self.floor:
            events = [(i, p, e, payload) for i, p, e, payload, _ in self.recent if i > after and p == post_id]
            by_id = {i: m for i, p, _, _, m in self.recent if i > after and p == post_id}
            return [(i, by_id[i]) for i, _, _, _ in live.visible(events, self.removed)]
        # From the database, batch after batch up to where the hub is: a reader far behind
        # (a tab asleep through a busy hour) must get every removal, not the first 1,000 rows.
        missed, cursor = [], after
        while cursor < self.last_id:
            rows, read_to = await self.db(live.read_after, post_id, cursor, 1000)
            missed += [(i, live.sse_message(i, payload)) for i, _, _, payload in rows]
            if read_to == cursor:
                break
            cursor = read_to
        return missed

    async def public_post(self, slug):
        """The public post with this slug (a KnownPost), or None: from the hub's directory of public posts."""
        return await self.directory.lookup(self, slug)

    @property
    def readers(self):
        return sum(len(readers) for readers in self.subscribers.values())


class KnownPost(NamedTuple):
    pk: int
    coverage_end: datetime | None


class Directory:
    """Every public post a reader may open a stream for, read in one query for all of them.

    Readers never open database connections of their own, and a request for a
    slug that does not exist must cost no query: a rush of random
    /live/<slug>/stream/ URLs once meant one query each on the hub's one
    database thread (delaying every publication behind them) and one cache
    entry each, kept forever. Here the hub keeps one slug -> (pk, coverage
    end) map of the public posts, so memory is bounded by the posts the
    newsroom has published, not by the URLs asked for; an unknown slug is a 404
    from memory. The map is read again when the log carries a post's coverage
    event (published, unpublished, its settings changed: `Hub._fetch` marks it
    stale), at least every DIRECTORY_MAX_AGE seconds, and when a slug it does
    not know is asked for, at most once every DIRECTORY_RETRY seconds (so a
    post that became public by its scheduled time passing is found within a
    second of its first reader).
    """

    def __init__(self) -> None:
        self.posts: dict[str, KnownPost] = {}
        self.read_at = -DIRECTORY_MAX_AGE
        self.stale = True
        self.reading = asyncio.Lock()

    async def lookup(self, hub, slug):
        if self._due(slug):
            async with self.reading:  # a rush of readers: one query, the others wait for it
                if self._due(slug):
                    read_at = time.monotonic()
                    self.stale = False
                    self.posts = await hub.db(_public_posts)
                    self.read_at = read_at
        return self.posts.get(slug)

    def _due(self, slug):
        age = time.monotonic() - self.read_at
        return self.stale or age >= DIRECTORY_MAX_AGE or (slug not in self.posts and age >= DIRECTORY_RETRY)


def _public_posts():
    rows = LivePost.objects.published().values_list("slug", "pk", "coverage_end")
    return {slug: KnownPost(pk, coverage_end) for slug, pk, coverage_end in rows}


_hub = None


def get_hub():
    global _hub
    loop = getattr(_hub, "loop", None)
    if _hub is None or (loop is not None and loop.is_closed()):
        _hub = Hub()
    return _hub


# --- The endpoint ----------------------------------------------------------------------

MAX_STREAM = 30 * 60.0  # then the browser reconnects (with Last-Event-ID): bounds every connection's life
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-store, no-transform"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event through at once
    (b"x-content-type-options", b"nosniff"),
]


def stream_slug(path):
    """The post slug if `path` is a live stream, by the one URL pattern that names it (liveupdates:post_stream)."""
    if not path.endswith("/stream/"):
        return None  # most requests: no need to ask the resolver
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.kwargs["slug"] if match.view_name == "liveupdates:post_stream" else None


async def open_stream(slug, last_event_id, after):
    """(post, cursor) for a reader of `slug`, or (None, None) when there is no such public post."""
    hub = get_hub()
    await hub.start()
    post = await hub.public_post(slug)
    if post is None:
        return None, None
    cursor = live.parse_cursor(last_event_id)
    if cursor is None:
        cursor = live.parse_cursor(after)
    return post, hub.last_id if cursor is None else cursor


def coverage_ended(post, last):
    """The last message of a post whose coverage has ended (its stream then closes), or None while it is live."""
    if post.coverage_end is None or post.coverage_end > timezone.now():
        return None
    return live.sse_message(
        last, {"type": live.COVERAGE, "live": False, "public": True, "coverage_end": post.coverage_end.isoformat()}
    )


async def stream_events(post, cursor, reader=None):
    """The bytes one reader receives: what they missed, then each new event as it comes."""

    hub = get_hub()
    reader = reader or Reader()
    hub.add(post.pk, reader)
    last = cursor
    try:
        yield b"retry: 3000\n\n"
        for event_id, message in await hub.missed(post.pk, last):
            yield message
            last = event_id
        ended = coverage_ended(post, last)
        if ended is not None:
            yield ended
            return
        deadline = time.monotonic() + MAX_STREAM
        while time.monotonic() < deadline and not reader.dropped:
            event_id, message = await reader.queue.get()
            if event_id is None:
                if message is not None:
                    yield message  # the hub's heartbeat
            elif event_id > last:  # skip what catch-up already sent
                yield message
                last = event_id
    finally:
        hub.unsubscribe(post.pk, reader)


async def stream_view(request, slug):
    """The stream as a Django view (used where Django serves the path itself)."""

    post, cursor = await open_stream(slug, request.headers.get("Last-Event-ID"), request.GET.get("after"))
    if post is None:
        raise Http404("No such live post.")
    response = StreamingHttpResponse(stream_events(post, cursor))
    for name, value in STREAM_HEADERS:
        response[name.decode()] = value.decode()
    return response


async def asgi_stream(scope, receive, send, slug):
    """The same stream as a bare ASGI endpoint: what newsroom.asgi routes readers to.

    Measured with 10,000 readers on one process (docs/benchmarks.md): Django's
    request machinery keeps a few hundred objects and a thread alive per open
    stream, and Python's full garbage collection over them stalled every
    reader for 1.4-1.6 s. This path keeps a reader to a queue, a generator
    and one task, and runs the same stream_events.
    """

    headers = dict(scope.get("headers") or ())
    after = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("after", [None])[0]
    last_event_id = headers.get(b"last-event-id", b"").decode("latin-1") or None
    post, cursor = await open_stream(slug, last_event_id, after)
    if post is None:
        await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
        await send({"type": "http.response.body", "body": b"No such live post."})
        return
    reader = Reader()

    async def watch_disconnect():
        while (await receive())["type"] != "http.disconnect":
            pass
        reader.dropped = True
        with contextlib.suppress(asyncio.QueueFull):
            reader.queue.put_nowait((None, None))  # wakes the stream so it can end

    watcher = asyncio.ensure_future(watch_disconnect())
    try:
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        async for chunk in stream_events(post, cursor, reader):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if reader.dropped:
                break
        if not reader.dropped:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        watcher.cancel()
