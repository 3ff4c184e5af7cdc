"""Real-browser test support: Debian's Chromium driven by Playwright, against a real ASGI server.

Django's live_server is a WSGI server and cannot hold a Server-Sent Events
stream open, so these tests start uvicorn on the test database instead.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("NEWSROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium():
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    if os.environ.get("NEWSROOM_REQUIRE_BROWSER"):
        pytest.fail(f"Chromium is required (NEWSROOM_REQUIRE_BROWSER is set) but {CHROMIUM} is missing.")
    pytest.skip(f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium`")


def database_url():
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, port, process):
        self.port, self.process = port, process
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(media_root, port=None):
    """uvicorn on the test database; `port` restarts a server where its readers were connected."""
    port = port or free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_MEDIA_ROOT": str(media_root),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "newsroom.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return Server(port, process)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("the test server exited at start") from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the test server did not answer within 30 s")


def ensure_roles():
    """Make the Journalists and Editors groups again: transactional tests empty every table."""
    import importlib

    from django.apps import apps

    importlib.import_module("liveupdates.migrations.0002_newsroom_groups").create_groups(apps, None)
    importlib.import_module("liveupdates.migrations.0006_editors_read_the_login_log").allow(apps, None)
    importlib.import_module("liveupdates.migrations.0016_cards_sources_verification").grant(apps, None)
