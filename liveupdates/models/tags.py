from django.db import models
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag, TaggedItemBase


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


def public_tags():
    """The tags at least one public entry carries: the only tags a public surface may know.

    Every reader-facing lookup of a tag (its page, its feed, a live page's and the
    API's tag filter) starts here, so a tag that only a draft carries answers
    exactly as a tag that does not exist: nothing tells a reader the draft exists.
    """
    from liveupdates.models.entries import Entry  # entries imports tags' models: resolved at call time

    return Tag.objects.filter(pk__in=TaggedEntry.objects.filter(content_object__in=Entry.objects.published()).values("tag_id"))
