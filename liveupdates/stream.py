"""The live stream: Server-Sent Events from one hub per process.

Each ASGI process runs one Hub. The hub, not the readers, talks to the
database: it wakes on PostgreSQL NOTIFY (or every POLL_INTERVAL on SQLite),
reads the new LiveEvents with one indexed query, encodes each once, and puts
the bytes on every subscribed reader's queue. Readers cost a coroutine and a
queue each; a thousand readers cost the database nothing more than one.

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

from django.conf import settings
from django.db import close_old_connections, connection

from . import live

logger = logging.getLogger(__name__)

POLL_INTERVAL = 0.1  # seconds between change queries without NOTIFY (SQLite)
SAFETY_INTERVAL = 2.0  # with NOTIFY, still look now and then: a notification can be lost with a connection
DUE_INTERVAL = 1.0  # how often scheduled entries are checked
RECENT = 2000  # events the hub remembers for reconnecting readers
QUEUE_LIMIT = 500  # a reader this far behind is disconnected and catches up on reconnect


class Reader:
    __slots__ = ("queue", "dropped")

    def __init__(self):
        self.queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.dropped = False


class Hub:
    def __init__(self):
        self.subscribers = defaultdict(set)
        self.recent = deque(maxlen=RECENT)  # (id, post_id, entry_id, payload, message)
        self.floor = None  # every event after this id is in `recent`
        self.last_id = None
        self.removed = set()  # entries withdrawn since the hub started
        self.wake = asyncio.Event()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-hub")
        self.task = None
        self.listener = None
        self.loop = None

    # --- lifecycle ---

    async def start(self):
        if self.task is not None and not self.task.done():
            return
        self.loop = asyncio.get_running_loop()
        self.last_id = await self.db(live.latest_event_id)
        self.floor = self.last_id
        if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
            await self.db(self._listen)
        self.task = asyncio.create_task(self._run(), name="live-hub")

    async def db(self, function, *args):
        """Run ORM work on the hub's own thread (one database connection per process)."""

        def call():
            close_old_connections()
            return function(*args)

        return await self.loop.run_in_executor(self.executor, call)

    def _listen(self):
        import psycopg2

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
            self.listener.notifies.clear()
        except Exception:  # the connection died: fall back to polling until it is remade
            logger.exception("live hub lost its LISTEN connection")
            with contextlib.suppress(Exception):
                self.loop.remove_reader(self.listener.fileno())
            self.listener = None
        self.wake.set()

    async def _run(self):
        next_due = 0.0
        while True:
            interval = SAFETY_INTERVAL if self.listener is not None else POLL_INTERVAL
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=interval)
            self.wake.clear()
            try:
                if time.monotonic() >= next_due:
                    next_due = time.monotonic() + DUE_INTERVAL
                    await self.db(live.announce_due)
                await self._fetch()
                if self.listener is None and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
                    await self.db(self._listen)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("live hub failed to read new events; retrying")
                await asyncio.sleep(1)

    async def _fetch(self):
        rows = await self.db(self._rows_after, self.last_id)
        for event_id, post_id, entry_id, payload in rows:
            message = live.sse_message(event_id, payload)
            if len(self.recent) == self.recent.maxlen:
                self.floor = self.recent[0][0]  # about to be forgotten: older readers go to the database
            self.recent.append((event_id, post_id, entry_id, payload, message))
            if payload.get("type") == live.REMOVE:
                self.removed.add(entry_id)
            self.last_id = event_id
            for reader in list(self.subscribers.get(post_id, ())):
                try:
                    reader.queue.put_nowait((event_id, message))
                except asyncio.QueueFull:
                    # Too slow to keep up: its stream ends and it catches up on reconnect.
                    reader.dropped = True
                    self.subscribers[post_id].discard(reader)

    @staticmethod
    def _rows_after(after):
        from .models import LiveEvent

        return list(LiveEvent.objects.filter(pk__gt=after).order_by("pk").values_list("pk", "post_id", "entry_id", "payload")[:1000])

    # --- readers ---

    def subscribe(self, post_id):
        reader = Reader()
        self.subscribers[post_id].add(reader)
        return reader

    def unsubscribe(self, post_id, reader):
        self.subscribers[post_id].discard(reader)
        if not self.subscribers[post_id]:
            self.subscribers.pop(post_id, None)

    async def missed(self, post_id, after):
        """(id, message) pairs a reader at `after` has not seen, in order."""
        if after >= self.last_id:
            return []
        if after >= self.floor:
            events = [(i, p, e, payload) for i, p, e, payload, _ in self.recent if i > after and p == post_id]
            by_id = {i: m for i, p, _, _, m in self.recent if i > after and p == post_id}
            return [(i, by_id[i]) for i, _, _, _ in live.visible(events, self.removed)]
        rows = await self.db(live.events_after, post_id, after, 1000)
        return [(i, live.sse_message(i, payload)) for i, _, _, payload in rows]

    @property
    def readers(self):
        return sum(len(readers) for readers in self.subscribers.values())


_hub = None


def get_hub():
    global _hub
    if _hub is None or (_hub.loop is not None and _hub.loop.is_closed()):
        _hub = Hub()
    return _hub


# --- The endpoint ----------------------------------------------------------------------

HEARTBEAT = 15.0  # a comment line this often keeps proxies from closing an idle stream
MAX_STREAM = 30 * 60.0  # then the browser reconnects (with Last-Event-ID): bounds every connection's life


def parse_cursor(value):
    """A reader's cursor: a non-negative event id, or None when absent or malformed."""
    if value is None or value == "":
        return None
    try:
        cursor = int(value)
    except (TypeError, ValueError):
        return None
    return cursor if 0 <= cursor < 2**63 else None


async def stream_view(request, slug):
    from django.http import Http404, StreamingHttpResponse
    from django.utils import timezone

    from .models import LivePost

    post = await LivePost.objects.published().filter(slug=slug).only("pk", "coverage_end", "status", "published_at").afirst()
    if post is None:
        raise Http404("No such live post.")
    cursor = parse_cursor(request.headers.get("Last-Event-ID"))
    if cursor is None:
        cursor = parse_cursor(request.GET.get("after"))
    hub = get_hub()
    await hub.start()
    if cursor is None:
        cursor = hub.last_id

    async def events():
        reader = hub.subscribe(post.pk)
        last = cursor
        try:
            yield b"retry: 3000\n\n"
            for event_id, message in await hub.missed(post.pk, last):
                yield message
                last = event_id
            if post.coverage_end is not None and post.coverage_end <= timezone.now():
                yield live.sse_message(last, {"type": live.COVERAGE, "live": False, "public": True, "coverage_end": post.coverage_end.isoformat()})
                return
            deadline = time.monotonic() + MAX_STREAM
            while time.monotonic() < deadline and not reader.dropped:
                try:
                    event_id, message = await asyncio.wait_for(reader.queue.get(), timeout=HEARTBEAT)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if event_id > last:  # skip what catch-up already sent
                    yield message
                    last = event_id
        finally:
            hub.unsubscribe(post.pk, reader)

    response = StreamingHttpResponse(events(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-store, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
    return response
