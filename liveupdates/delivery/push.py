"""Web Push alerts: a reader's browser asks to be told of a live post's new entries, or of its key events only.

The path, as calls you can follow:

    live.announce_entry        an entry became public (add), or a public entry is a key event
      -> push.queue(entry_id, reasons)          registered on the announcement's commit
      -> the push thread (one per process; at once when NEWSROOM_PUSH_IN_BACKGROUND is off)
      -> send(entry_id, reason)                 re-reads the entry from Entry.objects.published():
                                                 withdrawn, scheduled or hidden since, nothing is sent;
                                                 claims (entry, reason) in PushSent, so each alert
                                                 goes once whichever process gets there first;
                                                 then each subscription, at most NEWSROOM_PUSH_RATE
                                                 a second, re-checking the entry every batch.

Nothing is sent from the publishing request, and nothing but what readers may see is
ever in a payload: the post's headline, the entry's headline (or its first words) and
its address. Payloads are encrypted for each browser (RFC 8291, aes128gcm) and signed
with our own VAPID key (pywebpush, py-vapid); no third-party SDK is involved.

A push service that answers 404 or 410 has forgotten the subscription: it is deleted.
Endpoints are only ever those of known push services (NEWSROOM_PUSH_SERVICES), checked
when a reader subscribes and again before each send, so a forged endpoint can never
make this server fetch an address of someone else's choosing.
"""

import base64
import json
import logging
import queue
import threading
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction

from liveupdates.delivery.structured import absolute
from liveupdates.models import Entry, PushSent, PushSubscription
from liveupdates.richtext import excerpt

logger = logging.getLogger(__name__)

ENTRY, KEY_EVENT = PushSent.Reason.ENTRY, PushSent.Reason.KEY_EVENT
BATCH = 20  # sends between two checks that the entry is still public
TTL = 60 * 60  # seconds a push service keeps an alert for a browser that is offline

_queue: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


# --- Keys ---------------------------------------------------------------------------------


def _vapid():
    from py_vapid import Vapid  # loaded only where alerts are sent or the key is shown

    path = settings.NEWSROOM_VAPID_PRIVATE_KEY_FILE
    if not path or not Path(path).exists():
        return None
    return Vapid.from_file(str(path))


_public_keys: dict[str, str] = {}


def public_key():
    """Our VAPID public key (base64url, uncompressed point) for the browser's applicationServerKey; "" if none."""
    path = str(settings.NEWSROOM_VAPID_PRIVATE_KEY_FILE or "")
    if path not in _public_keys:
        vapid = _vapid()
        if vapid is None:
            return ""
        from cryptography.hazmat.primitives import serialization

        raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        _public_keys[path] = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return _public_keys[path]


# --- Which endpoints we will ever call --------------------------------------------------


def allowed_endpoint(url):
    """Whether `url` is a push service we send to: https on a listed host (or a subdomain of one)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or parts.username or parts.password:
        return False
    for service in settings.NEWSROOM_PUSH_SERVICES:
        scheme, _, name = service.rpartition("://")
        if (parts.scheme == (scheme or "https")) and (host == name or host.endswith("." + name.lstrip("."))):
            return True
    return False


# --- Queueing (after the announcement commits) --------------------------------------------


def queue_alerts(entry, kind):
    """Called by live.announce_entry inside its transaction: alerts for `entry` go once it commits."""
    if not settings.NEWSROOM_VAPID_PRIVATE_KEY_FILE:
        return  # alerts are not set up here
    reasons = []
    if kind == "add":
        reasons.append(ENTRY)
    if entry.is_key_event and entry.key_event_alert:
        reasons.append(KEY_EVENT)
    for reason in reasons:
        transaction.on_commit(partial(soon, entry.pk, reason))


def soon(entry_id, reason):
    if not settings.NEWSROOM_PUSH_IN_BACKGROUND:
        send(entry_id, reason)
        return
    with _thread_lock:
        global _thread
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_work, name="push-sender", daemon=True)
            _thread.start()
    _queue.put((entry_id, reason))


def _work():
    while True:
        entry_id, reason = _queue.get()
        close_old_connections()
        send(entry_id, reason)


# --- Sending ---------------------------------------------------------------------------------


def _public(entry_id):
    return Entry.objects.published().select_related("post").filter(pk=entry_id).first()


def payload(entry):
    """What an alert says: only what the public page shows."""
    return {
        "title": entry.post.headline,
        "body": entry.headline or excerpt(entry.body, 24),
        "url": absolute(entry.get_absolute_url()),
        "tag": f"entry-{entry.pk}",
        "key_event": entry.is_key_event,
    }


class _Rate:
    """At most `per_second` sends a second from this process."""

    def __init__(self, per_second):
        self.gap, self.next_at = 1.0 / max(per_second, 1), time.monotonic()

    def wait(self):
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.gap


def send(entry_id, reason):
    """Send the alert for `entry_id` (`reason`: a new entry, or a key event) to its post's subscribers; returns how many.

    Never raises: an alert is a courtesy, and a failure here must not reach the editor.
    """
    try:
        return _send(entry_id, reason)
    except Exception:
        logger.exception("push alerts for entry %s (%s) failed", entry_id, reason)
        return 0


def _send(entry_id, reason):
    from pywebpush import WebPushException, webpush

    entry = _public(entry_id)
    if entry is None or (reason == KEY_EVENT and not (entry.is_key_event and entry.key_event_alert)):
        return 0
    vapid = _vapid()
    if vapid is None:
        logger.warning("no VAPID key (NEWSROOM_VAPID_PRIVATE_KEY_FILE): push alerts are not sent")
        return 0
    try:
        with transaction.atomic():
            PushSent.objects.create(entry_id=entry_id, reason=reason)
    except IntegrityError:
        return 0  # another process (or an earlier announcement) sent it
    subscriptions = PushSubscription.objects.filter(post_id=entry.post_id, key_events_only=(reason == KEY_EVENT))
    rate, sent = _Rate(settings.NEWSROOM_PUSH_RATE), 0
    data = json.dumps(payload(entry), ensure_ascii=False)
    claims = {"sub": settings.NEWSROOM_PUSH_CONTACT}
    for n, subscription in enumerate(subscriptions.iterator(chunk_size=200)):
        if n and n % BATCH == 0 and _public(entry_id) is None:
            logger.info("entry %s is no longer public: its alerts stop after %s", entry_id, sent)
            return sent
        if not allowed_endpoint(subscription.endpoint):
            subscription.delete()
            continue
        rate.wait()
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        try:
            webpush(info, data, vapid_private_key=vapid, vapid_claims=dict(claims), ttl=TTL, timeout=5)
            sent += 1
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in (404, 410):
                subscription.delete()  # the push service has forgotten this browser
            else:
                logger.warning("push to %s failed: %s", urlsplit(subscription.endpoint).hostname, status or error)
        except Exception as error:  # a network failure to one service must not stop the rest
            logger.warning("push to %s failed: %s", urlsplit(subscription.endpoint).hostname, error)
    return sent
