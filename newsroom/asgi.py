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

from django.urls import Resolver404, resolve  # noqa: E402  (needs the apps loaded above)

from liveupdates.delivery.stream import asgi_stream  # noqa: E402


def _stream_slug(path):
    """The post slug if `path` is a live stream, by the one URL pattern that names it (liveupdates:post_stream)."""
    if not path.endswith("/stream/"):
        return None  # most requests: no need to ask the resolver
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.kwargs["slug"] if match.view_name == "liveupdates:post_stream" else None


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
        slug = _stream_slug(scope["path"])
        if slug is not None:
            return await asgi_stream(scope, receive, send, slug)
    return await django_application(scope, receive, send)
