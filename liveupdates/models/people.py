from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from liveupdates.images import PhotoField


class Author(models.Model):
    """A byline. Not every author has an account (a stringer, an agency)."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    bio = models.TextField(_("short bio"), blank=True, max_length=600)
    photo = PhotoField(_("photo"), upload_to="authors/", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="author",
        help_text=_("Link the byline to a staff account so new entries by that person are signed automatically."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("liveupdates:author", kwargs={"slug": self.slug})
