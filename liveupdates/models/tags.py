from django.db import models
from django.utils.translation import gettext_lazy as _
from taggit.models import TaggedItemBase


class TaggedEntry(TaggedItemBase):
    """An entry's tag, with a real foreign key to the entry.

    taggit's default link is generic (content type + object id): a tag page
    then joins through django_content_type and cannot use a foreign-key index,
    and a revision cannot follow the links. One table per tagged model fixes both.
    """

    content_object = models.ForeignKey(
        "liveupdates.Entry", verbose_name=_("entry"), on_delete=models.CASCADE, related_name="tagged_entries"
    )

    class Meta:
        verbose_name = _("entry tag")
        verbose_name_plural = _("entry tags")
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="tagged_entry_unique"),
        ]
