"""An entry's text as readers get it, with each card placeholder drawn as our own card.

Cards come from `entry.cards` (prefetched by Entry.objects.for_display()), so a
placeholder naming a card the entry does not own draws only its link: a card
is shown exactly where, and while, its own entry is public.
"""

import re

from django.template.loader import render_to_string

from liveupdates import richtext

_PLACEHOLDER = re.compile(r'<figure data-card="(\d{1,12})">(.*?)</figure>', re.S)
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


def youtube_embed(card):
    """The privacy-enhanced player's address for a YouTube card, or "" (never anything else)."""
    if card.provider == "youtube" and _YOUTUBE_ID.match(card.canonical_id or ""):
        return f"https://www.youtube-nocookie.com/embed/{card.canonical_id}"
    return ""


def render_card(card):
    return render_to_string("liveupdates/_card.html", {"card": card, "youtube_embed": youtube_embed(card)}).strip()


def render_body(entry):
    """Sanitised, rendered text (richtext.render) with the entry's own cards in their places."""
    html = richtext.render(entry.body)
    if 'data-card="' not in html:
        return html
    cards = {card.pk: card for card in entry.cards.all()}

    def draw(match):
        card = cards.get(int(match.group(1)))
        if card is None:
            return f"<p>{match.group(2)}</p>" if match.group(2).strip() else ""
        return render_card(card)

    return _PLACEHOLDER.sub(draw, html)


def card_data(card):
    """A card as the API and the archive export give it (no image bytes; `image` is our own address)."""
    return {
        "id": card.pk,
        "network": card.provider,
        "url": card.public_url,
        "title": card.title,
        "author_name": card.author_name,
        "author_handle": card.author_handle,
        "author_url": card.public_author_url,
        "text": card.text,
        "published_at": card.published_at,
        "archived_at": card.archived_at,
        "image": card.image_url(),
        "video": card.is_video,
        "source": card.source.slug if card.source_id and card.source else None,
        "verification": card.verification or None,
        "verification_label": card.verification_label,
        "verification_note": card.verification_note,
    }
