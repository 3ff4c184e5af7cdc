#!/usr/bin/env python
"""Writers under load: journalists and editors post through the admin while readers follow the stream.

Production topology on loopback: granian (WSGI, 2 workers) serves the admin,
uvicorn (1 worker) serves the live stream. N readers hold the stream open;
W staff accounts (half journalists who submit, half editors who publish) log
in through the admin's login form and post entries from the live desk's
compose form, each at its own pace. Prints the admin save latency (p50/p95/max),
errors, and whether every published entry reached every reader.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_mixed REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/mixed_load.py --readers 1000 --writers 10 --seconds 30

Loopback only; bounded in time.
"""

import argparse
import gc
import http.cookiejar
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import live_latency as ll  # noqa: E402  (the stream readers and helpers)
from common import fresh_database, stop, wait_for, wait_for_port  # noqa: E402

ROOT = ll.ROOT
SLUG = ll.SLUG
PASSWORD = "bench horse battery staple"

ACCOUNTS = f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
User = get_user_model()
for n in range(int("WRITERS")):
    group = "Editors" if n % 2 else "Journalists"
    user, _ = User.objects.get_or_create(username=f"writer-{{n}}", defaults={{"is_staff": True}})
    user.set_password("{PASSWORD}")
    user.save()
    user.groups.add(Group.objects.get(name=group))
"""

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _KeepRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 is the answer


class Writer(threading.Thread):
    def __init__(self, number, base, post_id, until, pace, lockstep=False):
        super().__init__(daemon=True)
        self.number, self.base, self.post_id, self.until, self.pace = number, base, post_id, until, pace
        self.lockstep = lockstep
        self.publishes = number % 2 == 1
        self.saves, self.errors, self.published = [], [], []
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        # The save itself ends at the redirect; reloading the desk after it is timed apart.
        self.saver = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _KeepRedirect())
        self.reloads = []

    def _token(self, path):
        return CSRF.search(self.opener.open(self.base + path, timeout=30).read().decode()).group(1)

    def _form(self, path, data, token=None):
        token = token or self._token(path)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **data}, doseq=True).encode()
        return urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})

    def run(self):
        try:
            self.opener.open(
                self._form("/admin/login/", {"username": f"writer-{self.number}", "password": PASSWORD, "next": "/admin/"}),
                timeout=30,
            ).read()
        except Exception as error:  # noqa: BLE001 - reported, not raised: the bench goes on
            self.errors.append(f"login: {error!r}")
            return
        desk = f"/admin/liveupdates/livepost/{self.post_id}/desk/"
        n = 0
        page = None
        if not self.lockstep:
            # Ten people do not press Save on the same beat: each starts at their own moment
            # within the first interval (seeded, so every run is the same).
            time.sleep(random.Random(self.number).uniform(0, self.pace))
        while time.time() < self.until:
            try:
                # The journalist writes on the desk they have open: the one the last save
                # returned to (the first time, they open it).
                token = CSRF.search(page).group(1) if page else self._token(desk)
                page = None
                headline = f"bench-{self.number * 10_000 + n}-{time.time():.6f}-end"
                request = self._form(
                    desk,
                    {
                        "headline": headline,
                        "body": "<p>Reported from the desk under load.</p>",
                        "tags": "",
                        "intent": "publish" if self.publishes else "submit",
                    },
                    token,
                )
                started = time.perf_counter()
                try:
                    with self.saver.open(request, timeout=30) as response:
                        status, page = response.status, response.read().decode()
                except urllib.error.HTTPError as answer:
                    status, page = answer.code, ""
                self.saves.append(time.perf_counter() - started)
                if status != 302:
                    self.errors.append(f"save answered {status}")
                    continue
                reload_started = time.perf_counter()
                page = self.opener.open(self.base + desk, timeout=30).read().decode()
                self.reloads.append(time.perf_counter() - reload_started)
                if "messagelist" not in page or "error" in page.split("messagelist", 1)[1][:200]:
                    self.errors.append("the desk did not confirm the save")
                elif self.publishes:
                    self.published.append(self.number * 10_000 + n)
            except Exception as error:  # noqa: BLE001
                self.errors.append(repr(error))
            n += 1
            time.sleep(self.pace)


def run_writers(base, post_id, count, seconds, pace, lockstep, results):
    """In its own process: `count` writers for `seconds`; puts what they measured on `results`."""
    until = time.time() + seconds
    writers = [Writer(n, base, post_id, until, pace, lockstep) for n in range(count)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=seconds + 60)
    results.put(
        {
            "saves": [s for w in writers for s in w.saves],
            "reloads": [r for w in writers for r in w.reloads],
            "errors": [e for w in writers for e in w.errors],
            "published": [n for w in writers for n in w.published],
            "editors": sum(w.publishes for w in writers),
        }
    )


def main(ports=(8765, 8766), writers_target=None):
    """`ports` and `writers_target` (a run_writers of another kind of writer) let bench/desk.py reuse this run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--pace", type=float, default=1.0, help="seconds each writer waits between entries")
    parser.add_argument("--lockstep", action="store_true", help="all writers save on the same beat (the worst case)")
    parser.add_argument(
        "--stream",
        choices=["uvicorn", "server"],
        default="uvicorn",
        help="who holds the readers: uvicorn (make run's path) or manage.py stream_server (production's built-in path)",
    )
    args = parser.parse_args()
    ll.raise_file_limit()
    gc.disable()

    tmp = tempfile.mkdtemp(prefix="newsroom-mixed-")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/mixed.sqlite3"
    fresh_database(database_url)
    env = ll.django_env(database_url)
    ll.manage(env, "migrate", "--noinput")
    ll.manage(env, "shell", "-c", ll.SETUP)
    ll.manage(env, "shell", "-c", ACCOUNTS.replace("WRITERS", str(args.writers)))
    post_id = int(
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                f"from liveupdates.models import LivePost; print(LivePost.objects.get(slug='{SLUG}').pk)",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
    )
    stream_port, admin_port = ports
    stream_command = (
        [sys.executable, "manage.py", "stream_server", "--processes", "1", "--host", "127.0.0.1", "--port", str(stream_port)]
        if args.stream == "server"
        else None
    )
    servers = [
        subprocess.Popen(
            stream_command
            or [
                sys.executable,
                "-m",
                "uvicorn",
                "newsroom.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(stream_port),
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
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(admin_port),
                "--workers",
                "2",
                "--blocking-threads",
                "8",
                "newsroom.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        # The stream server answers only streams (which never end), so its port is waited for by connecting.
        for port in (admin_port,) if args.stream == "server" else (stream_port, admin_port):
            wait_for(f"http://127.0.0.1:{port}/live/{SLUG}/")
        if args.stream == "server":
            wait_for_port(stream_port)
        # The writers run in a process of their own: threads beside the 1,000 readers'
        # event loop would wait for its interpreter lock, and the bench would time itself.
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        writer_process = context.Process(
            target=writers_target or run_writers,
            args=(f"http://127.0.0.1:{admin_port}", post_id, args.writers, args.seconds, args.pace, args.lockstep, results),
        )

        import uvloop

        readers, connected, errors, _ = uvloop.run(
            ll.run_readers(stream_port, args.readers, writer_process.start, args.seconds + 10)
        )
        outcome = results.get(timeout=120)
        writer_process.join(timeout=60)
        saves, write_errors, reloads = outcome["saves"], outcome["errors"], outcome["reloads"]
        published = set(outcome["published"])
        missing = sum(len(published - set(reader.received)) for reader in readers if reader.started)
        latencies = [lat for reader in readers for n, lat in reader.received.items() if n in published]
        print(
            f"database: {'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'}; cache: {'Redis' if os.environ.get('REDIS_URL') else 'local memory'}; "
            f"{os.cpu_count()} cores; admin: granian WSGI 2 workers; stream: "
            + ("manage.py stream_server, 1 process" if args.stream == "server" else "uvicorn 1 worker")
        )
        print(
            f"readers connected: {connected}/{args.readers} (connection errors: {len(errors)}); writers: {args.writers} "
            f"({outcome['editors']} editors publishing, the rest journalists submitting), {args.seconds} s, one entry per writer every {args.pace} s"
            + (", in lockstep" if args.lockstep else ", each from its own moment")
        )
        if saves:
            print(
                f"admin saves (POST to its redirect): {len(saves)}   p50 {1000 * statistics.median(saves):.0f} ms   p95 {1000 * ll.percentile(saves, 0.95):.0f} ms   max {1000 * max(saves):.0f} ms"
            )
        if reloads:
            print(
                f"desk reload after a save: p50 {1000 * statistics.median(reloads):.0f} ms   p95 {1000 * ll.percentile(reloads, 0.95):.0f} ms"
            )
        if outcome.get("polls"):
            polls = outcome["polls"]
            print(
                f"desk feed polls: {len(polls)}   p50 {1000 * statistics.median(polls):.0f} ms   p95 {1000 * ll.percentile(polls, 0.95):.0f} ms"
            )
        print(f"write errors: {len(write_errors)}" + (f"  first: {write_errors[0]}" if write_errors else ""))
        if latencies:
            print(
                f"publish-to-reader latency: p50 {1000 * statistics.median(latencies):.0f} ms   p95 {1000 * ll.percentile(latencies, 0.95):.0f} ms"
            )
        print(f"entries published: {len(published)}   deliveries expected: {len(published) * connected}   missing: {missing}")
        return 0 if not write_errors and not missing else 1
    finally:
        stop(servers)


if __name__ == "__main__":
    sys.exit(main())
