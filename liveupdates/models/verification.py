"""What the newsroom says it has verified about an entry or a card, shown to readers.

Set only by liveupdates.editorial.workflow.set_verification (editors), recorded
in the entry's history; never editable in a form.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Verification(models.TextChoices):
    NONE = "", _("Not assessed")
    UNVERIFIED = "unverified", _("Not independently verified")
    VERIFIED = "verified", _("Verified")
    DISPUTED = "disputed", _("Disputed")


class VerificationMethod(models.TextChoices):
    NONE = "", _("—")
    GEOLOCATED = "geolocated", _("geolocated by our team")
    CONFIRMED = "confirmed", _("confirmed by a named source")
    FIRST_HAND = "first_hand", _("seen first-hand by our reporter")


class Verifiable(models.Model):
    """The verification fields an entry and a card share (state, how, a public note, who and when)."""

    verification = models.CharField(
        _("verification"), max_length=20, choices=Verification, default=Verification.NONE, blank=True, editable=False
    )
    verification_method = models.CharField(
        _("verified how"), max_length=20, choices=VerificationMethod, default=VerificationMethod.NONE, blank=True, editable=False
    )
    verification_note = models.CharField(
        _("verification note for readers"),
        max_length=300,
        blank=True,
        editable=False,
        help_text=_("Plain text readers see with the label, e.g. 'Confirmed by the Syrian Civil Defence'."),
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verification set by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verification set at"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def verification_label(self):
        """The short label readers see ("Verified: geolocated by our team"), or "" when not assessed."""
        if not self.verification:
            return ""
        label = str(Verification(self.verification).label)
        if self.verification == Verification.VERIFIED and self.verification_method:
            return f"{label}: {VerificationMethod(self.verification_method).label}"
        return label
