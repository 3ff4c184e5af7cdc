from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

from liveupdates import richtext
from liveupdates.delivery import cards
from liveupdates.delivery.structured import absolute as public_url
from liveupdates.models import Column
from liveupdates.models import status_label as label

register = template.Library()


@register.filter
def rich(html):
    """Render stored rich text. Sanitised again here, so nothing unsanitised is ever marked safe."""
    return mark_safe(richtext.render(html))  # noqa: S308 - the output of the allowlist sanitiser


@register.filter
def rich_body(entry):
    """An entry's text with its cards drawn (delivery.cards); sanitised like `rich`."""
    return mark_safe(cards.render_body(entry))  # noqa: S308 - sanitised text, cards from an autoescaped template


@register.filter
def staff_rich_body(entry):
    """The desk's copy of an entry's text: its cards' images from the staff-only address (drafts included)."""
    return mark_safe(cards.render_body(entry, staff=True))  # noqa: S308 - as rich_body


@register.filter
def excerpt(html, words=30):
    return richtext.excerpt(html, int(words))


@register.filter
def is_today(moment):
    return bool(moment) and timezone.localdate(moment) == timezone.localdate()


@register.inclusion_tag("liveupdates/_column_nav.html", takes_context=True)
def column_nav(context):
    """The active columns; a page that already read them (the live page's frame key) passes `nav_columns`."""
    columns = context.get("nav_columns")
    return {"columns": columns if columns is not None else Column.objects.filter(is_active=True).only("name", "slug")}


@register.filter
def absolute(path):

    return public_url(path)


@register.filter
def iso(moment):
    """ISO 8601 to the second, as <time datetime> wants it (HTML allows at most three fractional digits)."""
    if not moment:
        return ""
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


@register.filter
def order_key(moment):
    """An entry's place in the timeline as an integer (microseconds since the epoch), for live.js to sort by.

    The page orders by the exact `published_at`, finer than <time datetime>'s seconds:
    a reader inserting an entry published with an earlier time must put it where a
    fresh page does.
    """
    if not moment:
        return ""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@register.filter
def status_label(value):
    """An entry's or post's stored status ("in_review") as people read it ("in review")."""

    return label(value)
