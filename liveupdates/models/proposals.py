from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from liveupdates import richtext


class ProposalStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for an editor")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn by its author")
    # Closed without a decision: a newer proposal replaced it, or the entry was withdrawn.
    SUPERSEDED = "superseded", _("Closed")


class EditProposalQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=ProposalStatus.WAITING)

    def returned_to(self, user):
        """Refusals `user` has not put away yet, on entries still published: "Returned to you"."""
        return self.filter(author=user, status=ProposalStatus.REFUSED, acknowledged_at__isnull=True, entry__status="published")


class EditProposal(models.Model):
    """A journalist's proposed change to their own published entry (Wagtail's "live with unpublished changes").

    Readers keep the entry's words until an editor approves; the proposal is
    never public. Written only by liveupdates.editorial.workflow (propose_edit,
    approve_edit, refuse_edit, withdraw_proposal, and withdraw, which closes
    the waiting one). Headline and text only: bylines, places, sources and tags
    stay the editor's to change.
    """

    entry = models.ForeignKey("liveupdates.Entry", verbose_name=_("entry"), on_delete=models.CASCADE, related_name="proposals")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.CASCADE, related_name="+"
    )
    headline = models.CharField(_("proposed headline"), max_length=200, blank=True)
    body = richtext.RichTextField(_("proposed text"))
    # The entry's version the journalist started from: approving after anyone else changed
    # the entry would silently undo their change, so it is refused (workflow.approve_edit).
    base_version = models.PositiveIntegerField(_("version proposed against"), editable=False)
    status = models.CharField(_("status"), max_length=20, choices=ProposalStatus, default=ProposalStatus.WAITING, editable=False)
    editor_note = models.TextField(_("note from the editor"), blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    # The author read the refusal and put it away: it leaves "Returned to you".
    acknowledged_at = models.DateTimeField(_("put away by its author at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)

    objects = EditProposalQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("proposed edit")
        verbose_name_plural = _("proposed edits")
        constraints = [
            # One waiting proposal per entry (only its author may propose, so per author too):
            # two would each go stale the moment the other was approved.
            models.UniqueConstraint(fields=["entry"], condition=Q(status="waiting"), name="one_waiting_proposal_per_entry"),
            models.CheckConstraint(
                condition=Q(status__in=["waiting"]) | Q(decided_at__isnull=False),
                name="a_closed_proposal_has_its_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="proposal_queue_idx")]

    def __str__(self):
        return str(_("Proposed edit of “%(entry)s”")) % {"entry": self.headline or self.entry_id}
