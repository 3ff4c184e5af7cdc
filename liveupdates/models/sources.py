from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from liveupdates import richtext


class SourceKind(models.TextChoices):
    NEWS_AGENCY = "news_agency", _("News agency")
    ACTIVIST_NETWORK = "activist_network", _("Activist network")
    THINK_TANK = "think_tank", _("Think tank")
    NEWSPAPER = "newspaper", _("Newspaper")
    NEWS_SITE = "news_site", _("News site")
    BROADCASTER = "broadcaster", _("Broadcaster")
    OFFICIAL = "official", _("Government or military")
    NGO = "ngo", _("NGO or research group")
    OTHER = "other", _("Other")


class Source(models.Model):
    """An organisation an entry cites: an agency, a network of activists, a paper."""

    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("slug"), max_length=160, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=SourceKind, default=SourceKind.OTHER)
    homepage = models.URLField(_("homepage"), blank=True)
    description = models.CharField(
        _("description"),
        max_length=300,
        blank=True,
        help_text=_("One line readers see, e.g. 'pro-opposition news network based in Daraa'."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self):
        return self.name

    @property
    def public_homepage(self):
        return richtext.web_url(self.homepage)

    def get_absolute_url(self):
        return reverse("liveupdates:source", kwargs={"slug": self.slug})
