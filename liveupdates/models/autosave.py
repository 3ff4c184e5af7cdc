from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _oldest_kept(now):
    return (now or timezone.now()) - timedelta(days=settings.NEWSROOM_AUTOSAVE_DAYS)


class AutosaveQuerySet(models.QuerySet):
    def expired(self, *, now=None):
        """Boxes left untouched for NEWSROOM_AUTOSAVE_DAYS days: never offered back, deleted by `manage.py expire_autosaves`.

        Words typed and abandoned are not kept for ever; a box someone is still
        typing in is rewritten every few seconds and so never expires.
        """
        return self.filter(saved_at__lt=_oldest_kept(now))

    def kept(self, *, now=None):
        """The autosaves still offered back: those not expired()."""
        return self.filter(saved_at__gte=_oldest_kept(now))


class Autosave(models.Model):
    """What one person has typed and not yet saved: the compose box of a desk, or an open entry form.

    One row per person and box (`key`), overwritten every few seconds: never a
    revision, never public, never seen by anyone but its author. Its `saved_at`
    is also the heartbeat that tells colleagues "<name> is editing since 14:03"
    (`started_at`); a saved or discarded box deletes its row.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(
        _("box"), max_length=64, help_text=_("“post-12” for a desk's compose box, “entry-345” for an edit form.")
    )
    post = models.ForeignKey("liveupdates.LivePost", verbose_name=_("live post"), on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(
        "liveupdates.Entry", verbose_name=_("entry"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    headline = models.CharField(_("headline"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    loaded_version = models.PositiveIntegerField(_("version edited"), null=True, blank=True)
    started_at = models.DateTimeField(_("editing since"))
    saved_at = models.DateTimeField(_("saved at"))

    objects = AutosaveQuerySet.as_manager()

    class Meta:
        verbose_name = _("autosave")
        verbose_name_plural = _("autosaves")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_autosave_per_user_and_box")]
        indexes = [models.Index(fields=["post", "saved_at"], name="autosave_presence_idx")]

    def __str__(self):
        return f"{self.key} by {self.user_id}"
