#!/usr/bin/env python
"""Keypress to reader's screen: staff publish from the live desk's in-place endpoint while readers follow the stream.

What the desk's script does when an editor presses Ctrl+Enter: one POST to the
desk's compose endpoint (JSON, no reload). The headline carries the time just
before that POST, so each reader's receipt time minus it is the keypress-to-screen
time: the desk's request, the commit, the announcement and the stream. Half the
staff publish, half submit; every one of them also polls the desk's staff feed
every second, as an open desk does. Production topology on loopback, as
bench/mixed_load.py: granian (WSGI, 2 workers) for the admin, uvicorn for the stream.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_i13_bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/desk.py --readers 1000 --staff 10 --seconds 20

Ports 13765/13766 (--ports to change). Loopback only; bounded in time.
"""

import argparse
import json
import sys
import threading
import time
import urllib.error
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mixed_load as ml  # noqa: E402  (servers, accounts, readers)


class DeskWriter(ml.Writer):
    """A staff member on the desk: posts in place every `pace` seconds and polls the feed every second, as desk/feed.js does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.polls = []

    def _poll(self, desk):
        cursor, seen = 0, []
        while time.time() < self.until:
            started = time.perf_counter()
            try:
                url = f"{self.base}{desk}api/feed/?after={cursor}&seen={','.join(map(str, seen))}"
                answer = json.loads(self.opener.open(url, timeout=30).read())
                cursor = answer["cursor"]
                # As desk/feed.js: the recent events already shown, so the server's look-back
                # (for late commits) does not send them, and render their rows, again.
                seen = [id for id in seen + [item["id"] for item in answer["activity"]] if id > cursor - 20][-20:]
                self.polls.append(time.perf_counter() - started)
            except Exception as error:  # noqa: BLE001 - reported, not raised
                self.errors.append(f"feed: {error!r}")
            time.sleep(1)

    def run(self):
        try:
            self.opener.open(
                self._form("/admin/login/", {"username": f"writer-{self.number}", "password": ml.PASSWORD, "next": "/admin/"}),
                timeout=30,
            ).read()
        except Exception as error:  # noqa: BLE001
            self.errors.append(f"login: {error!r}")
            return
        desk = f"/admin/liveupdates/livepost/{self.post_id}/desk/"
        token = self._token(desk)
        threading.Thread(target=self._poll, args=(desk,), daemon=True).start()
        time.sleep(ml.random.Random(self.number).uniform(0, self.pace))
        n = 0
        while time.time() < self.until:
            headline = f"bench-{self.number * 10_000 + n}-{time.time():.6f}-end"
            request = self._form(
                desk + "api/compose/",
                {"headline": headline, "body": "<p>Posted in place.</p>", "intent": "publish" if self.publishes else "submit"},
                token,
            )
            request.add_header("X-Requested-With", "newsroom-desk")
            started = time.perf_counter()
            try:
                with self.opener.open(request, timeout=30) as response:
                    answer = json.loads(response.read())
                self.saves.append(time.perf_counter() - started)
                if not answer.get("ok"):
                    self.errors.append(f"refused: {answer.get('error') or answer.get('message')}")
                elif self.publishes:
                    self.published.append(self.number * 10_000 + n)
            except urllib.error.HTTPError as error:
                self.errors.append(f"compose answered {error.code}")
            except Exception as error:  # noqa: BLE001
                self.errors.append(repr(error))
            n += 1
            time.sleep(self.pace)


def run_writers(base, post_id, count, seconds, pace, lockstep, results):
    """In its own process (as mixed_load.run_writers): `count` desk writers; puts what they measured on `results`."""
    until = time.time() + seconds
    writers = [DeskWriter(n, base, post_id, until, pace, lockstep) for n in range(count)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=seconds + 60)
    results.put(
        {
            "saves": [s for w in writers for s in w.saves],
            "reloads": [],
            "polls": [p for w in writers for p in w.polls],
            "errors": [e for w in writers for e in w.errors],
            "published": [n for w in writers for n in w.published],
            "editors": sum(w.publishes for w in writers),
        }
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--staff", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--pace", type=float, default=2.0, help="seconds each staff member waits between entries")
    parser.add_argument("--ports", default="13765,13766")
    parser.add_argument("--stream", choices=["uvicorn", "server"], default="uvicorn", help="as bench/mixed_load.py")
    args = parser.parse_args()
    sys.argv = [
        sys.argv[0],
        "--readers",
        str(args.readers),
        "--writers",
        str(args.staff),
        "--seconds",
        str(args.seconds),
        "--pace",
        str(args.pace),
        "--stream",
        args.stream,
    ]
    stream_port, admin_port = (int(p) for p in args.ports.split(","))
    return ml.main(ports=(stream_port, admin_port), writers_target=run_writers)


if __name__ == "__main__":
    sys.exit(main())
