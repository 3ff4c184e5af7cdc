"""An entry's text as readers get it, with each card placeholder drawn as our own card.

Cards come from `entry.cards` (prefetched by Entry.objects.for_display()), so a
placeholder naming a card the entry does not own draws only its link: a card
is shown exactly where, and while, its own entry is public.
"""

import re

from django.template.loader import render_to_string
from django.urls import reverse

from liveupdates import richtext

# Innermost first: an editor may nest one placeholder in another (a paste with the caret inside the last card).
_PLACEHOLDER = re.compile(r'<figure data-card="(\d{1,12})">((?:(?!<figure)[\s\S])*?)</figure>')
_TOKEN = re.compile(r"\x00card(\d+)\x00")
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


def youtube_embed(card):
    """The privacy-enhanced player's address for a YouTube card, or "" (never anything else)."""
    if card.provider == "youtube" and _YOUTUBE_ID.match(card.canonical_id or ""):
        return f"https://www.youtube-nocookie.com/embed/{card.canonical_id}"
    return ""


def render_card(card, image_src=None):
    """A card as readers see it; `image_src` replaces the public image address (the desk's preview of a draft)."""
    context = {
        "card": card,
        "youtube_embed": youtube_embed(card),
        "image_src": card.image_url() if image_src is None else image_src,
    }
    return render_to_string("liveupdates/_card.html", context).strip()


def render_body(entry, staff=False):
    """Sanitised, rendered text (richtext.render) with the entry's own cards in their places.

    `staff`: the desk's copy, whose drafts' card images come from the staff-only address.
    """
    html = richtext.render(entry.body)
    if 'data-card="' not in html:
        return html
    cards = {card.pk: card for card in entry.cards.all()}
    drawn: list[str] = []

    def draw(match):
        card = cards.get(int(match.group(1)))
        inner = match.group(2)
        nested = "".join(token.group(0) for token in _TOKEN.finditer(inner))  # cards nested inside, already drawn
        if card is None:
            text = _TOKEN.sub("", inner).strip()
            drawn.append(f"<p>{text}</p>" if text else "")
        else:
            staff_image = reverse("admin:liveupdates_card_image", args=[card.pk]) if staff and card.image else None
            drawn.append(render_card(card, image_src=staff_image))
        return f"\x00card{len(drawn) - 1}\x00{nested}"

    previous = None
    while previous != html:
        previous, html = html, _PLACEHOLDER.sub(draw, html)
    return _TOKEN.sub(lambda m: drawn[int(m.group(1))], html)


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
