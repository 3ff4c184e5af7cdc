"""The built-in stream on several processes: `manage.py stream_server --processes N --port P`.

A small server that answers only `/live/<slug>/stream/` (everything else is a
404: pages are the page nodes' work). N worker processes each bind the same
port with SO_REUSEPORT, so the kernel spreads new readers over them; each
runs its own Hub (stream.py) with its own LISTEN connection. The master
process only watches: a worker that dies is started again within
RESPAWN_INTERVAL, and its readers reconnect (to any worker) with
Last-Event-ID and get exactly what they missed from the log.

Why not uvicorn: under ASGI each reader costs a queue, a task and a send()
call per event, and at 10,000 readers on one process the publish-to-reader
p95 was 2.41 s (issue 16). Here a reader is one small object beside its
socket: the hub encodes an event once and writes the same bytes to every
reader's transport, with no task woken per reader. What a reader receives is
the same as under ASGI: `retry:`, what it missed, then each event as it comes.
"""

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import time
from urllib.parse import parse_qs, urlsplit

from django.db import connections

from liveupdates.delivery import stream
from newsroom.startup import freeze_startup_objects

logger = logging.getLogger(__name__)

HEAD_LIMIT = 8192  # bytes of request head; more is refused
WRITE_LIMIT = 256 * 1024  # bytes waiting for a reader's socket: past this it is let go and catches up on reconnect
RESPAWN_INTERVAL = 1.0  # seconds between a worker's death and its replacement (no busy loop when start-up fails)
BACKLOG = 8192  # a rush of reconnecting readers after a node dies waits in the kernel, not refused

RESPONSE_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    + b"".join(name + b": " + value + b"\r\n" for name, value in stream.STREAM_HEADERS)
    # Delimited by the connection's end: no chunk framing, so every reader gets the very same bytes.
    + b"connection: close\r\n\r\n"
)
RETRY = b"retry: 3000\n\n"  # the body's first line, as the ASGI stream's
_opening: set[asyncio.Task] = set()  # requests being answered (a task nobody holds may be collected mid-way)


def _refusal(status, reason, text):
    body = text.encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class Connection(asyncio.Protocol):
    """One reader: its transport, its post, the last event id written, and the deadline of its stream.

    While it catches up (the events it missed, read from the hub's memory or
    the database), live events the hub hands it wait in `pending`; afterwards
    each is written at once, and an id at or below `last` is never written twice.
    """

    __slots__ = ("transport", "head", "post_id", "last", "pending", "deadline")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.head: bytes | None = b""
        self.post_id: int | None = None
        self.last = 0
        self.pending: list[tuple[int, bytes]] | None = []
        self.deadline = 0.0

    # --- asyncio.Protocol ---

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.head is None:
            return  # the request has been read; a reader sends nothing more
        self.head += data
        if b"\r\n\r\n" in self.head:
            head, self.head = self.head, None
            task = asyncio.ensure_future(self._open(head))
            _opening.add(task)
            task.add_done_callback(_opening.discard)
        elif len(self.head) > HEAD_LIMIT:
            self.head = None
            self._refuse(431, "Request Header Fields Too Large", "Request head too large.")

    def connection_lost(self, exc):
        if self.post_id is not None:
            stream.get_hub().unsubscribe(self.post_id, self)
            self.post_id = None

    # --- what the hub calls (stream.Subscriber) ---

    def deliver(self, event_id, message):
        if self.pending is not None:
            self.pending.append((event_id, message))
            if len(self.pending) <= stream.QUEUE_LIMIT:
                return True
            if self.transport is not None:
                self.transport.abort()  # its catch-up is stuck: it reconnects and catches up from the log
            return False
        return self._write(event_id, message)

    def beat(self):
        if self.pending is not None or self.transport is None or self.transport.is_closing():
            return
        if time.monotonic() > self.deadline:
            self.transport.close()  # MAX_STREAM: the browser reconnects with Last-Event-ID
        else:
            self.transport.write(stream.KEEP_ALIVE)

    # --- the request ---

    def _write(self, event_id, message):
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        if event_id > self.last:
            transport.write(message)
            self.last = event_id
            if transport.get_write_buffer_size() > WRITE_LIMIT:
                transport.abort()  # too slow to keep up: it catches up on reconnect
                return False
        return True

    def _refuse(self, status, reason, text):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_refusal(status, reason, text))
            self.transport.close()

    async def _open(self, head):
        try:
            await self._serve(head)
        except Exception:
            logger.warning("stream server: a reader could not be served", exc_info=True)
            if self.post_id is None:
                self._refuse(503, "Service Unavailable", "The live stream is unavailable; try again shortly.")
            elif self.transport is not None:
                self.transport.close()

    async def _serve(self, head):
        lines = head.split(b"\r\n")
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) != 3:
            return self._refuse(400, "Bad Request", "Bad request.")
        method, target, _ = parts
        url = urlsplit(target)
        slug = stream.stream_slug(url.path)
        if slug is None:
            return self._refuse(404, "Not Found", "This server answers only live streams.")
        if method not in ("GET", "HEAD"):
            return self._refuse(405, "Method Not Allowed", "Only GET.")
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        after = parse_qs(url.query).get("after", [None])[0]
        last_event_id = headers.get(b"last-event-id", b"").decode("latin-1") or None
        post, cursor = await stream.open_stream(slug, last_event_id, after)
        if post is None:
            return self._refuse(404, "Not Found", "No such live post.")
        transport = self.transport
        if transport is None or transport.is_closing():
            return  # the reader left while we looked
        hub = stream.get_hub()
        self.last = cursor
        self.post_id = post.pk
        hub.add(post.pk, self)  # from now on, new events wait in `pending`
        if method == "HEAD":
            transport.write(RESPONSE_HEAD)
            return transport.close()
        transport.write(RESPONSE_HEAD + RETRY)
        for event_id, message in await hub.missed(post.pk, cursor):
            self._write(event_id, message)
        ended = stream.coverage_ended(post, self.last)
        if ended is not None:
            transport.write(ended)
            return transport.close()
        pending, self.pending = self.pending or [], None
        for event_id, message in pending:
            self._write(event_id, message)
        self.deadline = time.monotonic() + stream.MAX_STREAM


# --- A worker ---------------------------------------------------------------------------


async def _serve_forever(host, port, master):
    loop = asyncio.get_running_loop()
    hub = stream.get_hub()
    await hub.start()  # before the first reader: it must not wait for the LISTEN connection
    freeze_startup_objects()  # and the hub's own start-up objects too
    server = await loop.create_server(Connection, host, port, reuse_port=True, backlog=BACKLOG)
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    logger.info("stream worker %s serving %s:%s", os.getpid(), host, port)
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=1.0)
        if os.getppid() != master:
            logger.warning("stream worker %s: the master process is gone; stopping", os.getpid())
            break
    server.close()
    for readers in list(hub.subscribers.values()):
        for reader in list(readers):
            transport = getattr(reader, "transport", None)
            if transport is not None:
                transport.close()
    await hub.stop()


def _worker(host, port, master):
    import uvloop

    # The master's handlers came across the fork: until the loop installs its own, a signal must end us.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    uvloop.run(_serve_forever(host, port, master))


# --- The master ---------------------------------------------------------------------------


def _check_port(host, port):
    """Fail at once, with a clear message, when another program holds the port."""
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        probe.bind((host, port))
    except OSError as error:
        raise SystemExit(f"stream server: cannot listen on {host}:{port}: {error}") from None
    finally:
        probe.close()


def run(*, host, port, processes):
    """Start `processes` workers on host:port and keep that many alive until SIGTERM or SIGINT."""
    _check_port(host, port)
    connections.close_all()  # no database connection may be shared across fork
    freeze_startup_objects()  # before forking: the frozen pages stay shared between workers
    context = multiprocessing.get_context("fork")
    master = os.getpid()

    def start():
        worker = context.Process(target=_worker, args=(host, port, master), name="stream-worker", daemon=False)
        worker.start()
        return worker

    stopping = []

    def stop(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers = [start() for _ in range(processes)]
    started = [time.monotonic()] * processes
    logger.info("stream server on %s:%s: %d workers (%s)", host, port, processes, ", ".join(str(w.pid) for w in workers))
    while not stopping:
        time.sleep(0.1)
        for index, worker in enumerate(workers):
            if stopping:
                break  # a worker ended by the same signal as ours is not replaced
            # A worker that died young waits out RESPAWN_INTERVAL: no busy loop when start-up fails.
            if worker.is_alive() or time.monotonic() - started[index] < RESPAWN_INTERVAL:
                continue
            logger.warning("stream worker %s exited (code %s); starting another", worker.pid, worker.exitcode)
            workers[index], started[index] = start(), time.monotonic()
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.kill()
            worker.join(timeout=5)
