"""A card: the newsroom's own archived copy of a post, video or article an entry cites.

An entry's text places a card with a placeholder (`<figure data-card="12">`,
liveupdates.richtext); readers get our HTML and our re-encoded image, never the
network's script, cookie or request before they click. The copy is kept when
the original disappears ("archived at 14:05", with the link). A card belongs to
the one entry that places it, so it is public exactly when that entry is:
`CardQuerySet.public()` follows `Entry.objects.published()`, and a withdrawal
takes the card off every surface with the entry.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from liveupdates import links, richtext
from liveupdates.models.entries import Entry
from liveupdates.models.verification import Verifiable


class ArchiveStorage(FileSystemStorage):
    """NEWSROOM_ARCHIVE_ROOT, read on each use (tests move it)."""

    @property
    def base_location(self):
        return settings.NEWSROOM_ARCHIVE_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def archive_storage():
    """The cards' images live outside MEDIA_ROOT: only the card view (public entries only) serves them."""
    return ArchiveStorage()


class Provider(models.TextChoices):
    YOUTUBE = links.Provider.YOUTUBE, "YouTube"
    X = links.Provider.X, "X (Twitter)"
    TELEGRAM = links.Provider.TELEGRAM, "Telegram"
    INSTAGRAM = links.Provider.INSTAGRAM, "Instagram"
    FACEBOOK = links.Provider.FACEBOOK, "Facebook"
    TIKTOK = links.Provider.TIKTOK, "TikTok"
    VIMEO = links.Provider.VIMEO, "Vimeo"
    BLUESKY = links.Provider.BLUESKY, "Bluesky"
    MASTODON = links.Provider.MASTODON, "Mastodon"
    ARTICLE = links.Provider.ARTICLE, _("Web page")


class CardQuerySet(models.QuerySet):
    def public(self, now=None):
        """Cards readers may see: those placed by a public entry (Entry.objects.published())."""
        return self.filter(entry__in=Entry.objects.published(now).values("pk"))


class Card(Verifiable):
    provider = models.CharField(_("network"), max_length=20, choices=Provider, default=Provider.ARTICLE)
    url = models.URLField(_("original address"), max_length=2000, help_text=_("The post's own address, as cited."))
    canonical_id = models.CharField(_("id on the network"), max_length=300, blank=True, editable=False)
    is_video = models.BooleanField(_("video"), default=False)
    title = models.CharField(_("title"), max_length=300, blank=True)
    author_name = models.CharField(_("author's name"), max_length=200, blank=True)
    author_handle = models.CharField(_("author's handle"), max_length=200, blank=True, help_text=_("e.g. @SMARTNewsAgency"))
    author_url = models.URLField(_("author's page"), max_length=2000, blank=True)
    text = models.TextField(_("the post's text"), max_length=5000, blank=True, help_text=_("Plain text, as posted."))
    published_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    image = models.FileField(_("image or video poster"), storage=archive_storage, upload_to="cards/", blank=True)
    image_alt = models.CharField(_("image description"), max_length=300, blank=True)
    archived_at = models.DateTimeField(
        _("archived at"), null=True, blank=True, help_text=_("When the newsroom fetched its copy; empty if written by hand.")
    )
    fetch_error = models.CharField(_("why the fetch failed"), max_length=500, blank=True, editable=False)
    entry = models.ForeignKey(
        "liveupdates.Entry",
        verbose_name=_("entry"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="cards",
        help_text=_("The entry whose text places this card; set when the entry is saved."),
    )
    source = models.ForeignKey(
        "liveupdates.Source",
        verbose_name=_("source"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cards",
        help_text=_("The cited source this post comes from (suggested from its account or site)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CardQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("card")
        verbose_name_plural = _("cards")

    def __str__(self):
        who = self.author_name or self.get_provider_display()
        return f"{who}: {self.title or self.text[:60] or self.url}"

    @property
    def public_url(self):
        return richtext.web_url(self.url)

    @property
    def public_author_url(self):
        return richtext.web_url(self.author_url)

    @property
    def youtube_id(self):
        return self.canonical_id if self.provider == Provider.YOUTUBE else ""

    def image_url(self):
        if not self.image:
            return ""
        return reverse("liveupdates:card_image", kwargs={"pk": self.pk, "stamp": int(self.updated_at.timestamp())})
