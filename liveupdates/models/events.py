from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liveupdates.models.entries import EntryStatus
from liveupdates.models.posts import PostStatus


def status_label(value):
    """An entry's or post's stored status ("in_review") as people read it ("in review")."""

    for choices in (EntryStatus, PostStatus):
        if value in choices.values:
            return str(choices(value).label).lower()
    return value


class WorkflowEvent(models.Model):
    """One change of editorial state: who did what to which entry or post, and when.

    Written only by liveupdates.editorial.workflow; never edited.
    """

    entry = models.ForeignKey(
        "liveupdates.Entry",
        verbose_name=_("entry"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
    )
    post = models.ForeignKey(
        "liveupdates.LivePost",
        verbose_name=_("live post"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
    )
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("workflow event")
        verbose_name_plural = _("workflow events")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(entry__isnull=False, post__isnull=True) | models.Q(entry__isnull=True, post__isnull=False),
                name="workflow_event_concerns_an_entry_or_a_post",
            ),
        ]

    def __str__(self):
        subject = f"entry {self.entry_id}" if self.entry_id else f"post {self.post_id}"
        return f"{self.action} {subject} by {self.actor or '-'} at {self.at:%Y-%m-%d %H:%M}"
