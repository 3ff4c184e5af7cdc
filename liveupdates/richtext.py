"""The one seam for rich text: the model field, its editor widget and the sanitiser.

Swapping CKEditor 4 for another editor means changing this module only. Whatever
the editor sends, what is stored is what `sanitize` lets through.
"""

import re
from html import unescape
from urllib.parse import urlsplit

import nh3
from ckeditor.fields import RichTextField as CKEditorRichTextField
from ckeditor.fields import RichTextFormField
from ckeditor.widgets import CKEditorWidget
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape, strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from liveupdates import images

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "a",
    "img",
    "figure",
    "figcaption",
    "iframe",
    "span",  # only as a photo's credit in its caption: <span class="credit">
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "iframe": {"src", "title", "allowfullscreen", "width", "height"},
    "span": {"class"},
    "figure": {"data-card"},  # a card's placeholder (liveupdates/models/cards.py)
}
URL_SCHEMES = {"http", "https", "mailto"}

# Only privacy-enhanced players may be embedded: no cookies, no tracking before play.
YOUTUBE_EMBED = re.compile(r"^/embed/[A-Za-z0-9_-]{6,20}$")
YOUTUBE_HOSTS = {"www.youtube.com", "youtube.com", "www.youtube-nocookie.com", "youtube-nocookie.com"}

_SRCLESS_IMG = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
_SRCLESS_IFRAME = re.compile(r"<iframe(?![^>]*\ssrc=)[^>]*>.*?</iframe>", re.DOTALL)
_IMG_TAG = re.compile(r"<img\b[^>]*>")
_ALT_ATTR = re.compile(r'\salt="([^"]*)"')


def _embed_src(value):
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname in YOUTUBE_HOSTS and YOUTUBE_EMBED.match(parts.path):
        return f"https://www.youtube-nocookie.com{parts.path}"
    return None


def _image_src(value):
    # Images come from our own uploads only: a hot-linked image would tell a
    # third party who reads the page.
    media_url = settings.MEDIA_URL
    if value.startswith(media_url) and ".." not in value:
        return value
    return None


def _filter_attribute(tag, attribute, value):
    if tag == "span" and attribute == "class":
        return "credit" if "credit" in value.split() else None
    if tag == "iframe" and attribute == "src":
        return _embed_src(value)
    if tag == "img" and attribute == "src":
        return _image_src(value)
    if tag == "figure" and attribute == "data-card":
        return value if value.isdigit() and len(value) <= 12 else None
    return value


# An entry's text, as HTML, at most this long: ten times a long report, a hundredth of what
# three pasted documents made (4.4 MB each: the desk's queue grew to 13 MB and every reader's
# page, feed and fragment would carry one). Counted on what is sent, before sanitising.
BODY_MAX_CHARS = 100_000


def validate_body_length(value):
    if value and len(value) > BODY_MAX_CHARS:
        raise ValidationError(
            _(
                "This text is too long: %(length)s characters of formatted text, at most %(max)s are kept. "
                "Split it into several entries, or link to the full document."
            ),
            code="body_too_long",
            params={"length": f"{len(value):,}", "max": f"{BODY_MAX_CHARS:,}"},
        )


def sanitize(html):
    """Return `html` reduced to the newsroom's allowlist of tags, attributes and URLs."""
    if not html:
        return ""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_filter_attribute,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    cleaned = _SRCLESS_IFRAME.sub("", cleaned)
    return _SRCLESS_IMG.sub("", cleaned).strip()


_IFRAME = re.compile(r"<iframe\b([^>]*)>.*?</iframe>", re.DOTALL)
_ATTR = re.compile(r'\s(src|title)="([^"]*)"')


def _facade(match):
    attributes = dict(_ATTR.findall(match.group(1)))
    src, title = attributes.get("src", ""), attributes.get("title", "") or "video"
    if not src.startswith("https://www.youtube-nocookie.com/embed/"):
        return ""
    return (
        f'<div class="video-facade" data-embed="{src}?autoplay=1" data-title="{title}">'
        f'<a class="video-facade__link" href="{src}" rel="noopener noreferrer">'
        f'<span class="video-facade__play" aria-hidden="true">▶</span> {title}'
        f'<span class="video-facade__note">YouTube · plays after you click</span></a></div>'
    )


_IMG_SRC = re.compile(r'\ssrc="([^"]*)"')
_IMG_SIZE = re.compile(r'\s(?:width|height)="[^"]*"')
IMAGE_SIZES = "(min-width: 46rem) 42rem, 100vw"  # the entry column's width


def _responsive(match):
    tag = match.group(0)
    src = _IMG_SRC.search(tag)
    found = images.srcset(unescape(src.group(1))) if src else None
    extra = ' loading="lazy" decoding="async"'
    if found:
        candidates, width, height = found
        tag = _IMG_SIZE.sub("", tag)
        extra += f' width="{width}" height="{height}" srcset="{escape(candidates)}" sizes="{IMAGE_SIZES}"'
    return tag[:-1].rstrip("/ ") + extra + ">"


def render(html):
    """Stored rich text as readers get it: sanitised, each video a click-to-load facade, each photo lazy and responsive.

    No request reaches YouTube until the reader asks for the video; without
    JavaScript the facade is a plain link to the player. Photos load as they
    scroll into view, at the rendition that fits the reader's screen.
    """
    return _IMG_TAG.sub(_responsive, _IFRAME.sub(_facade, sanitize(html)))


def plain_text(html):
    """The text readers see in a body, for excerpts, titles and structured data.

    Sanitised first, so the text of a <script> or <style> never counts as text.
    """
    return unescape(strip_tags(_BLOCK_END.sub(r"\1 ", sanitize(html or "")))).strip()


# Paragraphs read as sentences apart: "overnight.</p><p>SMART" is "overnight. SMART", never "overnight.SMART".
_BLOCK_END = re.compile(r"(</(?:p|li|h3|h4|blockquote|figcaption|figure)>|<br>)(?=<)")


def web_url(value):
    """`value` if it is an http(s) address, else "": stored URLs become links only through this.

    Form fields validate URLs, but a link must be safe whatever is stored.
    """
    value = (value or "").strip()
    return value if value.lower().startswith(("https://", "http://")) else ""


def plain_line(text):
    """A plain-text note as typed, on one line: whitespace and control characters collapse to single spaces.

    Plain text is never sanitised into HTML; templates and feeds escape it.
    """
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(text or "")).split())


def excerpt(html, words=24):
    return Truncator(" ".join(plain_text(html).split())).words(words)


def images_without_alt(html):
    """The <img> tags in `html` that give readers no description."""
    missing = []
    for tag in _IMG_TAG.findall(html or ""):
        alt = _ALT_ATTR.search(tag)
        if not alt or not alt.group(1).strip():
            missing.append(tag)
    return missing


class RichTextWidget(CKEditorWidget):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("config_name", "newsroom")
        super().__init__(*args, **kwargs)

    def _set_config(self):
        super()._set_config()
        self.config["filebrowserUploadUrl"] = reverse("richtext_image_upload")
        self.config["uploadUrl"] = reverse("richtext_image_upload")
        self.config["newsroomCardPreviewUrl"] = reverse("admin:liveupdates_card_preview")


class RichTextFormFieldWithUploads(RichTextFormField):
    widget = RichTextWidget


class RichTextField(CKEditorRichTextField):
    """A text field edited with CKEditor and sanitised on every save."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("config_name", "newsroom")
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = sanitize(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        kwargs.setdefault("form_class", RichTextFormFieldWithUploads)
        return super().formfield(**kwargs)
