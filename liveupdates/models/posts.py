from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liveupdates import images
from liveupdates.images import PhotoField
from liveupdates.models.columns import Column
from liveupdates.richtext import plain_line

KNOWN_POINTS_MAX = 8
KNOWN_POINT_CHARS = 280


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


def public_post_q(now, prefix=""):
    """The one definition of a public post, as a condition: published, and its publication time has come.

    `prefix` reaches a post through a relation ("post__" from an entry).
    LivePost.published(), Entry.published() and Entry.on_page() use it;
    LivePost.is_public mirrors it on an instance.
    """
    return Q(**{f"{prefix}status": PostStatus.PUBLISHED, f"{prefix}published_at__lte": now})


def touch_columns(column_ids):
    """Move `Column.posts_changed_at` of these columns: pages linking to their posts are framed again.

    Called by LivePost.save(), the workflow's post actions and a post's deletion
    (connect()), inside the change's transaction.
    """
    Column.objects.filter(pk__in={pk for pk in column_ids if pk}).update(posts_changed_at=timezone.now())


def _touch_column_of_deleted(sender, instance, **kwargs):
    touch_columns([instance.column_id])


def connect():
    """A deleted post leaves its neighbours' pages: deletion reaches the column by the post_delete signal,
    which Django sends for an admin's bulk delete too."""
    models.signals.post_delete.connect(_touch_column_of_deleted, sender=LivePost, dispatch_uid="posts-column-deleted")


class LivePostQuerySet(models.QuerySet):
    def published(self, now=None):
        """Posts readers may see (public_post_q)."""
        return self.filter(public_post_q(now or timezone.now()))

    def live(self, now=None):
        """Public posts whose coverage has not ended."""
        now = now or timezone.now()
        return self.published(now).filter(Q(coverage_end__isnull=True) | Q(coverage_end__gt=now))

    def newest_first(self):
        return self.order_by("-coverage_start", "-pk")


class LivePost(models.Model):
    """One live page: a story or a day of coverage in a column."""

    column = models.ForeignKey("liveupdates.Column", verbose_name=_("column"), on_delete=models.PROTECT, related_name="posts")
    headline = models.CharField(_("headline"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    summary = models.TextField(
        _("summary"),
        blank=True,
        max_length=1000,
        help_text=_("The standfirst readers see under the headline; plain text, one or two sentences."),
    )
    what_we_know = models.TextField(
        _("what we know"),
        blank=True,
        max_length=2000,
        help_text=_(
            "The few facts readers need first, shown in a box at the top of the live post, on teasers and embeds: "
            "one point per line, plain text, at most 8 points of 280 characters."
        ),
    )
    lead_image = PhotoField(_("lead image"), upload_to="posts/%Y/%m/", blank=True)
    lead_image_alt = models.CharField(
        _("lead image alt text"),
        max_length=250,
        blank=True,
        help_text=_("What the image shows, for readers who cannot see it. Required with a lead image."),
    )
    lead_image_credit = models.CharField(_("lead image credit"), max_length=160, blank=True)
    coverage_start = models.DateTimeField(_("coverage starts"), default=timezone.now, db_index=True)
    coverage_end = models.DateTimeField(
        _("coverage ends"),
        null=True,
        blank=True,
        help_text=_("Leave empty while the story is live. Once this time passes, the page says coverage has ended."),
    )
    status = models.CharField(_("status"), max_length=20, choices=PostStatus, default=PostStatus.DRAFT, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
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

    objects = LivePostQuerySet.as_manager()

    class Meta:
        ordering = ["-coverage_start", "-pk"]
        verbose_name = _("live post")
        verbose_name_plural = _("live posts")
        permissions = [("publish_livepost", _("Can publish and unpublish live posts"))]
        indexes = [models.Index(fields=["column", "status", "-coverage_start"], name="post_column_public_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=PostStatus.PUBLISHED) | Q(published_at__isnull=False),
                name="published_post_has_published_at",
            ),
            models.CheckConstraint(
                condition=Q(coverage_end__isnull=True) | Q(coverage_end__gte=models.F("coverage_start")),
                name="post_coverage_ends_after_it_starts",
                violation_error_message=_("Coverage cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return self.headline

    def get_absolute_url(self):
        return reverse("liveupdates:post", kwargs={"slug": self.slug})

    def save(self, *args, **kwargs):
        """Save the post's settings; never its status (liveupdates.editorial.workflow owns it).

        An admin form or a restored revision holds an instance loaded before an
        editor may have unpublished the post: writing `status` back would make
        it public again.
        """
        columns = {self.column_id}
        if self.pk is not None and not self._state.adding:
            # The column it leaves, if it moves: that column's pages link to it too.
            columns.update(LivePost.objects.filter(pk=self.pk).values_list("column_id", flat=True))
            if kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
                kwargs["update_fields"] = [
                    field.attname
                    for field in self._meta.concrete_fields
                    if not field.primary_key and field.name not in ("status", "published_at", "created_by", "created_at")
                ]
        super().save(*args, **kwargs)
        touch_columns(columns)

    def clean(self):
        super().clean()
        lines = [line for line in (self.what_we_know or "").splitlines() if line.strip()]
        if len(lines) > KNOWN_POINTS_MAX:
            raise ValidationError({"what_we_know": _("Keep “What we know” to 8 points at most, one per line.")})
        if any(len(line.strip()) > KNOWN_POINT_CHARS for line in lines):
            raise ValidationError({"what_we_know": _("Keep each point of “What we know” under 280 characters.")})
        if self.lead_image and not self.lead_image_alt.strip():
            raise ValidationError({"lead_image_alt": _("Describe the lead image for readers who cannot see it.")})

    @property
    def is_public(self):
        return self.status == PostStatus.PUBLISHED and self.published_at is not None and self.published_at <= timezone.now()

    @property
    def known_points(self):
        """The "What we know" points as readers see them: plain lines, control characters removed (templates escape them)."""
        points = (plain_line(line) for line in (self.what_we_know or "").splitlines())
        return [point for point in points if point][:KNOWN_POINTS_MAX]

    @property
    def lead_image_url(self):
        return self.lead_image.url if self.lead_image else ""

    @property
    def lead_image_srcset(self):
        found = images.srcset(self.lead_image.url) if self.lead_image else None
        return found[0] if found else ""

    @property
    def is_live(self):
        return self.coverage_end is None or self.coverage_end > timezone.now()

    def _siblings(self, older):
        """The published posts before (`older`) or after this one in its column, nearest first."""
        siblings = LivePost.objects.published().filter(column_id=self.column_id).exclude(pk=self.pk)
        if older:
            return siblings.filter(
                Q(coverage_start__lt=self.coverage_start) | Q(coverage_start=self.coverage_start, pk__lt=self.pk)
            ).order_by("-coverage_start", "-pk")
        return siblings.filter(
            Q(coverage_start__gt=self.coverage_start) | Q(coverage_start=self.coverage_start, pk__gt=self.pk)
        ).order_by("coverage_start", "pk")

    def neighbours(self):
        """(previous post, next post) in the column, published, in one query (two index lookups)."""
        nearest = [models.Subquery(self._siblings(older).values("pk")[:1]) for older in (True, False)]
        found = list(LivePost.objects.filter(Q(pk=nearest[0]) | Q(pk=nearest[1])).only("headline", "slug", "coverage_start"))
        before = (self.coverage_start, self.pk)
        previous = next((p for p in found if (p.coverage_start, p.pk) < before), None)
        following = next((p for p in found if (p.coverage_start, p.pk) > before), None)
        return previous, following

    def previous_post(self):
        """The published post before this one in its column."""
        return self._siblings(older=True).only("headline", "slug", "coverage_start").first()

    def next_post(self):
        """The published post after this one in its column."""
        return self._siblings(older=False).only("headline", "slug", "coverage_start").first()
