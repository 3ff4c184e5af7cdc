"""The poll endpoint for up-to-date readers against nginx's static-file rate, in one run.

    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/poll.py [--seconds 10]

Every reader who is up to date asks for the same URL, `updates.json?after=<latest>`.
Rows (wrk -t2 -c64, each --seconds long, one after the other):
  (a) nginx serving the same answer's bytes as a static file (the ceiling);
  (b) granian (2 workers, production settings, full middleware) answering it;
  (c) the same for a reader one event behind (the answer carries that event);
  (d) the floor: a Django view answering the same bytes from memory behind the full
      middleware (bench/floor_app.py), what Django costs before a view does anything.
No micro-cache anywhere: the goal is (b) >= 10% of (a).
"""

import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, fresh_database, start_group, stop, wait_for  # noqa: E402
from pages import SLUG, env_for, load, manage, start_nginx, stop_nginx, wrk  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="newsroom-poll-"))
    tmp.chmod(0o755)
    servers = []

    def clean_up():
        stop_nginx(tmp)
        stop(servers)
        shutil.rmtree(tmp, ignore_errors=True)

    atexit.register(clean_up)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    fresh_database(database_url)
    env = env_for(database_url, NEWSROOM_ANNOUNCE_IN_BACKGROUND="0")
    manage(env, "migrate", "--noinput")
    manage({**env, "DJANGO_DEBUG": "1"}, "load_demo")
    port, static_port, floor_port = free_port(), free_port(), free_port()
    floor_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "floor_app",
        "PYTHONPATH": str(ROOT / "bench"),
        "FLOOR_PAGE": str(tmp / "www" / "updates.json"),
    }
    for server_port, server_env in ((port, env), (floor_port, floor_env)):
        servers.append(
            start_group(
                [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(server_port)]
                + ["--workers", "2", "--blocking-threads", "8", "--no-ws", "newsroom.wsgi:application"],
                env=server_env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    base = f"http://127.0.0.1:{port}/live/{SLUG}/updates.json"
    import json

    latest = json.loads(wait_for(f"{base}?after=0"))["last"]
    while True:  # the whole log, 100 events a page
        more = json.loads(wait_for(f"{base}?after={latest}"))
        if more["last"] == latest:
            break
        latest = more["last"]
    up_to_date = f"{base}?after={latest}"
    one_behind = f"{base}?after={latest - 1}"
    with urllib.request.urlopen(up_to_date) as response:
        body = response.read()
    (tmp / "www").mkdir()
    (tmp / "www" / "updates.json").write_bytes(body)
    conf = (
        f"pid {tmp}/nginx.pid; error_log {tmp}/error.log warn; worker_processes auto;\n"
        "events { worker_connections 4096; }\n"
        f"http {{ access_log off; client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;"
        f" fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;\n"
        f"  server {{ listen 127.0.0.1:{static_port}; default_type application/json; location / {{ root {tmp}/www; }} }} }}\n"
    )
    start_nginx(tmp, conf)
    static = f"http://127.0.0.1:{static_port}/updates.json"
    wait_for(static)
    print(
        f"updates.json?after={latest} ({len(body)} bytes); database: "
        f"{'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'}; cache: "
        f"{'Redis' if os.environ.get('REDIS_URL') else 'local memory'}; {os.cpu_count()} cores; wrk -t2 -c64 -d{args.seconds}s; "
        f"load average {load()}",
        flush=True,
    )
    rows = [
        ("(a) nginx, the same bytes as a static file", static),
        ("(b) granian, up to date (after=latest)", up_to_date),
        ("(c) granian, one event behind", one_behind),
        ("(d) floor: a Django view, full middleware, same bytes", f"http://127.0.0.1:{floor_port}/floor/no-query/"),
    ]
    rates = {}
    for label, url in rows:
        rate, errors, sockets, p99 = wrk(url, args.seconds)
        rates[label] = rate
        print(
            f"  {label:<46} {rate:>9.0f} req/s  p99 {p99:6.1f} ms  non-2xx {errors}  socket errors {dict(sockets) or 0}",
            flush=True,
        )
    ratio = rates[rows[1][0]] / rates[rows[0][0]]
    print(f"  up to date / static: {ratio:.1%} (goal >= 10%)")


if __name__ == "__main__":
    main()
