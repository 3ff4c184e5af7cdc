"""What an uploaded image must be, and how it is stored.

Pillow decides what a file is (never its name or the browser's content type),
refuses what it cannot fully decode, and the stored file is re-encoded from
pixels only: EXIF, GPS, XMP and comments never reach the disk. A photo from a
source in a war zone must not reveal where it was taken.
"""

import io
import uuid
import warnings

from django.conf import settings
from django.db import models
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
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
                    raise ValidationError(
                        _("This image is %(w)d x %(h)d pixels, too large to publish. Resize it below 40 megapixels.")
                        % {"w": width, "h": height},
                        code="too_many_pixels",
                    )
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            _("This file is not an image we can publish (%(reason)s). Upload a JPEG, PNG, GIF or WebP photo.")
            % {"reason": error.__class__.__name__},
            code="not_an_image",
        ) from error
    if kind not in STORED_FORMATS:
        raise ValidationError(
            _("%(kind)s files are not accepted. Upload a JPEG, PNG, GIF or WebP photo.") % {"kind": kind or "This"},
            code="format",
        )
    return image, kind


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
        image = ImageOps.exif_transpose(image)
        if stored_format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        if stored_format == "PNG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        clean = Image.new(image.mode, image.size)
        clean.paste(image)
        if image.mode == "P":
            clean.putpalette(image.getpalette())
        out = io.BytesIO()
        options = {"optimize": True}
        if stored_format in ("JPEG", "WEBP"):
            options["quality"] = 85
        clean.save(out, format=stored_format, **options)
    return ContentFile(out.getvalue()), extension


def stored_name(extension):
    return f"{uuid.uuid4().hex}.{extension}"


class PhotoField(models.ImageField):
    """An ImageField whose new files are verified and re-encoded before storage."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [validate_image])
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        file = getattr(model_instance, self.attname)
        if file and not file._committed:
            content, extension = reencode(file)
            file.save(stored_name(extension), content, save=False)
        return file
