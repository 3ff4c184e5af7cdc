"""More than one machine, shown: two page nodes and two stream nodes behind one nginx, one PostgreSQL, one Redis.

Each node is its own process group on its own port (granian for pages,
`manage.py stream_server` for the stream); nginx runs deploy/nginx.conf with
only its addresses made local and each upstream listing two nodes. Readers
follow one live post through nginx, as browsers do (an EventSource that
reconnects with Last-Event-ID), while an editor publishes and withdraws
entries through the workflow and one page node and one stream node are
killed (SIGKILL, the whole process group, as a machine going down).

What must hold, for every reader: every publication that is still public
arrived, every withdrawal arrived, no event arrived twice, and events came
in the log's order. (A reader that was reconnecting while an entry was both
published and withdrawn gets only the withdrawal: a replay never carries
withdrawn words. So the adds of withdrawn entries are counted, not required.)

Runs on PostgreSQL (`make test-postgres`, CI's second run): the stream nodes
wake on its NOTIFY. Skipped on SQLite, and without nginx unless CI requires it.
"""

import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from django.db import connection

from liveupdates.delivery import live
from liveupdates.editorial import workflow
from liveupdates.models import Entry, LiveEvent

from .browser import ensure_roles, free_port
from .factories import EntryFactory, LivePostFactory, UserFactory
from .nodes import loopback_nginx_conf, page_node, require_nginx, stream_node, wait_until_listening
from .sse import Readers

READERS = 6
STEPS = 12  # publications; every third step also withdraws an earlier entry

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="runs on PostgreSQL: make test-postgres"),
]


def cluster_conf(tmp, port, pages, streams):
    """deploy/nginx.conf with each upstream listing our nodes."""
    return loopback_nginx_conf(
        "nginx.conf",
        tmp,
        {
            "server web:8000;": " ".join(f"server 127.0.0.1:{node.port};" for node in pages),
            "server stream:8001;": " ".join(f"server 127.0.0.1:{node.port};" for node in streams),
            "listen 80;": f"listen 127.0.0.1:{port};",
        },
    )


class Cluster:
    def __init__(self):
        nginx = require_nginx()
        self.pages = [page_node(), page_node()]
        self.streams = [stream_node(processes=1), stream_node(processes=1)]
        for node in self.pages + self.streams:
            node.ready()
        self.tmp = Path(tempfile.mkdtemp(prefix="newsroom-cluster-"))
        self.tmp.chmod(0o755)  # nginx's unprivileged workers read it
        self.port = free_port()
        (self.tmp / "nginx.conf").write_text(cluster_conf(self.tmp, self.port, self.pages, self.streams))
        self.nginx = [nginx, "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf")]
        subprocess.run(self.nginx, check=True)
        self.master = int((self.tmp / "nginx.pid").read_text())
        wait_until_listening(self.port, subprocess.Popen(["true"]), "nginx")

    def stop(self):
        subprocess.run([*self.nginx, "-s", "stop"], check=False, capture_output=True)
        for node in self.pages + self.streams:
            node.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def cluster():
    nodes = Cluster()
    yield nodes
    nodes.stop()


@pytest.fixture
def newsroom(transactional_db):
    ensure_roles()
    return UserFactory(username="cluster-editor", group="Editors"), LivePostFactory()


class Poller(threading.Thread):
    """A reader without a stream: asks the poll endpoint through nginx every 0.1 s and keeps each answer's status."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.statuses, self.stopping = url, [], False

    def run(self):
        while not self.stopping:
            try:
                with urlopen(self.url, timeout=10) as response:
                    self.statuses.append(response.status)
            except HTTPError as error:
                self.statuses.append(error.code)
            except OSError as error:
                self.statuses.append(repr(error))
            time.sleep(0.1)


def test_readers_behind_nginx_get_every_publication_and_withdrawal_while_a_page_node_and_a_stream_node_die(cluster, newsroom):
    editor, post = newsroom
    start = live.latest_event_id(post)
    readers = Readers()
    poller = Poller(f"http://127.0.0.1:{cluster.port}/live/{post.slug}/updates.json?after={start}")
    try:
        followers = [readers.open(cluster.port, f"/live/{post.slug}/stream/", after=start, retry=1.0) for _ in range(READERS)]
        for reader in followers:
            reader.wait_for(lambda r: r.connections == 1)
        poller.start()

        published, withdrawn = [], []
        for step in range(STEPS):
            entry = EntryFactory(post=post, headline=f"Cluster entry {step}", created_by=editor)
            workflow.publish(entry=entry, user=editor)
            published.append(entry.pk)
            if step % 3 == 2:
                gone = published[step - 2]
                workflow.withdraw(entry=Entry.objects.get(pk=gone), user=editor, reason="Legal")
                withdrawn.append(gone)
            live.announce_due(post=post)
            if step == 3:
                cluster.streams[0].kill()
            elif step == 7:
                cluster.pages[0].kill()
            elif step not in (4, 5):
                time.sleep(0.25)  # steps 4 and 5 follow the stream node's death at once: made while its readers are away

        log = list(LiveEvent.objects.filter(post=post, pk__gt=start).order_by("pk").values_list("pk", "payload"))
        sent = [event_id for event_id, _ in log]
        required = {
            event_id
            for event_id, payload in log
            if payload["type"] == live.REMOVE or (payload["type"] == live.ADD and payload["entry"] not in withdrawn)
        }
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(required <= set(reader.ids) for reader in followers):
            time.sleep(0.1)
        time.sleep(0.5)  # anything late and duplicated would arrive now
    finally:
        poller.stopping = True
        readers.close()

    rows, shown = [], {}
    for n, reader in enumerate(followers):
        ids = reader.ids
        rows.append((n, len(ids), reader.connections, len(required - set(ids)), len(ids) - len(set(ids))))
        shown[n] = set()
        for _, payload in reader.events:
            if payload["type"] == live.ADD:
                shown[n].add(payload["entry"])
            elif payload["type"] == live.REMOVE:
                shown[n].discard(payload["entry"])
    print(
        f"\nmulti-node: {len(sent)} events sent ({len(published)} publications, {len(withdrawn)} withdrawals), "
        f"{len(required)} required per reader; page nodes alive {sum(n.alive for n in cluster.pages)}/2, "
        f"stream nodes alive {sum(n.alive for n in cluster.streams)}/2"
    )
    for n, received, connections, lost, duplicated in rows:
        print(f"  reader {n}: received {received}, streams opened {connections}, lost {lost}, duplicated {duplicated}")
    answers = [status for status in poller.statuses if status != 200]
    print(f"  poll through nginx: {len(poller.statuses)} answers, {len(answers)} not 200 {answers[:5]}")

    assert all(lost == 0 and duplicated == 0 for _, _, _, lost, duplicated in rows)
    for n, reader in enumerate(followers):
        assert shown[n] == set(published) - set(withdrawn), f"reader {n} ends showing {shown[n]}"
        assert reader.ids == sorted(reader.ids), f"reader {n} received events out of order: {reader.ids}"
        assert set(reader.ids) <= set(sent)
    assert any(connections > 1 for _, _, connections, _, _ in rows), "no reader was on the stream node that died"
    assert not cluster.streams[0].alive and not cluster.pages[0].alive
    assert poller.statuses and not answers, "a page node's death reached a reader through nginx"
