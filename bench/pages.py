#!/usr/bin/env python
"""Live-page throughput against the machine's ceiling: nginx serving the same bytes as a static file.

Builds a benchmark database (the demo plus generated entries, so the live
post has --entries entries), then, one after the other on loopback with
`wrk -t2 -c64 -d<seconds>s`, measures:

  * nginx serving the page's HTML as a static file (the ceiling);
  * Django under granian (WSGI), page cache hit answered from process memory (liveupdates/memo.py);
  * Django under granian, page cache hit from the shared cache only (memo off);
  * Django under uvicorn (ASGI), page cache hit;
  * Django under granian, cache miss on every request (NEWSROOM_PAGE_CACHE=0,
    entry fragments still cached: what a request right after a publish costs);
  * the floor under any miss: the same bytes from a Django view behind the full
    middleware stack, with no query, then after the one query a fresh page needs
    (bench/floor_app.py);
  * Django under granian while an editor publishes an entry every second (each
    publish changes the page: what readers get during breaking news);
  * the production stack: nginx proxy_cache (1 s, request collapsing) in front of granian.

and prints requests/s with the ratio to the ceiling.

    .venv/bin/python bench/pages.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_bench REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/pages.py

Needs `wrk` and `nginx` (apt-get install wrk nginx). Loopback only; every run is bounded.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database, stop, wait_for  # noqa: E402
SLUG = "russian-jets-strike-daraa-again"
PATH = f"/live/{SLUG}/"


def env_for(database_url, **extra):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_STATIC_MANIFEST": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
    }
    env.update(extra)
    return env


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, int(errors.group(1)) if errors else 0


NGINX = """
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    proxy_cache_path {tmp}/cache levels=1:2 keys_zone=pages:10m max_size=100m inactive=1m use_temp_path=off;
    upstream pages {{ server 127.0.0.1:{app}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{static};
        location / {{ root {tmp}/www; default_type text/html; }}
    }}
    server {{
        listen 127.0.0.1:{proxy};
        location / {{
            proxy_pass http://pages;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1;
            proxy_cache pages;
            proxy_cache_valid 200 1s;
            proxy_cache_lock on;
            proxy_cache_use_stale updating;
            proxy_cache_background_update on;
        }}
    }}
}}
"""


PUBLISHER = """
import time
from django.contrib.auth import get_user_model
from liveupdates.delivery import live
from liveupdates.editorial import workflow
from liveupdates.models import Entry, LivePost
editor = get_user_model().objects.filter(groups__name="Editors", is_staff=True).first()
post = LivePost.objects.get(slug="{slug}")
for n in range({count}):
    started = time.monotonic()
    entry = Entry.objects.create(post=post, headline=f"Published during the bench {{n}}", body="<p>Breaking.</p>", created_by=editor)
    workflow.publish(entry=entry, user=editor)
    live.announce_due(post=post)
    print(entry.headline, flush=True)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
"""


def start(command, env):
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=50, help="entries in the live post")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is needed: apt-get install {tool}")

    tmp = Path(tempfile.mkdtemp(prefix="newsroom-pages-"))
    tmp.chmod(0o755)  # nginx workers read the static copy as an unprivileged user
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    fresh_database(database_url)
    env = env_for(database_url)
    manage(env, "migrate", "--noinput")
    manage({**env, "DJANGO_DEBUG": "1"}, "load_demo")
    manage(env, "generate_entries", "--post", SLUG, "--count", str(max(0, args.entries - 10)))

    ports = {"granian": 8811, "uvicorn": 8812, "granian_miss": 8813, "static": 8814, "proxy": 8815, "granian_shared": 8816,
             "floor": 8817}
    floor_env = {**env, "DJANGO_SETTINGS_MODULE": "floor_app", "PYTHONPATH": str(ROOT / "bench"), "FLOOR_PAGE": str(tmp / "page.html")}
    servers = [
        start([sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(ports["granian"]),
               "--workers", "2", "--blocking-threads", "8", "newsroom.wsgi:application"], env),
        start([sys.executable, "-m", "uvicorn", "newsroom.asgi:application", "--host", "127.0.0.1", "--port", str(ports["uvicorn"]),
               "--workers", "2", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"], env),
        start([sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(ports["granian_miss"]),
               "--workers", "2", "--blocking-threads", "8", "newsroom.wsgi:application"], {**env, "NEWSROOM_PAGE_CACHE": "0"}),
        start([sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(ports["granian_shared"]),
               "--workers", "2", "--blocking-threads", "8", "newsroom.wsgi:application"], {**env, "NEWSROOM_PAGE_MEMO_SECONDS": "0"}),
        start([sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(ports["floor"]),
               "--workers", "2", "--blocking-threads", "8", "newsroom.wsgi:application"], floor_env),
    ]
    try:
        html = wait_for(f"http://127.0.0.1:{ports['granian']}{PATH}")
        for name in ("uvicorn", "granian_miss", "granian_shared"):
            wait_for(f"http://127.0.0.1:{ports[name]}{PATH}")
        (tmp / "page.html").write_bytes(html)
        post_id = int(subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", f"from liveupdates.models import LivePost; print(LivePost.objects.get(slug='{SLUG}').pk)"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split()[-1])
        wait_for(f"http://127.0.0.1:{ports['floor']}/floor/no-query/")
        (tmp / "www" / PATH.strip("/")).mkdir(parents=True)
        (tmp / "www" / PATH.strip("/") / "index.html").write_bytes(html)
        (tmp / "nginx.conf").write_text(NGINX.format(tmp=tmp, app=ports["granian"], static=ports["static"], proxy=ports["proxy"]))
        subprocess.run(["nginx", "-c", str(tmp / "nginx.conf")], check=True)
        servers_nginx = True
        wait_for(f"http://127.0.0.1:{ports['static']}{PATH}")
        entries = html.count(b'<article id="entry-')
        print(f"page: {PATH} ({len(html) / 1024:.0f} KiB, {entries} entries shown, {args.entries} in the post); "
              f"database: {'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'}; "
              f"cache: {'Redis' if os.environ.get('REDIS_URL') else 'local memory'}; {os.cpu_count()} cores; "
              f"wrk -t2 -c64 -d{args.seconds}s")
        page = f"http://127.0.0.1:{{port}}{PATH}"
        runs = [
            ("nginx, static file (ceiling)", page.format(port=ports["static"])),
            ("granian WSGI, 2 workers, hit from process memory", page.format(port=ports["granian"])),
            ("granian WSGI, 2 workers, hit from the shared cache", page.format(port=ports["granian_shared"])),
            ("uvicorn ASGI, 2 workers, hit from process memory", page.format(port=ports["uvicorn"])),
            ("granian WSGI, 2 workers, cache miss (fragments, frame kept)", page.format(port=ports["granian_miss"])),
            ("floor: Django view, full middleware, no query", f"http://127.0.0.1:{ports['floor']}/floor/no-query/"),
            ("floor: Django view, full middleware, one query", f"http://127.0.0.1:{ports['floor']}/floor/one-query/?post={post_id}"),
            ("granian WSGI, 2 workers, an entry published every second", page.format(port=ports["granian"])),
            ("nginx micro-cache (1 s) in front of granian", page.format(port=ports["proxy"])),
        ]
        ceiling = None
        for label, url in runs:
            publisher = None
            if "published every second" in label:
                publisher = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", PUBLISHER.format(slug=SLUG, count=args.seconds)],
                                             cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
            rate, errors = wrk(url, args.seconds)
            ceiling = ceiling or rate
            note = f"  ({errors} errors)" if errors else ""
            if publisher is not None:
                published = publisher.communicate(timeout=60)[0].split("\n")
                published = [line for line in published if line.startswith("Published during")]
                shown = urllib.request.urlopen(url, timeout=10).read().decode()
                # Fresh after publish: the page a reader gets now shows the last entry published.
                note += f"  ({len(published)} published; the newest {'is' if published and published[-1] in shown else 'is NOT'} on the page)"
            print(f"  {label:<58} {rate:>9.0f} req/s  {100 * rate / ceiling:5.1f}%" + note)
    finally:
        if "servers_nginx" in locals():
            subprocess.run(["nginx", "-c", str(tmp / "nginx.conf"), "-s", "quit"], check=False)
        stop(servers)


if __name__ == "__main__":
    main()
