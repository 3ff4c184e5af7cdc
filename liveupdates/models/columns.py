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

    # Moved in the same transaction as every change to one of the column's posts that a live
    # page's links to its neighbours show (a post published or unpublished, its headline,
    # address or start time changed, a post moved in or out or deleted: models.posts.touch_columns).
    # A live page's frame is kept under this key (site/assembly.py), so no page links to a post
    # that is no longer public, while a frame costs no query to check.
    posts_changed_at = models.DateTimeField(_("posts last changed"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("column")
        verbose_name_plural = _("columns")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("liveupdates:column", kwargs={"slug": self.slug})
