"""What an uploaded image must be, and how it is stored.

Pillow decides what a file is (never its name or the browser's content type),
refuses what it cannot fully decode, and the stored file is re-encoded from
pixels only: EXIF, GPS, XMP and comments never reach the disk. A photo from a
source in a war zone must not reveal where it was taken.
"""

import io
import re
import uuid
import warnings
from html import unescape
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# Format Pillow detects -> (format we store, extension). GIF and PNG keep
# transparency; everything else becomes JPEG.
STORED_FORMATS = {
    "JPEG": ("JPEG", "jpg"),
    "MPO": ("JPEG", "jpg"),
    "PNG": ("PNG", "png"),
    "GIF": ("PNG", "png"),
    "WEBP": ("WEBP", "webp"),
}


# A polyglot is a file that is a valid image *and* something else (an HTML page,
# a script, a PHP file) to whichever program reads it. Re-encoding would drop the
# extra part anyway; refusing says out loud that the file was tampered with.
_POLYGLOT_MARKERS = (b"<script", b"<html", b"<svg", b"<?php", b"<!doctype", b"<iframe", b"<body", b"javascript:")


def _open_verified(file):
    max_bytes = settings.NEWSROOM_IMAGE_MAX_BYTES
    size = getattr(file, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            _("This image is %(size)d MB; the limit is %(limit)d MB. Export a smaller version and upload it again.")
            % {"size": size // (1024 * 1024), "limit": max_bytes // (1024 * 1024)},
            code="too_large",
        )
    file.seek(0)
    data = file.read()
    file.seek(0)
    if not data:
        raise ValidationError(_("The file is empty. Choose an image file (JPEG, PNG, GIF or WebP)."), code="empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
                if width * height > settings.NEWSROOM_IMAGE_MAX_PIXELS:
                    raise too_many_pixels(width, height)
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise too_many_pixels(None, None) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            _(
                "This file is not an image we can publish: it may be damaged or in another format. Upload a JPEG, PNG, GIF or WebP photo."
            ),
            code="not_an_image",
        ) from error
    lowered = data.lower()
    if any(marker in lowered for marker in _POLYGLOT_MARKERS):
        raise ValidationError(
            _(
                "This file contains web page or script code as well as an image, so it was refused. "
                "Export the photo again from your photo app and upload the new file."
            ),
            code="polyglot",
        )
    if kind not in STORED_FORMATS:
        raise ValidationError(
            _("%(kind)s files are not accepted. Upload a JPEG, PNG, GIF or WebP photo.") % {"kind": kind or "This"},
            code="format",
        )
    return image, kind


# --- Big phone photos are scaled, absurd ones refused (issue 13) --------------------------
# A 50-megapixel phone photo is normal now: it is scaled to SCALED_LONG_SIDE on its long side,
# never refused. Above settings.NEWSROOM_IMAGE_MAX_PIXELS (Pillow's own bomb limit,
# 89 megapixels, by default) no camera is involved: refused, before a pixel is decoded.
SCALED_LONG_SIDE = 4096


def fit_for_the_web(image):
    """`image`, scaled down to SCALED_LONG_SIDE on its long side if it has more than NEWSROOM_IMAGE_SCALE_PIXELS."""
    if image.width * image.height <= settings.NEWSROOM_IMAGE_SCALE_PIXELS:
        return image
    scale = SCALED_LONG_SIDE / max(image.size)
    return image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS, reducing_gap=3.0
    )


def too_many_pixels(width, height):
    size = _("%(w)d x %(h)d pixels") % {"w": width, "h": height} if width else _("far more pixels than any camera makes")
    return ValidationError(
        _("This image is too large to publish (%(size)s). Export it at a normal size (under 40 megapixels) and upload it again.")
        % {"size": size},
        code="too_many_pixels",
    )


def validate_image(file):
    """Model-field validator: refuse anything Pillow cannot verify as a photo."""
    image, _kind = _open_verified(file)
    image.close()


def reencode(file):
    """Return (content, extension) holding only the pixels of `file`.

    Orientation from EXIF is applied before the metadata is dropped, so the
    photo still stands the right way up.
    """
    image, kind = _open_verified(file)
    stored_format, extension = STORED_FORMATS[kind]
    with image:
        image = fit_for_the_web(ImageOps.exif_transpose(image))
        if stored_format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        if stored_format == "PNG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        clean = Image.new(image.mode, image.size)
        clean.paste(image)
        if image.mode == "P":
            clean.putpalette(image.getpalette() or [])
        out = io.BytesIO()
        options: dict[str, bool | int] = {"optimize": True}
        if stored_format in ("JPEG", "WEBP"):
            options["quality"] = 85
        clean.save(out, format=stored_format, **options)
    return ContentFile(out.getvalue()), extension


# Responsive renditions: WebP copies at these widths (never wider than the original),
# made once at upload. A stored photo's name carries its size ("<id>_1600x1067.jpg"),
# so a page can list its renditions without touching the disk.
RENDITION_WIDTHS = (480, 960, 1600)
_SIZED_NAME = re.compile(r"^(?P<stem>[\w/-]+)_(?P<w>\d{1,5})x(?P<h>\d{1,5})\.(?:jpg|png|webp)$")


def stored_name(extension, size=None):
    suffix = f"_{size[0]}x{size[1]}" if size else ""
    return f"{uuid.uuid4().hex}{suffix}.{extension}"


def rendition_widths(width):
    return [w for w in RENDITION_WIDTHS if w < width] + ([width] if width <= RENDITION_WIDTHS[-1] else [])


def rendition_name(name, width):
    return f"{name.rsplit('.', 1)[0]}.{width}.webp"


def make_renditions(storage, name):
    """Write the WebP renditions of the stored photo `name` (already re-encoded, metadata-free)."""
    with storage.open(name) as file, Image.open(file) as image:
        image.load()
        for width in rendition_widths(image.width):
            copy = (
                image
                if width == image.width
                else image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
            )
            out = io.BytesIO()
            copy.save(out, format="WEBP", quality=80, method=4)
            storage.save(rendition_name(name, width), ContentFile(out.getvalue()))


def prepared(file):
    """(content, name) for an uploaded photo: verified, re-encoded, and named with its size."""
    content, extension = reencode(file)
    with Image.open(io.BytesIO(content.read())) as image:
        size = image.size
    content.seek(0)
    return content, stored_name(extension, size)


def store(storage, directory, file):
    """Verify, re-encode and store an uploaded photo with its renditions; return the stored name."""
    content, name = prepared(file)
    name = storage.save(f"{directory}/{name}", content)
    make_renditions(storage, name)
    return name


# An uploaded photo is "uploads/<yyyy>/<mm>/<uuid hex>_<w>x<h>.<ext>" (the demo's are
# "uploads/demo/<name>_<w>x<h>.jpg") and its renditions add ".<width>.webp". Its id is the
# path under uploads/ without size, rendition and extension: it names the photo and all its
# files. No dot in an id, so no id climbs out of uploads/.
UPLOAD_DIR = "uploads"
# The media folders whose files are public as files, kept a year (deploy/nginx.conf names the same):
# authors' portraits and posts' lead images. Anything else under MEDIA_ROOT is never a plain file.
PLAIN_MEDIA_FOLDERS = ("authors", "posts")
PHOTO_ID_MAX = 200  # EntryPhoto.photo's max_length
_UPLOAD_NAME = rf"(?P<id>[\w/-]{{1,{PHOTO_ID_MAX}}}?)(?:_\d{{1,5}}x\d{{1,5}})?(?:\.\d{{1,5}})?\.(?P<ext>jpg|jpeg|png|webp|gif)"
_UPLOAD_FILE = re.compile(rf"{UPLOAD_DIR}/{_UPLOAD_NAME}", re.ASCII)
UPLOAD_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
# What a page loads: an <img src>, or a link to the file, on this site (never a mention in text or an attribute).
_PLACING = re.compile(r'<(?:img|a)\b[^>]*?\s(?:src|href)="([^"]*)"')


def upload_id(path):
    """The photo a file under MEDIA_ROOT belongs to (itself or a rendition of it), or None if it is no upload."""
    match = _UPLOAD_FILE.fullmatch(path)
    return match["id"] if match else None


def upload_ids(html):
    """The uploaded photos an entry's HTML places, as their ids; what gates their files (site/photos.py).

    Only what a page loads or links to on this site counts: an address mentioned in text,
    an alt or a title (a correction saying which photo was removed) must not bring a
    withdrawn entry's photo back.
    """
    media_url, found = settings.MEDIA_URL, set()
    ours = urlsplit(settings.SITE_URL)
    for value in _PLACING.findall(html or ""):
        address = urlsplit(unescape(value).strip())
        elsewhere = (address.scheme or address.netloc) and (address.scheme, address.netloc) != (ours.scheme, ours.netloc)
        if elsewhere or not address.path.startswith(media_url):
            continue
        photo_id = upload_id(unquote(address.path[len(media_url) :]))
        if photo_id:
            found.add(photo_id)
    return found


def srcset(url):
    """(srcset, width, height) for a stored photo's URL, or None for a file without renditions."""
    media_url = settings.MEDIA_URL
    if not url.startswith(media_url):
        return None
    match = _SIZED_NAME.match(url[len(media_url) :])
    if not match:
        return None
    width, height = int(match["w"]), int(match["h"])
    candidates = ", ".join(f"{media_url}{rendition_name(url[len(media_url) :], w)} {w}w" for w in rendition_widths(width))
    return candidates, width, height


class PhotoField(models.ImageField):
    """An ImageField whose new files are verified and re-encoded before storage."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [validate_image])
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        file = getattr(model_instance, self.attname)
        if file and not file._committed:
            content, name = prepared(file)
            file.save(name, content, save=False)
            make_renditions(file.storage, file.name)
        return file


# --- Decode guard ------------------------------------------------------------------------------
# A photo's size on disk says nothing of its size decoded: a 164 KB PNG of 6,324 x 6,324
# pixels holds 160 MB of pixels, and re-encoding it briefly takes several copies (measured:
# one worker from 175 to 635 MB for 7 s; four at once, 2 GB). The pixel count is read from
# the header before anything is decoded (_open_verified), and at most
# NEWSROOM_IMAGE_DECODES photos are decoded at once in one process; the next upload waits
# its turn, and after NEWSROOM_IMAGE_DECODE_WAIT seconds is refused with a message to try
# again, so a burst of uploads costs time, never the worker.
import functools  # noqa: E402
import threading  # noqa: E402

_decode_slots = threading.BoundedSemaphore(max(1, int(getattr(settings, "NEWSROOM_IMAGE_DECODES", 1))))
_decoding = threading.local()


def decode_slot(function):
    """Run `function` holding one of the process's decode slots (re-entrant within a thread)."""

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        if getattr(_decoding, "depth", 0):
            return function(*args, **kwargs)
        if not _decode_slots.acquire(timeout=getattr(settings, "NEWSROOM_IMAGE_DECODE_WAIT", 30)):
            raise ValidationError(
                _("The newsroom is processing many photos at this moment. Upload this one again in a minute."),
                code="busy",
            )
        _decoding.depth = 1
        try:
            return function(*args, **kwargs)
        finally:
            _decoding.depth = 0
            _decode_slots.release()

    return guarded


validate_image = decode_slot(validate_image)
reencode = decode_slot(reencode)
prepared = decode_slot(prepared)
make_renditions = decode_slot(make_renditions)
store = decode_slot(store)
