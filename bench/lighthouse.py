#!/usr/bin/env python
"""Lighthouse scores of the demo's live page (and the home page), with Debian's Chromium.

Builds the demo on a fresh SQLite database, collects static files, serves the
site with production settings (DEBUG off, compressed fingerprinted static
files, the stream included) under uvicorn, and runs Lighthouse 12 (fetched
with npx into npm's cache the first time) with its default mobile settings.
Prints each category's score.

    .venv/bin/python bench/lighthouse.py
    .venv/bin/python bench/lighthouse.py --path /

Needs npm and /usr/bin/chromium. Loopback only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import stop, wait_for  # noqa: E402

CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", action="append", help="page(s) to audit (default: the demo live post and the home page)")
    parser.add_argument("--port", type=int, default=8831)
    args = parser.parse_args()
    paths = args.path or ["/live/russian-jets-strike-daraa-again/", "/"]

    tmp = Path(tempfile.mkdtemp(prefix="newsroom-lighthouse-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{tmp}/lighthouse.sqlite3",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_MEDIA_ROOT": str(tmp / "media"),
        "NEWSROOM_SITE_URL": f"http://127.0.0.1:{args.port}",
        "NEWSROOM_SERVE_MEDIA": "1",
    }

    def run(*args, **extra_env):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env={**env, **extra_env}, check=True, stdout=subprocess.DEVNULL
        )

    run("migrate", "--noinput")
    run("collectstatic", "--noinput")
    run("load_demo", DJANGO_DEBUG="1")
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
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{args.port}/")
        print(
            f"Lighthouse 12, default (mobile, simulated throttling), Chromium {subprocess.run(['/usr/bin/chromium', '--version'], capture_output=True, text=True).stdout.split()[1]}"
        )
        for path in paths:
            out = tmp / "report.json"
            subprocess.run(
                [
                    "npx",
                    "--yes",
                    "lighthouse@12",
                    f"http://127.0.0.1:{args.port}{path}",
                    "--quiet",
                    "--output=json",
                    f"--output-path={out}",
                    f"--only-categories={','.join(CATEGORIES)}",
                    "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
                ],
                env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
                check=True,
            )
            report = json.loads(out.read_text())
            scores = {name: round(100 * report["categories"][name]["score"]) for name in CATEGORIES}
            failing = [
                audit["id"]
                for audit in report["audits"].values()
                if audit.get("score") is not None and audit["score"] < 0.9 and audit.get("scoreDisplayMode") == "binary"
            ]
            weight = report["audits"].get("total-byte-weight", {}).get("displayValue", "")
            print(f"  {path:<45} " + "  ".join(f"{name} {score}" for name, score in scores.items()) + f"   ({weight})")
            for audit_id in failing:
                audit = report["audits"][audit_id]
                items = (audit.get("details") or {}).get("items") or []
                print(f"    failing: {audit['title']}" + (f" ({json.dumps(items[0], default=str)[:300]})" if items else ""))
    finally:
        stop([server])


if __name__ == "__main__":
    main()
