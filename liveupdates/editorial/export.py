"""The archive export: a live post's cited material as one zip, for the newsroom's records.

`cards.json` (every card of the post's public entries, as the API gives it, plus
the entry it belongs to) and `images/` (our re-encoded copies). Editors only. A
withdrawn entry's cards are left out, like from every other surface.
"""

import io
import json
import zipfile
from pathlib import PurePosixPath

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from liveupdates.delivery.cards import card_data
from liveupdates.models import Card, Entry


def post_archive(post) -> bytes:
    """The zip's bytes for `post`."""
    cards = (
        Card.objects.filter(entry__in=Entry.objects.published().filter(post=post).values("pk"))
        .select_related("entry", "source")
        .order_by("entry__published_at", "pk")
    )
    out = io.BytesIO()
    items = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for card in cards:
            item = card_data(card)
            item["entry"] = {"id": card.entry_id, "url": card.entry.get_absolute_url(), "headline": card.entry.headline}
            if card.image:
                name = f"images/card-{card.pk}{PurePosixPath(card.image.name).suffix}"
                try:
                    with card.image.open("rb") as file:
                        archive.writestr(name, file.read())
                    item["image"] = name
                except OSError:
                    item["image"] = ""
            items.append(item)
        manifest = {"post": post.slug, "headline": post.headline, "exported_at": timezone.now(), "cards": items}
        archive.writestr("cards.json", json.dumps(manifest, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
    return out.getvalue()
