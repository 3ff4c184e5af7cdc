from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from liveupdates import richtext
from liveupdates.models.places import REVIEWED_HELP


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


class SourceQuerySet(models.QuerySet):
    def public(self):
        """Sources readers may look up: reviewed by an editor (as PlaceQuerySet.public)."""
        return self.filter(reviewed=True)


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
    reviewed = models.BooleanField(_("reviewed"), default=False, help_text=REVIEWED_HELP)

    objects = SourceQuerySet.as_manager()

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


def normalise_account(address):
    """An account or site as we compare them: no scheme, no www., no trailing slash, lower case.

    "https://www.youtube.com/@SMARTNewsAgency/videos" -> "youtube.com/@smartnewsagency";
    "https://nowlebanon.com/article/1" -> "nowlebanon.com/article" (a site is matched by its host).
    """
    value = (address or "").strip().lower()
    value = value.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    host, _sep, path = value.partition("/")
    host = host.removeprefix("www.").removeprefix("m.").removeprefix("mobile.")
    first = path.split("/", 1)[0]
    return f"{host}/{first}" if first else host


class SourceAccount(models.Model):
    """An account or site a source publishes on: a card from it suggests the source."""

    source = models.ForeignKey(Source, verbose_name=_("source"), on_delete=models.CASCADE, related_name="accounts")
    address = models.CharField(
        _("account or site"),
        max_length=300,
        unique=True,
        help_text=_("e.g. youtube.com/@SMARTNewsAgency, t.me/smartnews, x.com/Qasioun_News, or a site: nowlebanon.com"),
    )

    class Meta:
        ordering = ["address"]
        verbose_name = _("account or site")
        verbose_name_plural = _("accounts and sites")

    def __str__(self):
        return self.address

    def save(self, *args, **kwargs):
        self.address = normalise_account(self.address)
        super().save(*args, **kwargs)
