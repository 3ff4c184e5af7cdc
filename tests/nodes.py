"""Servers the stream tests start on the test database and kill at will: stream nodes and page nodes."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from .browser import database_url, free_port

ROOT = Path(__file__).resolve().parents[1]


def test_env(**extra):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_LOG_LEVEL": "WARNING",
        **extra,
    }


def require_nginx():
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if Path(nginx).exists():
        return nginx
    if os.environ.get("NEWSROOM_REQUIRE_NCHAN"):
        pytest.fail("nginx is required in CI (NEWSROOM_REQUIRE_NCHAN=1): apt-get install nginx")
    pytest.skip("nginx is not installed: apt-get install nginx")


def loopback_nginx_conf(name, tmp, addresses):
    """deploy/<name> made to run on loopback from `tmp`: `addresses` rewrites its upstreams and listens.

    Also moves what the shipped file keeps under /var and /app (pid, logs, the
    micro-cache, temporary files, media) into `tmp`, with one worker. Each
    rewrite must match exactly once, so a change to the shipped file that a
    test would silently stop exercising fails here instead.
    """
    rewrites = [
        *addresses.items(),
        ("/var/cache/nginx/newsroom", f"{tmp}/cache"),
        ("alias /app/media/$media_file;", f"alias {tmp}/media/$media_file;"),
        ("worker_processes auto;", f"worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;"),
        (
            "http {",
            f"http {{\n    access_log off; client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;"
            f" fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;",
        ),
        ("worker_connections 20000;", "worker_connections 1024;"),
    ]
    text = (ROOT / "deploy" / name).read_text()
    for old, new in rewrites:
        assert text.count(old) == 1, f"deploy/{name}: expected {old!r} exactly once"
        text = text.replace(old, new)
    return text


def wait_until_listening(port, process, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited at start (code {process.returncode})") from None
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


class Node:
    """A server in its own process group: kill() ends it and every worker it forked, as a machine going down would."""

    def __init__(self, command, what, port=None, ready_path=None):
        self.port = port or free_port()
        self.what, self.ready_path = what, ready_path
        self.process = subprocess.Popen(
            [part.format(port=self.port) for part in command], cwd=ROOT, env=test_env(), start_new_session=True
        )

    def ready(self):
        """Wait until it answers (several nodes start at once, then each is waited for)."""
        wait_until_listening(self.port, self.process, self.what)
        deadline = time.monotonic() + 30
        while self.ready_path:
            try:
                urlopen(f"http://127.0.0.1:{self.port}{self.ready_path}", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, f"{self.what} did not answer {self.ready_path}"
                time.sleep(0.2)
        return self

    @property
    def alive(self):
        return self.process.poll() is None

    def workers(self):
        """The pids of the processes this node's master forked."""
        pid = self.process.pid
        try:
            return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def stop(self):
        if self.alive:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.kill()


def stream_node(processes=1, port=None):
    """`manage.py stream_server`: the built-in stream on `processes` workers."""
    command = [sys.executable, "manage.py", "stream_server", "--processes", str(processes), "--port", "{port}"]
    return Node(command, "the stream server", port=port)  # then .ready()


def page_node():
    """Pages as production serves them: granian's WSGI worker (compose runs two; one here)."""
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", "{port}"]
    command += ["--workers", "1", "--blocking-threads", "4", "--log-level", "warning", "newsroom.wsgi:application"]
    return Node(command, "a page node (granian)", ready_path="/robots.txt")  # then .ready()
