"""Keyset pagination for entry streams: "Older entries" costs the same on page 1 and page 5,000.

A cursor names the last entry shown: its published_at (microseconds since the
epoch) and its pk, so the next page is one indexed range scan, with no OFFSET.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import BadRequest
from django.db.models import Q
from django.utils.translation import gettext as _

PAGE_SIZE = 20


def encode_cursor(entry):
    micros = int(entry.published_at.timestamp() * 1_000_000)
    return f"{micros}-{entry.pk}"


def canonical_cursor(value):
    """The one spelling of an "older entries" cursor ("0012-+3x" is refused, "12-3" kept)."""
    decode_cursor(value)
    micros, pk = value.split("-", 1)
    if not (micros.isdigit() and pk.isdigit()) or value != f"{int(micros)}-{int(pk)}":
        raise BadRequest(_("This 'older entries' link is malformed. Go back to the first page."))
    return value


def decode_cursor(value):
    try:
        micros, pk = value.split("-", 1)
        moment = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
        return moment, int(pk)
    except (ValueError, OverflowError, OSError) as error:
        raise BadRequest(_("This 'older entries' link is malformed. Go back to the first page.")) from error


@dataclass
class EntryPage:
    entries: list
    older_cursor: str | None
    is_first: bool


def page_of(queryset, before=None, size=PAGE_SIZE):
    """The page of `queryset` (newest first) after the cursor `before`, if given."""
    if before:
        moment, pk = decode_cursor(before)
        queryset = queryset.filter(Q(published_at__lt=moment) | Q(published_at=moment, pk__lt=pk))
    rows = list(queryset.order_by("-published_at", "-pk")[: size + 1])
    return page_from_rows(rows, size, is_first=not before)


def page_from_rows(rows, size=PAGE_SIZE, is_first=True):
    """The page made of `rows`: its entries and one more (newest first, read by the caller), which says an older page exists."""
    entries = rows[:size]
    older = encode_cursor(entries[-1]) if len(rows) > size else None
    return EntryPage(entries=entries, older_cursor=older, is_first=is_first)
