"""What every long-running process does once it has loaded: WSGI, ASGI and the stream server.

`freeze_startup_objects()` hides what start-up loaded (modules, settings, URL
patterns, templates) from the garbage collector, and `watch_collections()`
logs any collection that stalls the process for longer than
SLOW_COLLECTION, so a pause that delays every reader shows in the log
instead of only in a benchmark.
"""

import gc
import logging
import time

logger = logging.getLogger("newsroom.gc")

SLOW_COLLECTION = 0.1  # seconds: longer than this and every reader of the process notices


def freeze_startup_objects():
    """Keep what start-up loaded out of the garbage collector's sight, for the life of the process.

    A worker holds about 110,000 such objects, and each full collection
    walked them all: 62-72 ms in a WSGI worker, paid by whichever request
    triggered it; in the stream process, with 10,000 readers, collections
    of up to 759 ms stalled every reader at once (issue 16). Frozen, they are
    never walked again. Nothing frozen is ever freed, and these objects live
    as long as the process anyway. Call it after start-up, before forking
    workers (the frozen pages then stay shared).
    """
    warm_up()
    gc.collect()
    gc.freeze()
    watch_collections()


# Rendered by the first publication of every process (live.announce_entry): loaded now, not on a reader's time.
WARM_TEMPLATES = ["liveupdates/_entry.html", "liveupdates/_pinned.html", "liveupdates/_key_events.html"]


def warm_up():
    """Load now what the first request, or the first publication, would otherwise load on its own time.

    The URL patterns, the reverse lookups of every namespace (the first
    `reverse()` built them: ~80 ms), the cache's client (importing redis: ~60 ms)
    and the templates an announcement renders (compiled once by the cached
    loader, with the tag libraries they load). A
    fresh process's first publication took 590 ms from commit to live event
    under load, the next ones 36 ms (bench/stream_scale.py --trace).
    """
    from django.core.cache import DEFAULT_CACHE_ALIAS, caches
    from django.template.loader import get_template
    from django.urls import get_resolver

    def populate(resolver):
        resolver.reverse_dict  # noqa: B018 - built on first use
        for _, child in resolver.namespace_dict.values():
            populate(child)

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - load the URL patterns now, so they are frozen too
    populate(resolver)
    for name in WARM_TEMPLATES:
        get_template(name)
    caches[DEFAULT_CACHE_ALIAS]  # imports the backend's client library; no connection is opened yet


_started: list[float] = []


def _timed(phase, info):
    if phase == "start":
        _started[:] = [time.perf_counter()]
    elif _started:
        took = time.perf_counter() - _started.pop()
        if took > SLOW_COLLECTION:
            logger.warning(
                "garbage collection of generation %s took %.0f ms (%s objects collected); every request of this process waited",
                info.get("generation"),
                took * 1000,
                info.get("collected"),
            )


def watch_collections():
    """Log a warning for every collection longer than SLOW_COLLECTION (installed once per process)."""
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)
