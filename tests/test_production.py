"""The production stack's own faults, run as production runs it.

Each test here starts real processes with the production settings (no DEBUG):
the Dockerfile's static step as the image runs it, granian with the flags
docker-compose.yml gives it, and a Redis of the test's own that it stops. The
database is a SQLite file of the module's own (the faults here do not depend
on the engine).
"""

import http.client
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .browser import free_port
from .test_faults import OwnRedis

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_static_step():
    """(environment, argv) of the Dockerfile's collectstatic step, as the image runs it."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("RUN") and "collectstatic" in line)
    command = line.removeprefix("RUN").split("&&")[0]
    words = shlex.split(command)
    environment = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_]+=", word))
    argv = [word for word in words if not re.match(r"^[A-Z_]+=", word)]
    assert argv[:2] == ["python", "manage.py"], argv
    return environment, [sys.executable, *argv[1:]]


def compose_granian_flags():
    """The options docker-compose.yml starts the pages' granian with (host and port aside)."""
    text = (ROOT / "docker-compose.yml").read_text()
    command = re.search(r"granian (--interface .*?) newsroom\.wsgi:application", text, re.S)[1]
    words = shlex.split(command)
    flags, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("--host", "--port"):
            skip = True
        else:
            flags.append(word)
    return flags


def production_env(tmp, **extra):
    """The production settings' environment: no DEBUG, HTTPS redirect and Secure cookies at their defaults."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DJANGO_SECRET_KEY": "production-test-" + "s" * 50,
        "DJANGO_ALLOWED_HOSTS": "news.example.org",
        "NEWSROOM_SITE_URL": "https://news.example.org",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_MEDIA_ROOT": str(tmp / "media"),
        **extra,
    }


def manage(env, *args):
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Granian:
    def __init__(self, env, flags):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "granian",
                *flags,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "newsroom.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while len(self.workers()) < 2 or self.get("/robots.txt", status_only=True) is None:
            assert self.process.poll() is None, self.process.stderr.read().decode()
            assert time.monotonic() < deadline, "granian did not answer within 60 s"
            time.sleep(0.2)

    def workers(self):
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def get(self, path, status_only=False, https=True):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Host": "news.example.org", **({"X-Forwarded-Proto": "https"} if https else {})}
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except OSError:
            return None
        finally:
            connection.close()
        return response.status if status_only else (response.status, response.headers, body)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The image's static files, a migrated database with one live post, a Redis of our own, granian as compose runs it."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    tmp = tmp_path_factory.mktemp("production")
    redis = OwnRedis(tmp)
    redis.start()
    env = production_env(tmp, REDIS_URL=redis.url)
    step_env, step = dockerfile_static_step()
    subprocess.run(
        step,
        cwd=ROOT,
        env={**env, **step_env, "DJANGO_STATIC_ROOT": str(tmp / "static")},
        check=True,
        capture_output=True,
        timeout=300,
    )
    manage(env, "migrate", "--noinput")
    slug = manage(
        env,
        "shell",
        "-c",
        "from tests.factories import LivePostFactory, PublishedEntryFactory; e = PublishedEntryFactory(); print(e.post.slug)",
    ).split()[-1]
    server = Granian(env, compose_granian_flags())
    yield server, redis, slug
    server.stop()
    redis.kill()


def test_the_dockerfile_collects_static_files_with_the_production_settings_and_pages_are_served(stack):
    server, _redis, slug = stack
    for path in ("/", f"/live/{slug}/"):
        status, _headers, body = server.get(path)
        assert status == 200, f"{path}: {status}"
    assert re.search(rb"/static/liveupdates/[\w./-]+\.[0-9a-f]{12}\.(css|js)", body), "pages name the manifest's hashed files"


def test_behind_a_tls_terminator_the_defaults_redirect_plain_http_and_not_https(stack):
    server, _redis, slug = stack
    status, headers, _ = server.get(f"/live/{slug}/", https=False)
    assert status == 301 and headers["Location"] == f"https://news.example.org/live/{slug}/"
    status, headers, _ = server.get("/admin/login/")
    assert status == 200 and "Strict-Transport-Security" in headers
    cookies = headers.get_all("Set-Cookie")
    assert cookies and all("; secure" in cookie.lower() for cookie in cookies), cookies


def test_a_killed_worker_is_started_again_and_the_site_keeps_answering(stack):
    server, _redis, slug = stack
    before = server.workers()
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 20
    while not (len(server.workers()) == 2 and before[0] not in server.workers()):
        assert server.process.poll() is None, "granian shut down when one worker died"
        assert time.monotonic() < deadline, f"no new worker within 20 s: {server.workers()}"
        time.sleep(0.2)
    assert all(server.get(f"/live/{slug}/", status_only=True) == 200 for _ in range(10))


def test_with_redis_down_pages_are_served_from_the_database(stack):
    server, redis, slug = stack
    assert server.get(f"/live/{slug}/", status_only=True) == 200
    redis.stop()
    try:
        answers = {
            path: server.get(path, status_only=True)
            for path in ("/", f"/live/{slug}/", f"/live/{slug}/updates.json?after=0", "/feed/")
        }
        assert set(answers.values()) == {200}, f"with Redis down: {answers}"
    finally:
        redis.start()
    assert server.get(f"/live/{slug}/", status_only=True) == 200


def test_the_compose_defaults_are_production_defaults_behind_a_tls_terminator():
    compose = (ROOT / "docker-compose.yml").read_text()
    for default in ("${DJANGO_SECURE_SSL_REDIRECT:-1}", "${DJANGO_SECURE_COOKIES:-1}", "${NEWSROOM_SITE_URL:?"):
        assert default in compose, f"docker-compose.yml: expected {default}"
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in nginx
    assert "X-Forwarded-Proto $scheme" not in nginx, "nginx must pass on a trusted terminator's scheme"
    assert "proxy_cache_key $forwarded_proto" in nginx, "a cached redirect must never answer an https reader"


def test_docker_compose_config_is_valid_with_its_defaults():
    command = shutil.which("docker-compose")
    if command is None:
        pytest.skip("docker-compose is not installed (CI checks the file in .ci/run)")
    env = {"PATH": os.environ["PATH"], "DJANGO_SECRET_KEY": "x" * 50, "NEWSROOM_SITE_URL": "https://news.example.org"}
    result = subprocess.run([command, "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
