"""What every bench script does the same way: a fresh database, free ports, waiting for a server, stopping servers."""

import os
import signal
import socket
import subprocess
import time
import urllib.request


def fresh_database(database_url):
    """Drop and recreate a PostgreSQL benchmark database (SQLite files start fresh by themselves)."""
    if database_url.startswith("postgres"):
        name, admin = database_url.rsplit("/", 1)[1], database_url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)


def free_port():
    """A TCP port free on loopback right now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def wait_for_port(port, timeout=30):
    """Once something accepts connections on loopback `port` (a server whose pages never end, like a stream)."""
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listened on {port} within {timeout} s")


def start_group(command, **popen):
    """Start `command` as the leader of its own process group, so stop() also ends the workers it forks."""
    process = subprocess.Popen(command, start_new_session=True, **popen)
    process.bench_group = True
    return process


def _signal(server, sig):
    try:
        if getattr(server, "bench_group", False):
            os.killpg(server.pid, sig)  # the server and the workers it forked
        elif server.poll() is None:
            server.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(servers):
    """Stop the servers this script started (and, for those from start_group, the workers they forked)."""
    for server in servers:
        _signal(server, signal.SIGTERM)
    for server in servers:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal(server, signal.SIGKILL)
            server.wait(timeout=5)
    for server in servers:
        if getattr(server, "bench_group", False):
            _signal(server, signal.SIGKILL)  # a worker that outlived its master
