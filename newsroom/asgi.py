"""ASGI entry point: live streams go to a lean endpoint, everything else to Django.

Both run the same code (liveupdates.delivery.stream.stream_events); the lean endpoint
skips Django's per-request machinery, which costs too much when ten thousand
readers hold a stream open at once (see docs/benchmarks.md).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
# Under ASGI, Django runs sync code on short-lived threads: a persistent connection
# would outlive its thread and leak (measured: "too many clients" within seconds).
os.environ.setdefault("DJANGO_CONN_MAX_AGE", "0")

django_application = get_asgi_application()

from liveupdates.delivery.stream import asgi_stream, stream_slug  # noqa: E402
from newsroom.startup import freeze_startup_objects  # noqa: E402

freeze_startup_objects()  # start-up's objects out of the collector's way: no full-collection stalls under many readers


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
        slug = stream_slug(scope["path"])
        if slug is not None:
            return await asgi_stream(scope, receive, send, slug)
    return await django_application(scope, receive, send)
