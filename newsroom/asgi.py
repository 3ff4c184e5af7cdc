"""ASGI entry point: live streams go to a lean endpoint, everything else to Django.

Both run the same code (liveupdates.stream.stream_events); the lean endpoint
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

from liveupdates.stream import STREAM_PATH, asgi_stream  # noqa: E402  (needs the apps loaded above)


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
        match = STREAM_PATH.match(scope["path"])
        if match:
            return await asgi_stream(scope, receive, send, match["slug"])
    return await django_application(scope, receive, send)
