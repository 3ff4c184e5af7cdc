from django.db import models
from django.utils.translation import gettext_lazy as _


class PushSubscription(models.Model):
    """A reader's browser asking for Web Push alerts about one live post (delivery/push.py sends them).

    Nothing here names a person: the endpoint and keys are what the browser's push
    service gave it. A subscription the push service refuses (404, 410) is deleted.
    """

    post = models.ForeignKey(
        "liveupdates.LivePost", verbose_name=_("live post"), on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(_("push endpoint"), max_length=1000)
    p256dh = models.CharField(_("public key"), max_length=200)
    auth = models.CharField(_("auth secret"), max_length=100)
    key_events_only = models.BooleanField(_("key events only"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        constraints = [models.UniqueConstraint(fields=["post", "endpoint"], name="push_subscription_once_per_post")]
        indexes = [models.Index(fields=["post", "key_events_only"], name="push_subscription_post_idx")]

    def __str__(self):
        return f"push for post {self.post_id} ({'key events' if self.key_events_only else 'every entry'})"


class PushSent(models.Model):
    """An alert sent (or being sent) for an entry: each entry alerts each kind of subscriber once, from any process."""

    class Reason(models.TextChoices):
        ENTRY = "entry", _("a new entry")
        KEY_EVENT = "key", _("a key event")

    entry = models.ForeignKey("liveupdates.Entry", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=10, choices=Reason)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("push alert sent")
        verbose_name_plural = _("push alerts sent")
        constraints = [models.UniqueConstraint(fields=["entry", "reason"], name="push_sent_once")]

    def __str__(self):
        return f"alert for entry {self.entry_id} ({self.reason})"
