"""Readers ask for push alerts about a live post, and stop them in one click (delivery/push.py sends them).

Why these endpoints are exempt from Django's CSRF check, and what protects them instead:
the live page is a public, cached page served without cookies (its copy is shared by
every reader through nginx and CDNs), so it cannot carry a per-reader CSRF token, and
these endpoints act on no session or account: there is no ambient authority for a
forged request to borrow. What a forged request could still do (subscribe a push
endpoint to a post, or drop one) is refused by checking, strictly, that the request
comes from our own page: the Origin header must be our own origin, and the body must be
JSON (a cross-site form cannot send it, and a cross-site fetch of JSON needs a CORS
preflight we never grant). The endpoint must belong to a known push service, so this
server is never made to call an address a client chose. A script can still forge our
Origin, so new subscriptions are also counted per client address (NEWSROOM_ALERT_SUBSCRIBES_PER_HOUR):
a flood of invented endpoints is refused instead of filling the table and the sending queue.
"""

import base64
import binascii
import json

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from liveupdates.delivery import push
from liveupdates.models import LivePost, PushSubscription
from newsroom.clientip import client_ip

MAX_BODY = 4096


def _origin_is_ours(request):
    origin = request.headers.get("Origin", "")
    ours = {f"{request.scheme}://{request.get_host()}", settings.SITE_URL}
    return bool(origin) and origin in ours


def _b64url_bytes(value, length):
    if not isinstance(value, str) or len(value) > 200:
        return False
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(raw) == length


def _refused(message, status=400):
    return JsonResponse({"error": message}, status=status)


def _read(request):
    """The JSON body, or an error response."""
    if not _origin_is_ours(request):
        return None, _refused(_("Alerts can only be set from this site's own pages."), status=403)
    if request.content_type != "application/json":
        return None, _refused(_("Send the subscription as JSON (Content-Type: application/json)."), status=415)
    if len(request.body) > MAX_BODY:
        return None, _refused(_("The subscription is too large."), status=413)
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        return None, _refused(_("The subscription is not valid JSON."))
    if not isinstance(data, dict):
        return None, _refused(_("The subscription must be a JSON object."))
    return data, None


def _too_many_new_subscriptions(request):
    """Count one new subscription for the sender's address; True once the hour's allowance is spent.

    Kept in the shared cache for an hour. If the cache is down the request is let
    through: an alert subscription names no reader and publishes nothing.
    """
    key = f"alerts:new:{client_ip(request)}"
    try:
        cache.add(key, 0, timeout=3600)
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr, or the cache dropped it
        return False
    return count is not None and count > settings.NEWSROOM_ALERT_SUBSCRIBES_PER_HOUR


@csrf_exempt  # see the module's docstring: Origin is checked strictly instead
@require_POST
def subscribe(request, slug):
    """POST {"subscription": PushSubscription.toJSON(), "key_events_only": bool}: alerts for this post."""
    post = get_object_or_404(LivePost.objects.published().only("pk"), slug=slug)
    data, refused = _read(request)
    if refused:
        return refused
    subscription = data.get("subscription") if isinstance(data.get("subscription"), dict) else {}
    endpoint = subscription.get("endpoint")
    keys = subscription.get("keys") if isinstance(subscription.get("keys"), dict) else {}
    if not isinstance(endpoint, str) or len(endpoint) > 1000 or not push.allowed_endpoint(endpoint):
        return _refused(_("This browser's push service is not one we send alerts through."))
    if not (_b64url_bytes(keys.get("p256dh"), 65) and _b64url_bytes(keys.get("auth"), 16)):
        return _refused(_("The subscription's keys are missing or malformed."))
    key_events_only = data.get("key_events_only") is True
    known = PushSubscription.objects.filter(post=post, endpoint=endpoint).exists()
    if not known and _too_many_new_subscriptions(request):
        return _refused(_("Too many alert requests from this address; try again in an hour."), status=429)
    PushSubscription.objects.update_or_create(
        post=post,
        endpoint=endpoint,
        defaults={"p256dh": keys["p256dh"], "auth": keys["auth"], "key_events_only": key_events_only},
    )
    return JsonResponse({"subscribed": True, "key_events_only": key_events_only}, status=201)


@csrf_exempt  # see the module's docstring
@require_POST
def unsubscribe(request, slug):
    """POST {"endpoint": ...}: no more alerts about this post for this browser. One click, nothing asked."""
    data, refused = _read(request)
    if refused:
        return refused
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or len(endpoint) > 1000:
        return _refused(_("Name the browser's push endpoint."))
    PushSubscription.objects.filter(post__slug=slug, endpoint=endpoint).delete()
    return JsonResponse({"subscribed": False})


@require_safe
def service_worker(request):
    """/sw.js: the service worker, from the site's root so its scope covers every live post."""
    response = HttpResponse(render_to_string("liveupdates/sw.js"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # browsers check for a new worker on every visit
    return response
