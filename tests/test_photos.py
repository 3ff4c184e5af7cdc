"""Photos as a newsroom takes them: big phone photos scaled (never refused), absurd ones refused in plain words,
captions and credits kept through the sanitiser, orientation and GPS handled as before."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from liveupdates import richtext
from liveupdates.images import SCALED_LONG_SIDE, reencode

pytestmark = pytest.mark.django_db


def upload(client, name, data, content_type="image/jpeg"):
    return client.post(reverse("richtext_image_upload"), {"upload": SimpleUploadedFile(name, data, content_type=content_type)})


def jpeg(size, exif=None):
    out = io.BytesIO()
    Image.new("RGB", size, (90, 120, 200)).save(out, format="JPEG", quality=50, **({"exif": exif} if exif else {}))
    return out.getvalue()


def test_a_60_megapixel_phone_photo_is_scaled_to_4096_pixels_not_refused(client, journalist):
    client.force_login(journalist)
    response = upload(client, "phone.jpg", jpeg((9000, 6700)))
    assert response.status_code == 200, response.content
    url = response.json()["url"]
    assert url.endswith(f"_{SCALED_LONG_SIDE}x3049.jpg")


def test_a_photo_under_40_megapixels_keeps_its_size():
    content, _ = reencode(io.BytesIO(jpeg((4000, 3000))))
    with Image.open(content) as image:
        assert image.size == (4000, 3000)


def test_an_absurdly_large_image_is_refused_in_plain_words_before_decoding(client, journalist):
    client.force_login(journalist)
    out = io.BytesIO()
    Image.new("1", (10000, 9000)).save(out, format="PNG")  # 90 megapixels, a few kilobytes
    response = upload(client, "bomb.png", out.getvalue(), "image/png")
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "too large to publish" in message and "Export it at a normal size" in message
    assert "Error" not in message and "Warning" not in message


def test_a_damaged_file_is_refused_without_naming_a_python_exception(client, journalist):
    client.force_login(journalist)
    response = upload(client, "damaged.jpg", jpeg((64, 48))[:300])
    message = json.loads(response.content)["error"]["message"]
    assert response.status_code == 400 and "damaged" in message
    for name in ("OSError", "SyntaxError", "ValueError", "UnidentifiedImageError"):
        assert name not in message


def test_a_scaled_photo_still_loses_its_gps_and_stands_the_right_way_up():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    exif[0x8825] = {1: "N", 2: (33.0, 34.0, 17.0)}
    content, _ = reencode(io.BytesIO(jpeg((9000, 6700), exif=exif)))
    with Image.open(content) as image:
        assert image.size == (3049, SCALED_LONG_SIDE)  # portrait, as the phone held it
        assert not image.getexif()


def test_a_captioned_and_credited_photo_survives_the_sanitiser():
    html = (
        '<figure><img src="/media/uploads/a_10x10.jpg" alt="Smoke over Nawa">'
        '<figcaption>Smoke over Nawa. <span class="credit">SMART News Agency</span></figcaption></figure>'
    )
    assert richtext.sanitize(html) == html


def test_only_the_credit_class_survives_on_a_span():
    cleaned = richtext.sanitize('<p><span class="credit evil" style="x" onclick="y">A</span><span class="big">B</span></p>')
    assert cleaned == '<p><span class="credit">A</span><span>B</span></p>'
