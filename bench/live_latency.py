#!/usr/bin/env python
"""Publish-to-reader latency of the live stream, with N readers connected.

Starts uvicorn (one worker, production settings) on a fresh benchmark
database, connects N Server-Sent Events readers to one live post, publishes
entries from a separate process through the editorial workflow, and prints
the latency from the publish call to each reader's receipt (p50/p95/max),
how many messages were lost, and the server's memory.

    .venv/bin/python bench/live_latency.py                   # 1,000 readers, SQLite
    .venv/bin/python bench/live_latency.py --readers 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_bench .venv/bin/python bench/live_latency.py

Loopback only; every loop is bounded in count and time.
"""

import argparse
import asyncio
import gc
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database, stop, wait_for  # noqa: E402

SLUG = "bench-live-post"
MARK = re.compile(rb"bench-(\d+)-(\d+\.\d+)-end")


def django_env(database_url):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "NEWSROOM_SITE_URL": "http://127.0.0.1:8000",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_STATIC_MANIFEST": "0",
        "DATABASE_URL": database_url,
    }


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


SETUP = f"""
from django.contrib.auth import get_user_model
from django.utils import timezone
from liveupdates.models import Column, LivePost, PostStatus
from liveupdates.editorial import workflow
User = get_user_model()
editor, _ = User.objects.get_or_create(username="bench-editor", defaults={{"is_staff": True, "is_superuser": True}})
column, _ = Column.objects.get_or_create(slug="bench", defaults={{"name": "Bench"}})
post, _ = LivePost.objects.get_or_create(slug="{SLUG}", defaults={{"column": column, "headline": "Bench live post"}})
if post.status == PostStatus.DRAFT:
    workflow.publish_post(post=post, user=editor)
"""

PUBLISH = f"""
import os, time
from django.contrib.auth import get_user_model
from liveupdates.models import Entry, LivePost
from liveupdates.editorial import workflow
editor = get_user_model().objects.get(username="bench-editor")
post = LivePost.objects.get(slug="{SLUG}")
count, interval = int(os.environ["BENCH_ENTRIES"]), float(os.environ["BENCH_INTERVAL"])
time.sleep(1.0)
for n in range(count):
    started = time.time()
    entry = Entry.objects.create(post=post, headline=f"bench-{{n}}-{{started:.6f}}-end", body="<p>Bench entry.</p>", created_by=editor)
    workflow.publish(entry=entry, user=editor)
    time.sleep(interval)
"""


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, 200_000) if hard != resource.RLIM_INFINITY else 200_000
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, target))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class StreamReader(asyncio.Protocol):
    """One SSE reader, as cheap as a reader can be: a protocol callback, no coroutine per read.

    The bench shares two cores with the server; a heavy client would measure itself.
    """

    def __init__(self, on_ready, on_closed):
        self.received = {}  # entry sequence number -> receipt latency (s)
        self.buffer = b""
        self.started = False
        self.transport = None
        self.on_ready, self.on_closed = on_ready, on_closed

    def connection_made(self, transport):
        self.transport = transport
        transport.write(f"GET /live/{SLUG}/stream/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())

    def data_received(self, data):
        now = time.time()
        data = self.buffer + data
        if not self.started:
            if b"\r\n\r\n" not in data:
                self.buffer = data
                return
            if b" 200 " not in data.split(b"\r\n", 1)[0]:
                self.transport.close()
                return
            self.started = True
            self.on_ready()
        for match in MARK.finditer(data):
            self.received.setdefault(int(match.group(1)), now - float(match.group(2)))
        self.buffer = data[-64:]

    def connection_lost(self, exc):
        self.on_closed(self, exc)


async def run_readers(port, count, publish, listen_for, connect_within=300):
    loop = asyncio.get_running_loop()
    readers, errors, lost_early = [], [], []
    connected = 0

    def ready():
        nonlocal connected
        connected += 1

    def closed(reader, exc):
        if exc is not None or not reader.started:
            lost_early.append(reader)

    connect_deadline = time.time() + connect_within
    for _ in range(count):
        # Pace the handshakes (at most 500 waiting at once): the bench measures
        # delivery, not the kernel's accept queue.
        while len(readers) - connected - len(errors) - len(lost_early) >= 500 and time.time() < connect_deadline:
            await asyncio.sleep(0.005)
        try:
            _, protocol = await loop.create_connection(lambda: StreamReader(ready, closed), "127.0.0.1", port)
            readers.append(protocol)
        except OSError as error:
            errors.append(error)
    while connected + len(errors) + len(lost_early) < count and time.time() < connect_deadline:
        await asyncio.sleep(0.1)
    connect_done = time.time()
    publish()
    await asyncio.sleep(listen_for)
    for reader in readers:
        reader.transport.close()
    return readers, connected, errors + lost_early, connect_done


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between publications")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    raise_file_limit()
    # The client keeps 10,000 connections' worth of objects: a full collection
    # would pause it for a second and be blamed on the server.
    gc.disable()

    tmp = tempfile.mkdtemp(prefix="newsroom-bench-")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    fresh_database(database_url)
    env = django_env(database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", SETUP)

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "newsroom.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--backlog",
            "8192",
        ],
        cwd=ROOT,
        env=env,
        stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "w"),
    )
    try:
        wait_for(f"http://127.0.0.1:{args.port}/live/{SLUG}/")
        idle_rss = rss_kib(server.pid)
        publisher = {}

        def publish():
            publisher["memory"] = rss_kib(server.pid)
            publisher["process"] = subprocess.Popen(
                [sys.executable, "manage.py", "shell", "-c", PUBLISH],
                cwd=ROOT,
                env={**env, "BENCH_ENTRIES": str(args.entries), "BENCH_INTERVAL": str(args.interval)},
                stdout=subprocess.DEVNULL,
                stderr=open(os.environ.get("BENCH_PUBLISHER_LOG", os.devnull), "w"),
            )

        started = time.time()
        listen_for = 8 + args.entries * args.interval + 5  # the publisher's start-up, its entries, and a margin
        import uvloop

        readers, connected, errors, connect_done = uvloop.run(run_readers(args.port, args.readers, publish, listen_for))
        publisher["process"].wait(timeout=120)
        latencies = [lat for state in readers for lat in state.received.values()]
        expected = connected * args.entries
        lost = expected - len(latencies)
        backend = (
            "PostgreSQL (LISTEN/NOTIFY)"
            if database_url.startswith("postgres")
            else "SQLite (one change query per process, every 100 ms)"
        )
        print(f"backend: {backend}; server: uvicorn, 1 worker; machine: {os.cpu_count()} cores")
        print(f"connecting took {connect_done - started:.1f} s")
        print(
            f"readers connected: {connected}/{args.readers}   entries published: {args.entries} every {args.interval}s   connection errors: {len(errors)}"
        )
        if errors:
            print(f"first connection error: {errors[0]!r}")
        if latencies and os.environ.get("BENCH_VERBOSE"):
            for sequence in range(args.entries):
                per = [state.received[sequence] for state in readers if sequence in state.received]
                if per:
                    print(f"  entry {sequence}: min {1000 * min(per):.1f} ms  max {1000 * max(per):.1f} ms")
        if latencies:
            print(
                f"publish-to-receipt latency: p50 {1000 * statistics.median(latencies):.1f} ms   p95 {1000 * percentile(latencies, 0.95):.1f} ms   max {1000 * max(latencies):.1f} ms"
            )
        print(f"messages expected: {expected}   received: {len(latencies)}   lost: {lost}")
        connected_rss = publisher.get("memory", 0)
        per_stream = (connected_rss - idle_rss) / max(1, connected)
        print(
            f"server memory: idle {idle_rss / 1024:.0f} MiB, with {connected} readers {connected_rss / 1024:.0f} MiB ({per_stream:.0f} KiB per stream)"
        )
        return 0 if lost == 0 and connected == args.readers else 1
    finally:
        stop([server])


if __name__ == "__main__":
    sys.exit(main())
