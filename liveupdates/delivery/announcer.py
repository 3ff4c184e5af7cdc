"""Announce committed changes to live readers without making the person who made them wait.

`workflow` calls `soon(post_id)` once a change has committed. Rendering a
published entry and appending its live event is about half the cost of a save
from the desk, and the journalist only needs to know the entry is stored, so
in production the announcement runs on one background thread per process.
In development and tests (NEWSROOM_ANNOUNCE_IN_BACKGROUND off) it runs at
once, in the committing thread.

Nothing is lost if this never runs: the change left its entries flagged
(`Entry.live_pending`) in the same transaction, and every stream process's
hub sweeps flagged entries once a second (`live.announce`). So a failure here
is logged, never raised: the editor's change has committed, and must not be
reported as a 500.
"""

import logging
import queue
import threading

from django.conf import settings
from django.db import close_old_connections

from liveupdates.delivery import live

logger = logging.getLogger(__name__)

_queue: queue.SimpleQueue[int] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def soon(post_id: int) -> None:
    """Announce `post_id`'s flagged entries now, or on the background thread."""
    if not getattr(settings, "NEWSROOM_ANNOUNCE_IN_BACKGROUND", False):
        announce(post_id)
        return
    _ensure_thread()
    _queue.put(post_id)


def announce(post_id: int) -> None:
    try:
        live.announce(post_id=post_id)
    except Exception:  # the sweep retries whatever is still flagged
        logger.exception("announcing post %s to live readers failed; the stream's sweep will retry", post_id)


def _ensure_thread() -> None:
    global _thread
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_work, name="live-announcer", daemon=True)
            _thread.start()


def _work() -> None:
    while True:
        posts = {_queue.get()}
        while True:  # a bulk publish queues one post many times: announce it once
            try:
                posts.add(_queue.get_nowait())
            except queue.Empty:
                break
        close_old_connections()  # this thread's connection obeys CONN_MAX_AGE and health checks too
        for post_id in posts:
            announce(post_id)
