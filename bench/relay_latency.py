"""Commit-to-publish latency of the nchan relay: woken by PostgreSQL NOTIFY, and by its poll alone.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_bench_relay .venv/bin/python bench/relay_latency.py [--entries 60]

The database named by DATABASE_URL is dropped and made again (PostgreSQL only:
LISTEN/NOTIFY). A fake nchan publisher in this process records when each
event arrives; the relay (`manage.py stream_relay`'s Relay) runs in a child
process, once with LISTEN (the shipped relay) and once with listen=False (the
relay before: a read of the log every 0.1 s). This process publishes
`--entries` entries through liveupdates.workflow, one at a time at random
intervals (0 to 0.3 s), and times each from the moment its publication and
announcement have committed to the moment its "add" event reaches the publisher.
"""

import argparse
import atexit
import http.server
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from common import fresh_database, stop  # noqa: E402
from pages import env_for, manage  # noqa: E402

RELAY = r"""
import sys
import django
django.setup()
from liveupdates.delivery import nchan
nchan.Relay(listen=sys.argv[1] == "1").run_forever()
"""


class Publisher(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.arrived = {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.arrived.setdefault(message["id"], time.monotonic())
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def measure(env, publisher, listen, entries):
    from django.contrib.auth.models import User

    from liveupdates.editorial import workflow
    from liveupdates.models import Entry, LiveEvent, LivePost

    relay = subprocess.Popen([sys.executable, "-c", RELAY, "1" if listen else "0"], cwd=ROOT, env=env)
    try:
        time.sleep(2)  # the relay has started, read its position and LISTENs
        post = LivePost.objects.published().first()
        editor = User.objects.filter(is_superuser=True).first() or User.objects.filter(groups__name="Editors").first()
        latencies = []
        for n in range(entries):
            time.sleep(random.uniform(0, 0.3))
            entry = Entry.objects.create(post=post, headline=f"Bench {listen} {n}", body="<p>Timing.</p>", created_by=editor)
            workflow.publish(entry=entry, user=editor)  # the announcement runs and commits before this returns
            committed = time.monotonic()
            event_id = LiveEvent.objects.filter(entry=entry, kind="add").values_list("pk", flat=True).get()
            deadline = committed + 10
            while event_id not in publisher.arrived and time.monotonic() < deadline:
                time.sleep(0.0005)
            if event_id in publisher.arrived:
                latencies.append((publisher.arrived[event_id] - committed) * 1000)
        return latencies
    finally:
        stop([relay])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=60)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        sys.exit("LISTEN/NOTIFY needs PostgreSQL: set DATABASE_URL=postgres://.../<a database this script may drop>")
    fresh_database(database_url)
    publisher = Publisher()
    threading.Thread(target=publisher.serve_forever, daemon=True).start()
    atexit.register(publisher.shutdown)
    env = env_for(
        database_url,
        NEWSROOM_ANNOUNCE_IN_BACKGROUND="0",
        NEWSROOM_STREAM_ENGINE="nchan",
        NEWSROOM_NCHAN_PUBLISH_URL=f"http://127.0.0.1:{publisher.server_port}/pub",
    )
    manage(env, "migrate", "--noinput")
    manage({**env, "DJANGO_DEBUG": "1"}, "load_demo")
    os.environ.update(env)
    import django

    django.setup()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("relay                          | events | p50 ms | p95 ms | max ms")
    for listen, label in ((False, "poll every 0.1 s (before)"), (True, "LISTEN/NOTIFY (now)")):
        latencies = sorted(measure(env, publisher, listen, args.entries))
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(f"{label:30} | {len(latencies):6} | {statistics.median(latencies):6.1f} | {p95:6.1f} | {latencies[-1]:6.1f}")


if __name__ == "__main__":
    main()
