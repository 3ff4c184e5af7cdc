from django.conf import settings
from django.db import models, transaction
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

from liveupdates import images, richtext
from liveupdates.models.posts import public_post_q
from liveupdates.models.verification import Verifiable


class EntryStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


def shown_citations():
    """An entry's citations as every view of it shows them: each with its source and the source it cites."""
    return Prefetch("citations", queryset=Citation.objects.select_related("source", "citing"))


class EntryQuerySet(models.QuerySet):
    def published(self, now=None):
        """Entries readers may see: the one definition, used by every public surface.

        An entry is public once it is published, its published_at has come (an
        entry published for a later time is scheduled and stays hidden until
        then), and its live post is itself public. Entry.is_public mirrors this.
        """
        now = now or timezone.now()
        return self.filter(public_post_q(now, prefix="post__"), status=EntryStatus.PUBLISHED, published_at__lte=now)

    def approved(self):
        """Published, whether or not its time or its post's has come: what a staff preview of a post shows."""
        return self.filter(status=EntryStatus.PUBLISHED)

    def scheduled(self, now=None):
        """Published for a time that has not come yet."""
        now = now or timezone.now()
        return self.filter(status=EntryStatus.PUBLISHED, published_at__gt=now)

    def in_review(self):
        return self.filter(status=EntryStatus.IN_REVIEW)

    def for_post(self, post):
        return self.filter(post=post)

    # Subjects are matched through a subquery, so an entry with two matching
    # places (or cited twice) is listed once, without DISTINCT.
    def in_place(self, place):
        """Entries naming `place` or any place inside it (Aleppo includes its neighbourhoods)."""
        return self.filter(pk__in=Entry.objects.filter(places__path__startswith=place.path).values("pk"))

    def citing(self, source):
        """Entries citing `source`, directly or through another source ("NOW Lebanon, citing Alaraby Aljadeed")."""
        cited = Q(citations__source=source) | Q(citations__citing=source)
        return self.filter(pk__in=Entry.objects.filter(cited).values("pk"))

    def by_author(self, author):
        return self.filter(pk__in=Entry.objects.filter(authors=author).values("pk"))

    def tagged(self, tag):
        return self.filter(pk__in=Entry.objects.filter(tags=tag).values("pk"))

    def on_page(self, now=None):
        """What a live page lists: public entries, and the removal notes editors left for withdrawn ones.

        A removal note only stands where readers saw the entry (it was announced),
        and it shows the note, never the withdrawn words.
        """
        now = now or timezone.now()
        removed_with_note = self.filter(
            public_post_q(now, prefix="post__"),
            status=EntryStatus.WITHDRAWN,
            announced_at__isnull=False,
        ).exclude(removal_note="")
        return self.published(now) | removed_with_note

    def newest_first(self):
        # pk breaks ties: two entries published in the same second keep one order.
        return self.order_by("-published_at", "-pk")

    def for_desk(self):
        """The desk's rows (admin/liveupdates/_desk_entry.html): what a row shows, who wrote it, and whether an edit of it waits for an editor.

        Less than for_display: a row shows no tags and no corrections, and every open
        desk reads the rows that changed at each poll (every second), so it reads neither.
        """
        from liveupdates.models.proposals import EditProposal, ProposalStatus

        waiting = EditProposal.objects.filter(entry=models.OuterRef("pk"), status=ProposalStatus.WAITING)
        return (
            self.select_related("post", "post__column", "created_by")
            .prefetch_related(
                "authors",
                "places",
                shown_citations(),
                "cards",
                "cards__source",
            )
            .annotate(edit_waiting=models.Exists(waiting))
        )

    def for_display(self):
        """Everything an entry fragment shows, in a fixed number of queries."""
        return self.select_related("post", "post__column").prefetch_related(
            "authors",
            "places",
            shown_citations(),
            "tags",
            "corrections",
            "cards",
            "cards__source",
        )


class Entry(Verifiable):  # type: ignore[django-manager-missing]  # taggit's TaggedItemBase hides the reverse manager
    """One timestamped update in a live post."""

    post = models.ForeignKey(
        "liveupdates.LivePost", verbose_name=_("live post"), on_delete=models.PROTECT, related_name="entries"
    )
    headline = models.CharField(
        _("headline"),
        max_length=200,
        blank=True,
        help_text=_("Optional. A few words readers scan for; leave empty for a short update."),
    )
    body = richtext.RichTextField(_("text"), validators=[richtext.validate_body_length])
    authors = models.ManyToManyField(
        "liveupdates.Author",
        verbose_name=_("authors"),
        blank=True,
        related_name="entries",
        help_text=_("Leave empty for an unsigned or agency item."),
    )
    places = models.ManyToManyField("liveupdates.Place", verbose_name=_("places"), blank=True, related_name="entries")
    sources = models.ManyToManyField(
        "liveupdates.Source",
        verbose_name=_("sources"),
        through="Citation",
        through_fields=("entry", "source"),
        blank=True,
        related_name="entries",
    )
    tags = TaggableManager(verbose_name=_("tags"), blank=True, through="liveupdates.TaggedEntry")

    # Editorial state: changed only through liveupdates.editorial.workflow, never in a form.
    status = models.CharField(_("status"), max_length=20, choices=EntryStatus, default=EntryStatus.DRAFT, editable=False)
    published_at = models.DateTimeField(
        _("published at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The time readers see. A time in the future schedules the entry."),
    )
    is_key_event = models.BooleanField(_("key event"), default=False, editable=False)
    # Set with the key event by workflow.set_key_event: readers who asked for alerts on key events get one.
    key_event_alert = models.BooleanField(_("alert for this key event"), default=False, editable=False)
    is_pinned = models.BooleanField(_("pinned"), default=False, editable=False)
    review_note = models.TextField(_("note from the editor"), blank=True, editable=False)
    # Public record of change: set when a published entry's words change (an edit,
    # a correction, a restored revision). Readers see "Updated" and search engines
    # dateModified; pinning or marking a key event does not count.
    revised_at = models.DateTimeField(_("revised for readers at"), null=True, blank=True, editable=False)
    removal_note = models.TextField(
        _("public note on removal"),
        blank=True,
        editable=False,
        help_text=_("Shown to readers in place of a withdrawn entry, if the editor chose to leave one."),
    )
    # Optimistic locking: every content save moves it; a save based on an older
    # version is refused (liveupdates.editorial.forms.EntryAdminForm), never silently lost.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # When the live stream told readers this entry exists: set once, by the one
    # process that wins the compare-and-set in liveupdates.delivery.live.announce_due.
    announced_at = models.DateTimeField(_("announced to live readers at"), null=True, blank=True, editable=False)
    # Set in the same transaction as any change readers may see (liveupdates.editorial.workflow);
    # cleared by liveupdates.delivery.live.announce once the live log says what readers must now
    # see. A change committed while its announcement failed (the process died, a
    # render broke) stays flagged, and every stream process's once-a-second sweep retries it.
    live_pending = models.BooleanField(_("waiting to be announced"), default=False, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The desk's compose box names each entry it sends (a random token kept across retries), so a
    # save resent after its answer was lost (a 502, a dropped connection) finds the entry it made.
    compose_token = models.CharField(max_length=36, blank=True, default="", editable=False)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        permissions = [
            ("publish_entry", _("Can publish, schedule, withdraw, pin and mark key events")),
            ("review_entry", _("Can edit others' entries and return them to their author")),
        ]
        indexes = [
            models.Index(fields=["post", "status", "-published_at", "-id"], name="entry_post_stream_idx"),
            models.Index(fields=["status", "-published_at", "-id"], name="entry_public_idx"),
            models.Index(fields=["status", "created_at"], name="entry_queue_idx"),
            # A live page lists published entries and removal notes, newest first: one ordered index scan.
            models.Index(
                fields=["post", "-published_at", "-id"],
                condition=Q(status__in=["published", "withdrawn"]),
                name="entry_post_page_idx",
            ),
            # The key events panel: a few rows among 100,000 must not mean reading them all.
            models.Index(
                fields=["post", "-published_at", "-id"],
                condition=Q(is_key_event=True, status="published"),
                name="entry_key_events_idx",
            ),
            models.Index(
                fields=["published_at"], condition=Q(announced_at__isnull=True, status="published"), name="entry_unannounced_idx"
            ),
            models.Index(fields=["post"], condition=Q(live_pending=True), name="entry_live_pending_idx"),
            # The admin lists every entry (of a post, or all), newest first, 50 at a time: without
            # these PostgreSQL sorted all 100,000 rows of a post for each page (166 ms).
            models.Index(fields=["post", "-published_at", "-id"], name="entry_post_admin_idx"),
            models.Index(fields=["-published_at", "-id"], name="entry_admin_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[EntryStatus.DRAFT, EntryStatus.IN_REVIEW]) | Q(published_at__isnull=False),
                name="published_entry_has_published_at",
            ),
            models.UniqueConstraint(
                fields=["created_by", "compose_token"],
                condition=~Q(compose_token=""),
                name="one_entry_per_compose_token",
            ),
            models.UniqueConstraint(
                fields=["post"],
                condition=Q(is_pinned=True),
                name="one_pinned_entry_per_post",
                violation_error_message=_("A live post has one pinned entry at most."),
            ),
        ]

    def __str__(self):
        return self.headline or richtext.excerpt(self.body, words=10) or f"#{self.pk}"

    def save(self, *args, **kwargs):
        """Save what the entry says; never its editorial state.

        A form or a script holds an instance loaded a moment ago. If an editor
        withdrew the entry meanwhile, writing the whole row back would publish
        it again while the audit log says withdrawn. So an existing entry's
        save writes only its content; the workflow's conditional UPDATEs own
        the state (and the optimistic lock owns `version`).
        """
        if (
            self.pk is not None
            and not self._state.adding
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            kwargs["update_fields"] = CONTENT_FIELDS
        new = self._state.adding
        # The words and the photos they place commit together (no savepoint inside a transaction).
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            fields = kwargs.get("update_fields")
            if fields is None or "body" in fields:
                self.record_photos(new=new)

    def record_photos(self, *, new=False):
        """Write down which uploaded photos the body places (EntryPhoto), as it is now.

        The files of an uploaded photo are served only while a public entry places it
        (site/photos.py), so every write of `body` calls this in its transaction: save()
        does, and so do the workflow's UPDATEs that write words (restore, approve an edit,
        a card taken out). A new entry without photos costs nothing. Called after the row's
        UPDATE: the row lock it holds orders two saves of one entry, so the later text's
        photos are the ones that stay recorded.
        """
        placed = images.upload_ids(self.body)
        if not new:
            EntryPhoto.objects.filter(entry=self).exclude(photo__in=placed).delete()
        if placed:
            EntryPhoto.objects.bulk_create([EntryPhoto(entry=self, photo=photo) for photo in placed], ignore_conflicts=True)

    def get_absolute_url(self):
        return reverse("liveupdates:entry", kwargs={"post_slug": self.post.slug, "pk": self.pk})

    @property
    def publication_time(self):
        """When an editor published it for (now or a time to come), whatever its post's state; else None."""
        return self.published_at if self.status == EntryStatus.PUBLISHED else None

    @property
    def is_published(self):
        return self.publication_time is not None

    @property
    def is_public(self):
        at = self.publication_time
        return at is not None and at <= timezone.now() and self.post.is_public

    @property
    def is_scheduled(self):
        at = self.publication_time
        return at is not None and at > timezone.now()

    @property
    def excerpt(self):
        return richtext.excerpt(self.body)

    @property
    def cited_sources(self):
        """Each source the entry cites, once, in the order first cited (two reports of one agency are one name on a desk row)."""
        return list({citation.source_id: citation.source for citation in self.citations.all()}.values())

    @property
    def is_removed_with_note(self):
        return self.status == EntryStatus.WITHDRAWN and bool(self.removal_note)

    @property
    def modified_at(self):
        """dateModified for readers and search engines: the last change to the words, else publication."""
        return max(filter(None, [self.published_at, self.revised_at]), default=None)


# What Entry.save() writes for an existing entry: its words and who last changed them.
CONTENT_FIELDS = ["post", "headline", "body", "updated_by", "updated_at"]


class CorrectionKind(models.TextChoices):
    CORRECTION = "correction", _("Correction")
    UPDATE = "update", _("Update")


class Correction(models.Model):
    """A note an editor attaches to a published entry, shown to readers with its time.

    Corrections are never edited or deleted: a wrong correction is corrected by another.
    """

    entry = models.ForeignKey(Entry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(_("kind"), max_length=20, choices=CorrectionKind, default=CorrectionKind.CORRECTION)
    text = models.TextField(_("text"), max_length=1000, help_text=_("Plain text: what was wrong and what is right now."))
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"


class EntryPhotoQuerySet(models.QuerySet):
    def public(self, now=None):
        """Photos readers may see: those a public entry places (Entry.objects.published())."""
        return self.filter(entry__in=Entry.objects.published(now).values("pk"))


class EntryPhoto(models.Model):
    """An uploaded photo (its id, images.upload_id) that an entry's body places; written by Entry.record_photos."""

    objects = EntryPhotoQuerySet.as_manager()

    entry = models.ForeignKey(Entry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="photos")
    photo = models.CharField(_("photo"), max_length=images.PHOTO_ID_MAX)

    class Meta:
        verbose_name = _("photo in an entry")
        verbose_name_plural = _("photos in entries")
        constraints = [models.UniqueConstraint(fields=["photo", "entry"], name="entry_photo_unique")]

    def __str__(self):
        return self.photo


class Citation(models.Model):
    """An entry cites a source, optionally with the exact page it cites."""

    entry = models.ForeignKey(Entry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="citations")
    source = models.ForeignKey("liveupdates.Source", verbose_name=_("source"), on_delete=models.PROTECT, related_name="citations")
    url = models.URLField(_("cited URL"), blank=True, help_text=_("The specific report, video or post cited, if any."))
    citing = models.ForeignKey(
        "liveupdates.Source",
        verbose_name=_("which itself cites"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cited_through",
        help_text=_("When the source reports what another source said: NOW Lebanon, citing Alaraby Aljadeed."),
    )

    @property
    def public_url(self):
        """The cited address if it is a web address; anything else (a javascript: URL slipped past a form) is never a link."""
        return richtext.web_url(self.url)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        constraints = [
            models.UniqueConstraint(fields=["entry", "source", "url"], name="citation_unique_per_entry"),
        ]

    def __str__(self):
        return str(self.source)
