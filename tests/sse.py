"""An EventSource as a browser runs one, for the stream tests: reconnects when its stream ends, sending Last-Event-ID.

Each reader runs on one shared asyncio loop in a background thread, so the
tests themselves stay synchronous (they publish through the workflow). It
records every event it receives, in order, with its id: a test can then count
what was lost or delivered twice.
"""

import asyncio
import json
import threading
import time


class Readers:
    """A background event loop holding any number of SSE readers."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.readers = []

    def open(self, port, path, *, after=None, retry=0.2):
        reader = SSEReader(port, path, after=after, retry=retry)
        reader.future = asyncio.run_coroutine_threadsafe(reader.run(), self.loop)
        self.readers.append(reader)
        return reader

    def close(self):
        for reader in self.readers:
            reader.stopping = True
            self.loop.call_soon_threadsafe(reader.hang_up)
        for reader in self.readers:
            try:
                reader.future.result(timeout=5)
            except Exception:  # noqa: BLE001 - a reader that failed is reported by its own assertions
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class SSEReader:
    def __init__(self, port, path, *, after=None, retry=0.2):
        self.port, self.path, self.retry = port, path, retry
        self.after = after
        self.last_event_id = None
        self.events = []  # (id, payload) in the order received, duplicates included
        self.connections = 0  # streams opened (200 answered)
        self.refusals = []  # status lines of answers that were not a stream
        self.stopping = False
        self.writer = None
        self.future = None

    @property
    def ids(self):
        return [event_id for event_id, _ in self.events]

    def hang_up(self):
        if self.writer is not None:
            self.writer.close()

    def wait_for(self, test, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if test(self):
                return
            time.sleep(0.05)
        raise AssertionError(
            f"not within {timeout} s: {self.connections} streams opened, events {self.ids}, refusals {self.refusals}"
        )

    async def run(self):
        while not self.stopping:
            try:
                await self._once()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                pass
            if not self.stopping:
                await asyncio.sleep(self.retry)

    async def _once(self):
        reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            path = self.path
            if self.last_event_id is None and self.after is not None:
                path += f"?after={self.after}"  # the page's cursor, as live.js opens the stream the first time
            request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
            if self.last_event_id is not None:
                request += f"Last-Event-ID: {self.last_event_id}\r\n"
            self.writer.write((request + "\r\n").encode())
            status = (await reader.readline()).decode("latin-1").strip()
            headers = {}
            while line := (await reader.readline()).strip():
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip().lower()
            if " 200 " not in status + " ":
                self.refusals.append(status)
                return
            self.connections += 1
            chunked = headers.get("transfer-encoding") == "chunked"
            buffer = b""
            while True:
                if chunked:
                    size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        return
                    data = (await reader.readexactly(size + 2))[:-2]
                else:
                    data = await reader.read(65536)
                    if not data:
                        return
                buffer += data
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    self._event(block)
        finally:
            self.writer.close()

    def _event(self, block):
        fields = {}
        for line in block.decode().split("\n"):
            if line.startswith(":"):
                continue  # a heartbeat
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if "id" in fields:
            self.last_event_id = fields["id"]
        if "data" in fields:
            self.events.append((int(fields["id"]), json.loads(fields["data"])))
