from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Column(models.Model):
    """A recurring series of live posts, e.g. "Putin in Syria"."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_(
            "Active columns are still running and are listed in the site's navigation. "
            "An inactive column is an archive: its posts stay public."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("column")
        verbose_name_plural = _("columns")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("liveupdates:column", kwargs={"slug": self.slug})
