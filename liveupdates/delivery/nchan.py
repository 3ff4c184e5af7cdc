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
"""

import json
import logging
import time
import urllib.error
import urllib.request
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

from liveupdates.delivery import live
from liveupdates.models import LiveEvent, LivePost

logger = logging.getLogger(__name__)

POLL_INTERVAL = 0.1  # seconds between reads of the log
RETRY = 0.5  # seconds between attempts to publish when nchan does not answer
POSITION_KEY = "live-relay-last"  # the id of the last event published (a position, not content)
RESUME_LIMIT = 5000  # a relay further behind than this starts from the log's end (readers catch up from the poll)


def channel(slug):
    return f"live-{slug}"


def publish(slug, event_id, payload, timeout=5.0):
    """Publish one live event to the post's channel; raises OSError when nchan does not take it."""
    data = json.dumps({"id": event_id, **payload}, separators=(",", ":")).encode()
    url = f"{settings.NEWSROOM_NCHAN_PUBLISH_URL.rstrip('/')}/{quote(channel(slug))}"
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "text/plain; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status not in (200, 201, 202):
            raise OSError(f"nchan answered {response.status} to a publish")


class Relay:
    """Follows the log from `after` and publishes each event once, in order."""

    def __init__(self, after=None):
        self.last = self.resume_point() if after is None else after
        self.slugs: dict[int, str] = {}
        self.next_sweep = 0.0

    def step(self):
        """One round: the sweep when due, then every new event published. Returns how many were published."""
        if time.monotonic() >= self.next_sweep:
            self.next_sweep = time.monotonic() + 1.0
            try:
                live.announce()
            except Exception:
                logger.exception("stream relay: the sweep failed; retrying in a second")
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
                while True:
                    try:
                        publish(slug, event_id, payload)
                        break
                    except (OSError, urllib.error.URLError):
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

    def run_forever(self):
        logger.info("stream relay: publishing live events after %s to %s", self.last, settings.NEWSROOM_NCHAN_PUBLISH_URL)
        while True:
            close_old_connections()
            try:
                published = self.step()
            except Exception:
                logger.exception("stream relay: reading the log failed; retrying")
                published = 0
                time.sleep(RETRY)
            if not published:
                time.sleep(POLL_INTERVAL)
