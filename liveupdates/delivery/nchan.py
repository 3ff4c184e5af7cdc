"""The stream on an engine built for fan-out: nchan (an nginx module) holds the readers' connections.

With NEWSROOM_STREAM_ENGINE=nchan (docker-compose.yml's default), nginx
answers `/live/<slug>/stream/` itself: each reader subscribes to the channel
`live-<slug>` (deploy/nginx-nchan.conf), and nginx writes each message to
every subscriber. Django holds no connection. One relay process
(`manage.py stream_relay`) follows the live event log in id order, as a hub
does, and publishes each event exactly once to nchan's publisher endpoint
(NEWSROOM_NCHAN_PUBLISH_URL, reachable only inside the deployment), the data
carrying our event id as the built-in stream's does. It also runs the
once-a-second sweep (`live.announce`) that the hubs run with the built-in
engine, so nothing flagged is left unannounced.

Nothing is lost when nginx, nchan or the relay restarts: a reader's page
knows the last event it applied (its cursor), and every time its stream
opens it first asks the poll endpoint for what came after that cursor
(live.js, `data-live-catch-up`), holding stream messages until that answer is
applied, and asks once more 5 s later: the first answer may be a copy made
just before a change (the post's head, nginx's micro-cache: at most ~4 s old). A publish that fails is retried, in order, until it succeeds; a
restarted relay goes on after the last event it published (its position in
the cache), so readers who stayed subscribed miss nothing either.

The relay wakes when an event commits: `live._append` sends a PostgreSQL
NOTIFY in the event's own transaction (delivered at commit, never for a
rollback), and the relay LISTENs on a connection of its own. It still reads
the log every second without one (SQLite, or while that connection is being
remade after it died): a lost notification delays an event by a second at
most, never loses it.

Once sent, an event is never sent again. nchan answers a publish only after
writing it to every subscriber, which at 100,000 readers took longer than
5 s: a publish whose answer is late has been taken, and sending it again
would give every reader a duplicate. So the relay waits PUBLISH_TIMEOUT for
the answer and, if it does not come, logs it and goes on; only a publish that
never reached nchan (refused, reset, an error status) is retried. A reader
also ignores an event id it has already applied (live.js), so even a
duplicate changes nothing on screen.
"""

import http.client
import json
import logging
import select
import time
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection

from liveupdates.delivery import live
from liveupdates.models import LiveEvent, LivePost

logger = logging.getLogger(__name__)
# At DEBUG, one line per event published: when the relay woke, read the log, sent it, and nchan answered
# (bench/stream_scale.py --trace reads them to show where the time goes).
timing = logging.getLogger(f"{__name__}.timing")

POLL_INTERVAL = 0.1  # seconds between reads of the log with no LISTEN connection (SQLite)
FALLBACK_POLL = 1.0  # seconds between reads of the log while LISTENing: only a lost notification waits this long
RECONNECT = 1.0  # seconds before the LISTEN connection is made again after it failed
RETRY = 0.5  # seconds between attempts to publish when nchan does not take it
PUBLISH_TIMEOUT = 60.0  # seconds nchan may take to answer: it answers after writing to every subscriber
POSITION_KEY = "live-relay-last"  # the id of the last event published (a position, not content)
RESUME_LIMIT = 5000  # a relay further behind than this starts from the log's end (readers catch up from the poll)


def channel(slug):
    return f"live-{slug}"


class NotTaken(OSError):
    """nchan did not take the message (not reached, or refused it): sending it again is safe."""


_kept: dict[tuple[str, int], http.client.HTTPConnection] = {}  # (host, port) -> the publisher's kept-alive connection


def _connection(host, port, timeout):
    """The kept-alive connection to nchan's publisher, or a new one; returns (connection, reused).

    One event follows another on the same connection: no TCP handshake, and no
    new socket for nginx to accept, while it is writing the last event to every
    reader. nginx closes an idle one after `keepalive_timeout`; its end is then
    waiting to be read, so it is dropped here rather than written to.
    """
    client = _kept.pop((host, port), None)
    if client is not None and (client.sock is None or select.select([client.sock], [], [], 0)[0]):
        client.close()
        client = None
    if client is None:
        return http.client.HTTPConnection(host, port, timeout=timeout), False
    client.timeout = timeout
    client.sock.settimeout(timeout)
    return client, True


def publish(slug, event_id, payload, timeout=None):
    """Publish one live event to the post's channel.

    Raises NotTaken when nchan certainly did not take it. Returns False when the
    message was sent but nchan did not answer within `timeout` (it answers after
    the fan-out, which can be slow: the message is taken, and must not be sent
    again), True when nchan answered.
    """
    data = json.dumps({"id": event_id, **payload}, separators=(",", ":")).encode()
    url = urlsplit(settings.NEWSROOM_NCHAN_PUBLISH_URL.rstrip("/"))
    path = f"{url.path}/{quote(channel(slug))}"
    host, port, timeout = url.hostname, url.port or 80, timeout or PUBLISH_TIMEOUT
    client, reused = _connection(host, port, timeout)
    try:
        return _send(client, path, data, event_id, timeout, (host, port))
    except NotTaken:
        if not reused:
            raise
        # nginx closed the kept connection as we wrote to it: nothing reached nchan. Once more on a new one.
        client, _ = _connection(host, port, timeout)
        return _send(client, path, data, event_id, timeout, (host, port))


def _send(client, path, data, event_id, timeout, key):
    kept = False
    try:
        try:
            client.request("POST", path, body=data, headers={"Content-Type": "text/plain; charset=utf-8"})
        except OSError as error:  # not connected, or the request was cut: nchan has not got it
            raise NotTaken(f"nchan could not be reached: {error}") from error
        try:
            response = client.getresponse()
        except TimeoutError:
            logger.warning(
                "stream relay: nchan took event %s but did not answer within %s s; not sending it again", event_id, timeout
            )
            return False
        except (http.client.HTTPException, OSError) as error:  # closed without an answer: nginx stopping
            raise NotTaken(f"nchan closed the connection without answering: {error}") from error
        response.read()
        if response.status not in (200, 201, 202):
            raise NotTaken(f"nchan answered {response.status} to a publish")
        kept = not response.will_close
        return True
    finally:
        if kept:
            _kept[key] = client
        else:
            client.close()


class Listener:
    """Wakes the relay when a live event commits: PostgreSQL's LISTEN on a connection of its own.

    `live._append` notifies in the event's transaction, so the notification
    arrives after the commit, when the row can be read. If the connection dies
    (a database restart, an administrator's pg_terminate_backend), the relay
    reads the log every POLL_INTERVAL until it is made again, RECONNECT later.
    """

    def __init__(self):
        self.connection = None
        self.retry_at = 0.0
        self.wakes = 0  # how many times a notification woke the relay (tests, logs)
        self.woke_at = 0.0  # time.time() of the last wake by a notification

    def wait(self, timeout):
        """Return once an event has committed, or after `timeout` seconds (POLL_INTERVAL without LISTEN)."""
        if self.connection is None and connection.vendor == "postgresql" and time.monotonic() >= self.retry_at:
            self._connect()
        if self.connection is None:
            time.sleep(min(timeout, POLL_INTERVAL))
            return
        try:
            if select.select([self.connection], [], [], timeout)[0]:
                self.connection.poll()
            if self.connection.notifies:
                self.woke_at = time.time()
                self.wakes += 1
                self.connection.notifies.clear()
        except Exception:
            logger.warning(
                "stream relay: the LISTEN connection died; reading the log every %s s until it is back",
                POLL_INTERVAL,
                exc_info=True,
            )
            self.close()
            self.retry_at = time.monotonic() + RECONNECT

    def _connect(self):
        import psycopg2  # late: only a PostgreSQL deployment has it loaded for LISTEN

        try:
            self.connection = psycopg2.connect(**connection.get_connection_params())
            self.connection.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
            with self.connection.cursor() as cursor:
                cursor.execute(f"LISTEN {live.CHANNEL}")
        except Exception:
            logger.warning("stream relay: could not LISTEN; trying again in %s s", RECONNECT, exc_info=True)
            self.close()
            self.retry_at = time.monotonic() + RECONNECT

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:
                pass
        self.connection = None


class Relay:
    """Follows the log from `after` and publishes each event once, in order."""

    def __init__(self, after=None, listen=True):
        self.last = self.resume_point() if after is None else after
        self.slugs: dict[int, str] = {}
        self.next_sweep = 0.0
        self.listener = Listener() if listen else None

    def step(self):
        """One round: every new event published, then the sweep if due. Returns how many were published.

        The sweep (a few queries, and any announcement it finds to make) runs
        only in a round that published nothing: never between a commit's
        notification and its publish, and the next round follows at once.
        """
        published = self.publish_new()
        if not published and time.monotonic() >= self.next_sweep:
            self.next_sweep = time.monotonic() + 1.0
            try:
                live.announce()
            except Exception:
                logger.exception("stream relay: the sweep failed; retrying in a second")
        return published

    def publish_new(self):
        tracing = timing.isEnabledFor(logging.DEBUG)
        woke = 0.0  # this round's wake by a notification, if a notification started it (0: a poll, or a next round)
        if self.listener is not None:
            woke, self.listener.woke_at = self.listener.woke_at, 0.0
        rows = list(LiveEvent.objects.filter(pk__gt=self.last).order_by("pk").values_list("pk", "post_id", "payload")[:1000])
        missing = {post_id for _, post_id, _ in rows} - set(self.slugs)
        if missing:
            self.slugs.update(LivePost.objects.filter(pk__in=missing).values_list("pk", "slug"))
        for event_id, post_id, payload in rows:
            if payload.get("type") == live.COVERAGE:
                self.slugs.pop(post_id, None)  # a post's settings changed: its slug may have too (read again next time)
                slug = LivePost.objects.filter(pk=post_id).values_list("slug", flat=True).first()
            else:
                slug = self.slugs.get(post_id)
            if slug is not None:
                sent = time.time()
                while True:
                    try:
                        publish(slug, event_id, payload)
                        if tracing:
                            timing.debug(
                                "event %s %s woke=%.6f sent=%.6f answered=%.6f",
                                event_id,
                                payload.get("type"),
                                woke,
                                sent,
                                time.time(),
                            )
                        break
                    except OSError:  # NotTaken, or anything else before nchan had it
                        logger.warning("stream relay: nchan did not take event %s; retrying", event_id, exc_info=True)
                        time.sleep(RETRY)
            self.last = event_id
        if rows:
            cache.set(POSITION_KEY, self.last, None)
        return len(rows)

    @staticmethod
    def resume_point():
        """Where a restarted relay goes on: after the last event it published (kept in the cache).

        Readers who stayed subscribed while the relay was down get what was appended meanwhile
        (those who reconnected catch up from the poll anyway, and skip what they have). With no
        position, or one more than RESUME_LIMIT events behind, it starts from the log's end.
        """
        latest = live.latest_event_id()
        try:
            kept = cache.get(POSITION_KEY)
        except Exception:
            kept = None
        if isinstance(kept, int) and latest - RESUME_LIMIT <= kept <= latest:
            return kept
        return latest

    def run_forever(self, stop=None):
        """Publish until `stop` (a threading.Event) is set: woken by each commit, or every FALLBACK_POLL."""
        logger.info("stream relay: publishing live events after %s to %s", self.last, settings.NEWSROOM_NCHAN_PUBLISH_URL)
        while stop is None or not stop.is_set():
            close_old_connections()
            try:
                published = self.step()
            except Exception:
                logger.exception("stream relay: reading the log failed; retrying")
                published = 0
                time.sleep(RETRY)
            if published:
                continue  # there may be more: read again at once
            if self.listener is not None:
                self.listener.wait(FALLBACK_POLL)
            else:
                time.sleep(POLL_INTERVAL)
        if self.listener is not None:
            self.listener.close()
