"""Work a request causes that its user need not wait for, done once the response has been sent.

Announcing a published entry to live readers (rendering it, appending the
live event) is about half of a save from the desk. The journalist only needs
to know the entry is stored, so the save answers as soon as it commits, and
the announcement runs in the same process right after the response is on the
wire: WSGI and ASGI servers close a response after sending it, and Django runs
a response's closers then.

Only work with a safety net is deferred: if the process dies in between, the
stream processes' once-a-second sweep (`live.announce_due`) announces what
was missed. Outside a request (commands, the shell, the hub) `defer` runs the
work at once.
"""

import contextvars
import logging

logger = logging.getLogger(__name__)

_pending = contextvars.ContextVar("liveupdates_after_response", default=None)


def defer(work, *args):
    """Run `work(*args)` after the current response is sent, or now when there is no request."""
    pending = _pending.get()
    if pending is None:
        work(*args)
    else:
        pending.append((work, args))


def _run(pending):
    for work, args in pending:
        try:
            work(*args)
        except Exception:  # one failure must not stop the rest; the sweep retries announcements
            logger.exception("deferred work %s failed after the response was sent", getattr(work, "__name__", work))


class RunAfterResponse:
    """Outermost middleware: collects deferred work during the request, runs it when the response closes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pending = []
        token = _pending.set(pending)
        try:
            response = self.get_response(request)
        finally:
            _pending.reset(token)
        if pending:
            response._resource_closers.append(lambda: _run(pending))
        return response
