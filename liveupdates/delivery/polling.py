"""The poll endpoint's answer for readers who are up to date, without touching the database.

When the stream is down every reader polls `updates.json?after=<latest>`, and
almost all of them are up to date: the answer is "nothing new". What that
answer needs is whether the post is public, whether it is live, and the id of
its latest live event: the post's head. It is kept in the shared cache (Redis
in production) under the post's id, and each process remembers which post id
a slug names. A reader whose cursor is at or past the head's event gets
"nothing new" from it; anyone behind reads the log as before
(`live.read_after`).

Its rule (the table of caches in docs/architecture.md): every append to a
post's log deletes the post's head (`live._append` calls `forget`, at once and
again after commit), and a head lives HEAD_SECONDS at most, which bounds
what a race or a lost delete can cost. Each process also reuses a head it read
from the shared cache for MEMO_SECONDS (a Redis round trip was 40% of the
answer's cost, measured in bench/poll.py); the process that appends drops its
own at once, the others' expire. So a poller is told "nothing new" at most
HEAD_SECONDS + MEMO_SECONDS after an event was appended (an entry, its
withdrawal, the post unpublished, whose coverage event also makes the slug a
404), and at most MEMO_SECONDS in the ordinary case. With no copy (or Redis
down) the database is asked. The slug -> id memo holds ids, never content or
state: a post that stops being public is refused by its head's re-read.
"""

import logging
import time
from datetime import datetime
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from liveupdates.models import LiveEvent, LivePost

logger = logging.getLogger(__name__)

HEAD_SECONDS = 1  # the longest a race or a lost delete can keep "nothing new" after an append
MEMO_SECONDS = 0.25  # each process reuses a head read from the shared cache this long
SLUGS_REMEMBERED = 10_000  # the slug -> id memo is emptied past this (it only saves a lookup)

_post_ids: dict[str, int] = {}
_memo: dict[int, tuple[float, "Head"]] = {}  # post id -> (until, head): bounded by _post_ids' posts


class Head(NamedTuple):
    post_id: int
    last: int  # the post's latest live event id (0: none yet)
    coverage_end: datetime | None

    @property
    def is_live(self):
        return self.coverage_end is None or self.coverage_end > timezone.now()


def _key(post_id):
    return f"live-head:{post_id}"


def head(slug):
    """The Head of the public post `slug`, or None when there is no such public post."""
    post_id = _post_ids.get(slug)
    if post_id is not None:
        now = time.monotonic()
        memo = _memo.get(post_id)
        if memo is not None and memo[0] > now:
            return memo[1]
        found = _quietly(cache.get, _key(post_id))
        if found is not None:
            known = Head(post_id, *found)
            _memo[post_id] = (now + MEMO_SECONDS, known)
            return known
    latest = LiveEvent.objects.filter(post=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    row = (
        LivePost.objects.published()
        .filter(slug=slug)
        .annotate(last=Coalesce(Subquery(latest), 0))
        .values_list("pk", "last", "coverage_end")
        .first()
    )
    if row is None:
        return None
    if len(_post_ids) >= SLUGS_REMEMBERED:
        _post_ids.clear()
    _post_ids[slug] = row[0]
    _quietly(cache.set, _key(row[0]), (row[1], row[2]), HEAD_SECONDS)
    _memo.pop(row[0], None)
    return Head(*row)


def forget(post_id):
    """The post's log moved: its head must be read from the database again."""
    _memo.pop(post_id, None)
    _quietly(cache.delete, _key(post_id))


def _quietly(call, *args):
    """The cache is a copy: without Redis, the database answers (and a delete that fails is bounded by HEAD_SECONDS)."""
    try:
        return call(*args)
    except Exception:
        logger.warning("the cache is unavailable; polls read the database", exc_info=True)
        return None


def forget_all():
    """Tests: start from nothing."""
    _post_ids.clear()
    _memo.clear()
