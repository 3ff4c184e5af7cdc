"""What every bench script does the same way: a fresh database, waiting for a server, stopping servers."""

import subprocess
import time
import urllib.request


def fresh_database(database_url):
    """Drop and recreate a PostgreSQL benchmark database (SQLite files start fresh by themselves)."""
    if database_url.startswith("postgres"):
        name, admin = database_url.rsplit("/", 1)[1], database_url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)


def wait_for(url, timeout=30):
    """The body of `url` once the server answers it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(servers):
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
