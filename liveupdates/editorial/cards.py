"""Turn a pasted link or embed code into a card: recognise, fetch once, archive, suggest the source.

Called only on a journalist's explicit action (the desk's Preview card button,
saving the entry form or the desk), never by an autosave and never while
serving a reader. Fetches go through editorial.fetch (private addresses
refused, size and time capped). When the fetch fails the card is still made
from what the link says, with the reason, and the journalist fills it in by
hand in the card's admin page: nothing pasted is lost.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.translation import gettext as _

from liveupdates import images, links
from liveupdates.editorial import fetch
from liveupdates.models import Card, Citation, Source, SourceAccount, normalise_account

logger = logging.getLogger(__name__)

OEMBED = {"youtube", "x", "vimeo", "tiktok", "bluesky"}
PAGE_BASE = {"telegram", "instagram", "facebook"}
TEXT_LIMIT = 5000


class _Meta(HTMLParser):
    """OpenGraph and Twitter meta tags, the oEmbed discovery link and the first <time datetime>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta, self.oembed, self.time, self.title, self._in_title = {}, "", "", "", False

    def handle_starttag(self, tag, attrs):
        found = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (found.get("property") or found.get("name") or "").lower()
            if key and key not in self.meta:
                self.meta[key] = found.get("content", "")
        elif tag == "link" and "alternate" in found.get("rel", "").lower() and "json+oembed" in found.get("type", ""):
            self.oembed = self.oembed or found.get("href", "")
        elif tag == "time" and not self.time:
            self.time = found.get("datetime", "")
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _plain(html):
    text = re.sub(r"<br\s*/?>", "\n", html or "", flags=re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return "\n".join(" ".join(line.split()) for line in unescape(text).splitlines()).strip()


def _date(value):
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = parse_datetime(value.replace(" ", "T", 1) if re.match(r"^\d{4}-\d\d-\d\d \d", value) else value)
    except ValueError:
        moment = None
    if moment is None:
        for pattern in ("%B %d, %Y", "%Y-%m-%d"):
            try:
                moment = datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
    if moment is not None and timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment


def _handle_from(url):
    path = urlsplit(url or "").path.strip("/")
    first = path.split("/", 1)[0] if path else ""
    return first if first.startswith("@") else (f"@{first}" if first else "")


def _from_oembed(data, link):
    found = {
        "title": str(data.get("title") or "")[:300],
        "author_name": str(data.get("author_name") or "")[:200],
        "author_url": str(data.get("author_url") or "")[:2000],
        "image": str(data.get("thumbnail_url") or ""),
    }
    html = str(data.get("html") or "")
    if link.provider in ("x", "bluesky") and html:
        paragraph = re.search(r"<p[^>]*>(.*?)</p>", html, re.S)
        found["text"] = _plain(paragraph.group(1)) if paragraph else ""
        dated = re.findall(r"<a[^>]*>([A-Z][a-z]+ \d{1,2}, \d{4})</a>", html)
        found["published_at"] = _date(dated[-1]) if dated else None
    if data.get("description"):
        found["text"] = _plain(str(data["description"]))
    if data.get("upload_date"):
        found["published_at"] = _date(str(data["upload_date"]))
    if data.get("author_unique_id"):
        found["author_handle"] = "@" + str(data["author_unique_id"])
    elif found["author_url"]:
        found["author_handle"] = _handle_from(found["author_url"]) if link.provider != "bluesky" else ""
    return found


def _from_page(page, link):
    parser = _Meta()
    parser.feed(page.text)
    meta = parser.meta
    found = {
        "title": (meta.get("og:title") or meta.get("twitter:title") or parser.title.strip())[:300],
        "text": _plain(meta.get("og:description") or meta.get("twitter:description") or meta.get("description") or ""),
        "author_name": (meta.get("article:author") or meta.get("author") or meta.get("og:site_name") or "")[:200],
        "image": meta.get("og:image") or meta.get("twitter:image") or "",
        "published_at": _date(
            meta.get("article:published_time")
            or meta.get("og:published_time")
            or meta.get("og:article:published_time")
            or parser.time
        ),
    }
    creator = meta.get("twitter:creator", "")
    if creator.startswith("@"):
        found["author_handle"] = creator[:200]
    if parser.oembed:
        try:
            extra = _from_oembed(_json(fetch.get(_absolute(parser.oembed, page.url), accept="application/json")), link)
        except (fetch.FetchError, ValueError):
            extra = {}
        found.update({key: value for key, value in extra.items() if value and not found.get(key)})
    return found


def _absolute(href, base):
    return urljoin(base, unescape(href))


def _json(fetched):
    if fetched.status != 200:
        raise ValueError(fetched.status)
    data = json.loads(fetched.body)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def _gone(status):
    return _("The original answered %(status)d: it may have been deleted or made private.") % {"status": status}


def lookup(link: links.Link) -> dict:
    """What the network says about the post: fields of a Card, and `image` (an address), or FetchError."""
    endpoints = settings.NEWSROOM_CARD_ENDPOINTS
    if link.provider in OEMBED and endpoints.get(link.provider):
        answer = fetch.get(
            f"{endpoints[link.provider]}?{urlencode({'url': link.url, 'format': 'json'})}", accept="application/json"
        )
        if answer.status != 200:
            raise fetch.FetchError(_gone(answer.status))
        try:
            return _from_oembed(_json(answer), link)
        except ValueError as error:
            raise fetch.FetchError(_("The network's answer could not be read.")) from error
    address = link.url
    if link.provider in PAGE_BASE and endpoints.get(link.provider):
        parts = urlsplit(link.url)
        address = endpoints[link.provider].rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    page = fetch.get(address, accept="text/html,application/xhtml+xml")
    if page.status != 200:
        raise fetch.FetchError(_gone(page.status))
    found = _from_page(page, link)
    if found.get("image"):
        try:
            found["image"] = _absolute(found["image"], page.url)
        except ValueError:  # a malformed image address: the card is kept without its image
            found["image"] = ""
    return found


def _store_image(card, address):
    if not address:
        return
    try:
        answer = fetch.get(address, max_bytes=settings.NEWSROOM_IMAGE_MAX_BYTES, accept="image/*")
        if answer.status != 200:
            return
        content, name = images.prepared(ContentFile(answer.body, name="card"))
    except (fetch.FetchError, ValidationError) as error:
        logger.info("card %s: image not kept (%s)", card.pk, error)
        return
    card.image.save(name, content, save=False)


def suggest_source(card: Card) -> Source | None:
    """The source whose account or site this card comes from (youtube.com/@SMARTNewsAgency → SMART News Agency)."""
    candidates = []
    for address in (card.author_url, card.url):
        if address:
            candidates += [normalise_account(address), normalise_account(address).split("/", 1)[0]]
    if card.author_handle:
        host = normalise_account(card.url).split("/", 1)[0]
        candidates.append(f"{host}/{card.author_handle.lower().lstrip('@').split('@')[0]}")
        candidates.append(f"{host}/{card.author_handle.lower().split('@')[1] if card.author_handle.startswith('@') else ''}")
    accounts = SourceAccount.objects.select_related("source").filter(address__in=[c for c in candidates if c])
    by_address = {account.address: account.source for account in accounts}
    for candidate in candidates:
        if candidate in by_address:
            return by_address[candidate]
    return None


def archive(text: str, *, user) -> Card:
    """A new card for the link or embed code `text` (NotRecognised if it is neither).

    The fetch may fail (offline, deleted, refused): the card is still made from
    the link, with `fetch_error` saying why, for the journalist to complete.
    """
    link = links.recognise(text)
    card = Card(provider=link.provider, url=link.url, canonical_id=link.canonical_id[:300], is_video=link.is_video)
    card.author_handle = link.handle[:200]
    card.created_by = user if getattr(user, "pk", None) else None
    try:
        found = lookup(link)
    except fetch.FetchError as error:
        card.fetch_error = str(error)[:500]
        found = {}
    image = found.pop("image", "")
    for field, value in found.items():
        if value and (field != "author_handle" or not card.author_handle):
            setattr(card, field, value[:TEXT_LIMIT] if isinstance(value, str) else value)
    if found:
        card.archived_at = timezone.now()
    card.save()
    _store_image(card, image)
    card.source = suggest_source(card)
    card.save()
    return card


# --- Cards in an entry's text ------------------------------------------------------------

_LONE_LINE = re.compile(r"<p>\s*(?:<a [^>]*>)?\s*(\S+?)\s*(?:</a>)?\s*</p>")
_ESCAPED_EMBED = re.compile(r"<p>\s*(&lt;(?:blockquote|iframe|script|div)\b.*?)</p>", re.S)
_RAW_EMBED = re.compile(
    r"<blockquote\b[^>]*class=\"[^\"]*(?:twitter-tweet|instagram-media|tiktok-embed|bluesky-embed)[^\"]*\"[^>]*>.*?</blockquote>"
    r"(?:\s*<script\b[^>]*>\s*</script>)?"
    r"|<script\b[^>]*data-telegram-post[^>]*>\s*</script>"
    r"|<iframe\b[^>]*>\s*</iframe>",
    re.S | re.I,
)
_PLACED = re.compile(r'<figure data-card="(\d{1,12})"')


def placeholder(card: Card) -> str:
    """How an entry's text places a card: the link stays readable wherever the card is not drawn (feeds)."""
    return f'<figure data-card="{card.pk}"><a href="{escape(card.url)}">{escape(card.url)}</a></figure>'


def cards_in(html: str) -> list[int]:
    return [int(pk) for pk in _PLACED.findall(html or "")]


def convert_body(html: str, *, user) -> tuple[str, list[str]]:
    """The text with every lone link and pasted embed code made into a card, and the sentences to show.

    Runs before sanitising (embed code would not survive it). A link inside a
    sentence stays a link; a lone line that is not a web address stays text.
    Each refusal and each failed fetch comes back as a sentence.
    """
    notes: list[str] = []

    def to_card(original, text):
        try:
            card = archive(text, user=user)
        except links.NotRecognised as error:
            if "<" in text:
                notes.append(_("Embed code was not used: %(reason)s") % {"reason": error})
                return "<p>" + escape(_("[Embed code removed: %(reason)s]") % {"reason": error}) + "</p>"
            return original
        if card.fetch_error:
            notes.append(
                _("A card for %(url)s was made from the link only: %(reason)s Fill it in by hand under Cards.")
                % {"url": card.url, "reason": card.fetch_error}
            )
        return placeholder(card)

    def lone(match):
        text = unescape(match.group(1))
        if not re.match(r"^(https?://|www\.|youtu\.be/|t\.me/)", text, re.I):
            return match.group(0)
        return to_card(match.group(0), text)

    html = _RAW_EMBED.sub(lambda m: to_card(m.group(0), m.group(0)), html or "")
    html = _ESCAPED_EMBED.sub(lambda m: to_card(m.group(0), unescape(m.group(1))), html)
    html = _LONE_LINE.sub(lone, html)
    return html, notes


@transaction.atomic
def attach(entry, *, user=None) -> None:
    """Bind the cards the entry's text places to the entry, and cite their sources.

    A card placed by another entry is copied, so each entry's cards follow that
    entry's publication and withdrawal alone. Cards no longer placed are kept
    (the archive) but detached from the entry, so they are shown nowhere.
    """
    placed = cards_in(entry.body)
    cards = Card.objects.in_bulk(placed)
    body = entry.body
    for pk in placed:
        card = cards.get(pk)
        if card is None:
            continue
        if card.entry_id not in (None, entry.pk):
            copy = Card.objects.get(pk=card.pk)
            copy.pk, copy.entry = None, entry
            copy.save()
            body = body.replace(f'<figure data-card="{pk}"', f'<figure data-card="{copy.pk}"', 1)
            card = copy
        elif card.entry_id is None:
            Card.objects.filter(pk=card.pk).update(entry=entry)
        if card.source_id:
            # The card names the exact post cited: a citation of its source without one gains it.
            url = card.url if len(card.url) <= 200 else ""
            if not Citation.objects.filter(entry=entry, source_id=card.source_id, url=url).exists():
                bare = Citation.objects.filter(entry=entry, source_id=card.source_id, url="").first()
                if bare is not None:
                    bare.url = url
                    bare.save()
                else:
                    Citation.objects.create(entry=entry, source_id=card.source_id, url=url)
    if body != entry.body:
        entry.body = body
        type(entry).objects.filter(pk=entry.pk).update(body=body)
        entry.record_photos()
    Card.objects.filter(entry=entry).exclude(pk__in=cards_in(body)).update(entry=None)
