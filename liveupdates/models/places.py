from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models.functions import Concat, Length, Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    COUNTRY = "country", _("Country")
    PROVINCE = "province", _("Province or region")
    CITY = "city", _("City")
    TOWN = "town", _("Town")
    VILLAGE = "village", _("Village")
    NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")
    AREA = "area", _("Area")


REVIEWED_HELP = _(
    "Checked by an editor. Until then readers see its name on entries as plain text, "
    "and it has no page, feed, map pin or sitemap entry."
)


class PlaceQuerySet(models.QuerySet):
    def public(self):
        """Places readers may look up: reviewed by an editor. Every public surface starts here.

        A place a journalist added is named on public entries at once, as plain
        text (Place.linkable), and gets its page, feed, map pin, sitemap entry
        and filter once an editor marks it reviewed.
        """
        return self.filter(reviewed=True)

    def within(self, place):
        """The place itself and every place under it (Aleppo and its neighbourhoods)."""
        return self.filter(path__startswith=place.path)


class Place(models.Model):
    """A named place. Places form a tree: a neighbourhood in a city in a province."""

    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("slug"), max_length=160, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent place"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("The place this one is in: Firdous is in Aleppo, Aleppo in Aleppo province."),
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    alternative_names = models.TextField(
        _("alternative spellings"),
        blank=True,
        help_text=_("One per line: other transliterations readers and sources use (Tiba al-Imam, Tayyibat al-Imam)."),
    )
    reviewed = models.BooleanField(_("reviewed"), default=False, help_text=REVIEWED_HELP)
    # Materialised path of primary keys ("/3/17/42/"): one indexed prefix query
    # finds every place under this one, however deep the tree.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(latitude__isnull=True) & models.Q(longitude__isnull=True))
                | (models.Q(latitude__isnull=False) & models.Q(longitude__isnull=False)),
                name="place_coordinates_come_in_pairs",
                violation_error_message=_("Give both latitude and longitude, or neither."),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("liveupdates:place", kwargs={"slug": self.slug})

    @property
    def alternative_name_list(self):
        return [name.strip() for name in self.alternative_names.splitlines() if name.strip()]

    @property
    def has_coordinates(self):
        return self.latitude is not None and self.longitude is not None

    def ancestors(self):
        """The chain of places this one is in, outermost first (one query)."""
        ids = [int(pk) for pk in self.path.strip("/").split("/") if pk][:-1]
        by_id = Place.objects.in_bulk(ids)
        return [by_id[pk] for pk in ids if pk in by_id]

    def clean(self):
        super().clean()
        if self.parent_id and self.pk:
            if self.parent_id == self.pk or (self.path and self.parent is not None and self.parent.path.startswith(self.path)):
                raise ValidationError(
                    {"parent": _("A place cannot be inside itself or inside one of its own sub-places. Choose another parent.")}
                )

    def save(self, *args, **kwargs):
        with transaction.atomic():
            old_path = self.path
            super().save(*args, **kwargs)
            parent_path = self.parent.path if self.parent is not None else "/"
            new_path = f"{parent_path}{self.pk}/"
            if new_path != old_path:
                Place.objects.filter(pk=self.pk).update(path=new_path)
                self.path = new_path
                if old_path:
                    # Moving a place moves everything under it.
                    Place.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                        path=Concat(models.Value(new_path), Substr("path", Length(models.Value(old_path)) + 1))
                    )
