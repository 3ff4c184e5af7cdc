#!/usr/bin/env python
"""Many readers on one machine: the built-in hub, our nchan path, and bare nchan, in one run.

    .venv/bin/python bench/stream_scale.py --readers 1000 --entries 10 --interval 2
    .venv/bin/python bench/stream_scale.py --readers 10000 --engines server1,server2,nchan,bare-nchan

Engines: `builtin` is the hub under uvicorn (ASGI, one process, as `make run`);
`serverN` is `manage.py stream_server --processes N` (the built-in hub writing
to sockets directly, N processes on one port); `nchan` our relay into
nginx+nchan; `bare-nchan` nchan fed by the bench itself.

Each engine gets a fresh server and the same readers (bench/live_latency.py's
cheap SSE client on loopback); entries are published through the editorial
workflow from a separate process started as a web worker is (bare nchan: the
bench POSTs a real event's bytes to nchan's publisher itself, no Django). Per
engine it prints readers connected, connect time, latency p50/p95/max on two
clocks (from the workflow call, and from the live event's commit: bare nchan's
POST), deliveries late (after --late s) and lost (not received --listen-after s
after the last publication), and the server's memory (uvicorn's RSS; nginx's
workers' RSS for nchan). --trace adds where each event's time went: the
entry's commit, the live event's commit, the relay woken, its POST sent and
answered (the relay's DEBUG timing line), the first, median, p95 and last
reader. Loopback only, bounded in time; needs nginx with libnginx-mod-nchan
for the nchan rows.
"""

import argparse
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, fresh_database, start_group, stop, wait_for, wait_for_port  # noqa: E402
from live_latency import (  # noqa: E402
    SETUP,
    SLUG,
    StreamReader,
    django_env,
    manage,
    percentile,
    raise_file_limit,
    rss_kib,
    run_readers,
)

NCHAN_REWRITES = [
    ("server web:8000;", "server 127.0.0.1:{pages};"),
    ("listen 80;", "listen 127.0.0.1:{readers} backlog=8192;"),
    ("listen 8080;", "listen 127.0.0.1:{publisher};"),
    ("/var/cache/nginx/newsroom", "{tmp}/cache"),
    ("alias /app/media/$media_file;", "alias {tmp}/media/$media_file;"),
    (
        "worker_processes auto;",
        "worker_processes {nginx_workers};\nworker_rlimit_nofile 200000;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;",
    ),
    ("worker_connections 20000;", "worker_connections 120000;"),
    (
        "http {",
        "http {{\n    access_log off; client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;"
        " fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;",
    ),
]


# The workflow's publication, as live_latency's, with the moments the bench needs marked (one JSON line per
# entry in BENCH_MARKS): the call; the entry's commit (workflow's on_commit calls announcer.soon); the live
# event's commit (announcer.soon returns once the render and the append have committed: NOTIFY goes then).
PUBLISH = f"""
import newsroom.wsgi  # noqa: F401 - a web worker's start-up (warm_up, gc.freeze): production publishes from one
import json, os, time
from django.contrib.auth import get_user_model
from liveupdates.models import Entry, LivePost
from liveupdates.delivery import announcer
from liveupdates.editorial import workflow
editor = get_user_model().objects.get(username="bench-editor")
post = LivePost.objects.get(slug="{SLUG}")
count, interval = int(os.environ["BENCH_ENTRIES"]), float(os.environ["BENCH_INTERVAL"])
marks, real_soon = {{}}, announcer.soon
def soon(post_id):
    marks["entry_committed"] = time.time()
    real_soon(post_id)
    marks["event_committed"] = time.time()
announcer.soon = soon
out = open(os.environ["BENCH_MARKS"], "a")
time.sleep(1.0)
for n in range(count):
    started = time.time()
    entry = Entry.objects.create(post=post, headline=f"bench-{{n}}-{{started:.6f}}-end", body="<p>Bench entry.</p>", created_by=editor)
    workflow.publish(entry=entry, user=editor)
    marks.update(n=n, called=started, returned=time.time())
    out.write(json.dumps(marks) + "\\n")
    out.flush()
    time.sleep(max(0.0, started + interval - time.time()))
"""

TIMING = re.compile(r"event (\d+) add woke=([\d.]+) sent=([\d.]+) answered=([\d.]+)")

SAMPLE_PAYLOAD = [""]  # set in main(): a real event's bytes for the bare nchan rows
NGINX_WORKERS = [1]  # --nginx-workers: a process holds at most as many connections as its file limit


def start_nchan(tmp, ports):
    text = (ROOT / "deploy" / "nginx-nchan.conf").read_text()
    for old, new in NCHAN_REWRITES:
        if text.count(old) != 1:
            raise SystemExit(f"deploy/nginx-nchan.conf: expected {old!r} exactly once")
        text = text.replace(old, new.format(tmp=tmp, nginx_workers=NGINX_WORKERS[0], **ports))
    (tmp / "nginx.conf").write_text(text)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run([nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")], check=True)
    return [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")]


def descendants(pid):
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def nginx_rss(tmp):
    master = int((tmp / "nginx.pid").read_text())
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sum(rss_kib(int(pid)) for pid in children)


SAMPLE_MARK = "bench-999-0.000000-end"
# One entry published through the workflow before the runs: its live event's payload, as the relay would send it,
# is what bare nchan publishes (with each publication's mark in place of this one), so both rows carry the same bytes.
SAMPLE = f"""
import json
from django.contrib.auth import get_user_model
from liveupdates.models import Entry, LiveEvent, LivePost
from liveupdates.editorial import workflow
editor = get_user_model().objects.get(username="bench-editor")
post = LivePost.objects.get(slug="{SLUG}")
entry = Entry.objects.create(post=post, headline="{SAMPLE_MARK}", body="<p>Bench entry.</p>", created_by=editor)
workflow.publish(entry=entry, user=editor)
event = LiveEvent.objects.filter(entry=entry, kind="add").latest("pk")
print(json.dumps({{"id": event.pk, **event.payload}}, separators=(",", ":")))
"""


def bare_publisher(url, count, interval, marks, sample):
    """Publish what the relay would, straight to nchan (no Django, no database); one connection per POST."""
    time.sleep(1.0)
    for n in range(count):
        started = time.time()
        body = sample.replace(SAMPLE_MARK, f"bench-{n}-{started:.6f}-end").encode()
        urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=60).read()
        marks.append({"n": n, "called": started, "event_committed": started, "sent": started, "answered": time.time()})
        time.sleep(max(0.0, started + interval - time.time()))


def run_engine(engine, args, env, tmp):
    import threading

    import uvloop

    servers, memory = [], {}
    port = free_port()
    engine_tmp = Path(tempfile.mkdtemp(prefix=f"newsroom-{engine}-"))
    engine_tmp.chmod(0o755)
    nginx = None
    try:
        if engine == "builtin":
            servers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", "newsroom.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
                    + [
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
                )
            )
            wait_for(f"http://127.0.0.1:{port}/live/{SLUG}/")

            def rss():
                return rss_kib(servers[0].pid)
        elif engine.startswith("server"):
            processes = int(engine.removeprefix("server") or 1)
            servers.append(
                start_group(
                    [sys.executable, "manage.py", "stream_server", "--processes", str(processes), "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                )
            )
            wait_for_port(port)
            time.sleep(2.0)  # every worker's hub started

            def rss():
                pids = [servers[0].pid] + descendants(servers[0].pid)
                return sum(rss_kib(pid) for pid in pids)
        else:
            ports = {"pages": free_port(), "readers": port, "publisher": free_port()}
            nginx = start_nchan(engine_tmp, ports)
            publish_url = f"http://127.0.0.1:{ports['publisher']}/pub"
            if engine == "nchan":
                servers.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", "stream_relay"],
                        cwd=ROOT,
                        # DEBUG: the relay's timing line per event (woke, sent, answered)
                        env={**env, "NEWSROOM_NCHAN_PUBLISH_URL": publish_url, "NEWSROOM_LIVE_LOG_LEVEL": "DEBUG"},
                        stderr=open(engine_tmp / "relay.log", "w"),
                    )
                )
            time.sleep(1.0)

            def rss():
                return nginx_rss(engine_tmp)

        memory["idle"] = rss()
        runs, bare_marks = {}, []
        marks_file = engine_tmp / "marks.jsonl"

        def publish():
            memory["connected"] = rss()
            if engine == "bare-nchan":
                thread = threading.Thread(
                    target=bare_publisher,
                    args=(f"{publish_url}/live-{SLUG}", args.entries, args.interval, bare_marks, SAMPLE_PAYLOAD[0]),
                    daemon=True,
                )
                thread.start()
                runs["thread"] = thread
            else:
                runs["process"] = subprocess.Popen(
                    [sys.executable, "manage.py", "shell", "-c", PUBLISH],
                    cwd=ROOT,
                    env={
                        **env,
                        "BENCH_ENTRIES": str(args.entries),
                        "BENCH_INTERVAL": str(args.interval),
                        "BENCH_MARKS": str(marks_file),
                    },
                    stdout=subprocess.DEVNULL,
                )

        load = os.getloadavg()[0]
        started = time.time()
        # The publisher's start-up, its entries, then --listen-after seconds after the last one: what has not
        # come by then is lost; what came later than --late seconds after its call is late.
        listen_for = 8 + args.entries * args.interval + args.listen_after
        if args.clients == 1:
            readers, connected, errors, connect_done = uvloop.run(run_readers(port, args.readers, publish, listen_for))
            received = [(n, lat) for state in readers for n, lat in state.received.items()]
            errors = len(errors)
        else:
            received, connected, errors, connect_done = run_split(port, args.readers, publish, listen_for, args.clients)
        if "process" in runs:
            runs["process"].wait(timeout=120)
        if "thread" in runs:
            runs["thread"].join(timeout=120)
        latencies = [lat for _, lat in received]
        late = sum(1 for lat in latencies if lat > args.late)
        lost = connected * args.entries - len(latencies)
        per_reader = (memory["connected"] - memory["idle"]) / max(1, connected)
        if bare_marks:
            marks = bare_marks
        else:
            marks = [json.loads(line) for line in marks_file.read_text().splitlines()] if marks_file.exists() else []
        if engine == "nchan":
            relay = [m.groups() for m in TIMING.finditer((engine_tmp / "relay.log").read_text())]
            for mark, (_, woke, sent, answered) in zip(marks, relay):  # the bench's events, in order
                mark.update(sent=float(sent), answered=float(answered))
                if float(woke):  # 0: published in a round no notification started (read with the one before)
                    mark["woke"] = float(woke)
        if latencies:
            # The second clock: from the live event's commit (bare nchan: from its POST), per delivery.
            since_call = {m["n"]: m["event_committed"] - m["called"] for m in marks}
            from_commit = [lat - since_call[n] for n, lat in received if n in since_call]
            print(
                f"  {engine:<10} readers {connected:>6}/{args.readers}  connect {connect_done - started:5.1f} s  "
                f"from the call: p50 {statistics_ms(latencies, 0.5):6.0f} ms  p95 {statistics_ms(latencies, 0.95):6.0f} ms  "
                f"max {max(latencies) * 1000:6.0f} ms  from the commit: p50 {statistics_ms(from_commit, 0.5):6.0f} ms  "
                f"p95 {statistics_ms(from_commit, 0.95):6.0f} ms  late (>{args.late:g} s) {late}  lost {lost}  "
                f"memory {memory['connected'] / 1024:.0f} MiB ({per_reader:.1f} KiB/reader)  load before {load:.1f}",
                flush=True,
            )
            if args.trace:
                print_trace(engine, marks, received)
        else:
            print(f"  {engine:<10} readers {connected}/{args.readers}: nothing received ({errors} errors)", flush=True)
    finally:
        stop(servers)
        if nginx:
            subprocess.run([*nginx, "-s", "stop"], check=False, capture_output=True)
            time.sleep(0.5)
        shutil.rmtree(engine_tmp, ignore_errors=True)


CONNECT_WITHIN = 600  # seconds a reader process may take to connect its share (100,000 readers on a loaded machine)


def _client(port, count, source, connected_queue, go, listen_for, results):
    """One reader process of several: `count` readers from the loopback address `source` (its own ephemeral ports)."""
    import asyncio

    import uvloop

    gc.disable()

    async def main():
        loop = asyncio.get_running_loop()
        readers, connected, failed = [], [0], [0]

        def ready():
            connected[0] += 1

        def closed(reader, exc):
            if exc is not None or not reader.started:
                failed[0] += 1

        deadline = time.time() + CONNECT_WITHIN
        for _ in range(count):
            while len(readers) - connected[0] - failed[0] >= 500 and time.time() < deadline:
                await asyncio.sleep(0.005)
            try:
                _, reader = await loop.create_connection(
                    lambda: StreamReader(ready, closed), "127.0.0.1", port, local_addr=(source, 0)
                )
                readers.append(reader)
            except OSError:
                failed[0] += 1
        while connected[0] + failed[0] < count and time.time() < deadline:
            await asyncio.sleep(0.1)
        connected_queue.put((connected[0], failed[0]))
        while not go.is_set():
            await asyncio.sleep(0.02)
        await asyncio.sleep(listen_for)
        for reader in readers:
            reader.transport.close()
        return [(n, latency) for reader in readers for n, latency in reader.received.items()]

    results.put(uvloop.run(main()))


def run_split(port, count, publish, listen_for, clients):
    """The readers spread over `clients` processes (each under the file limit), each from its own 127.0.0.x."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    connected_queue, results, go = context.Queue(), context.Queue(), context.Event()
    shares = [count // clients + (1 if n < count % clients else 0) for n in range(clients)]
    processes = [
        context.Process(target=_client, args=(port, share, f"127.0.0.{2 + n}", connected_queue, go, listen_for, results))
        for n, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    states = [connected_queue.get(timeout=CONNECT_WITHIN + 100) for _ in processes]
    connect_done = time.time()
    publish()
    go.set()
    latencies = []
    for _ in processes:
        latencies += results.get(timeout=listen_for + 120)
    for process in processes:
        process.join(timeout=30)
    return latencies, sum(c for c, _ in states), sum(f for _, f in states), connect_done


STEPS = [  # (label, from, to): the moments of one event, each a time.time() (bare nchan has only some)
    ("call -> entry commit", "called", "entry_committed"),
    ("entry commit -> event commit (render, append)", "entry_committed", "event_committed"),
    ("event commit -> relay woke", "event_committed", "woke"),
    ("relay woke -> POST sent (read the log)", "woke", "sent"),
    ("POST sent -> nchan answered", "sent", "answered"),
    ("POST sent -> first reader", "sent", "first"),
    ("POST sent -> median reader", "sent", "median"),
    ("POST sent -> p95 reader", "sent", "p95"),
    ("POST sent -> last reader", "sent", "last"),
    ("event commit -> p95 reader", "event_committed", "p95"),
    ("call -> p95 reader", "called", "p95"),
]


def print_trace(engine, marks, received):
    """Where each event's time went: per step, the median and the largest over the run's events (ms)."""
    receipts = {}
    for n, latency in received:
        receipts.setdefault(n, []).append(latency)
    for mark in marks:
        got = sorted(receipts.get(mark["n"], ()))
        if got:
            at = lambda fraction: mark["called"] + got[min(len(got) - 1, int(round(fraction * (len(got) - 1))))]  # noqa: E731
            mark.update(first=at(0), median=at(0.5), p95=at(0.95), last=at(1))
    timed = [m for m in marks if "p95" in m]
    worst = max(timed, key=lambda m: m["p95"] - m["called"]) if timed else {}
    for label, start, end in STEPS:
        spans = [(m[end] - m[start]) * 1000 for m in marks if start in m and end in m]
        if spans:
            in_worst = f"{(worst[end] - worst[start]) * 1000:7.1f} ms" if start in worst and end in worst else "      -"
            print(
                f"    {engine:<10} {label:<48} median {statistics.median(spans):7.1f} ms  max {max(spans):7.1f} ms  "
                f"in the slowest event (#{worst.get('n')}) {in_worst}",
                flush=True,
            )


def statistics_ms(values, fraction):
    return percentile(values, fraction) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--engines", default="builtin,nchan,bare-nchan")
    parser.add_argument("--clients", type=int, default=1, help="reader processes (each holds at most ~19,000: the file limit)")
    parser.add_argument("--nginx-workers", type=int, default=1, help="nginx worker processes for the nchan rows")
    parser.add_argument("--listen-after", type=float, default=5.0, help="seconds the readers listen after the last publication")
    parser.add_argument("--late", type=float, default=5.0, help="a delivery later than this (s) is counted late, not lost")
    parser.add_argument("--trace", action="store_true", help="print where each event's time went, step by step")
    args = parser.parse_args()
    NGINX_WORKERS[0] = args.nginx_workers
    raise_file_limit()
    gc.disable()
    tmp = Path(tempfile.mkdtemp(prefix="newsroom-scale-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    fresh_database(database_url)
    env = {**django_env(database_url), "NEWSROOM_ANNOUNCE_IN_BACKGROUND": "0"}
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", SETUP)
    SAMPLE_PAYLOAD[0] = (
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SAMPLE], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    print(
        f"{args.readers} readers, {args.entries} entries every {args.interval} s; database: "
        f"{'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'}; {os.cpu_count()} cores; "
        f"an event is {len(SAMPLE_PAYLOAD[0].encode())} bytes; "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    for engine in args.engines.split(","):
        run_engine(engine, args, env, tmp)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
