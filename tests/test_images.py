"""Uploads: only real images, re-encoded without metadata, by staff only."""

import io
import json
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from liveupdates.images import reencode

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def jpeg_with_gps(size=(64, 48)):
    image = Image.new("RGB", size, (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[GPS_IFD] = {1: "N", 2: (33.0, 34.0, 17.0), 3: "E", 4: (36.0, 24.0, 6.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(client, name, data, content_type="image/jpeg"):
    return client.post(reverse("richtext_image_upload"), {"upload": SimpleUploadedFile(name, data, content_type=content_type)})


def test_reencoding_strips_exif_and_gps():
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the fixture really has GPS
    content, extension = reencode(SimpleUploadedFile("p.jpg", data))
    clean = Image.open(io.BytesIO(content.read()))
    assert extension == "jpg"
    assert not clean.getexif() and "exif" not in clean.info
    assert clean.size == (64, 48)


def test_journalist_uploads_an_image_and_gets_its_clean_url(client, journalist):
    client.force_login(journalist)
    response = upload(client, "douma.jpg", jpeg_with_gps())
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["uploaded"] == 1 and body["url"].startswith("/media/uploads/")
    stored = default_storage.path(body["url"].removeprefix("/media/"))
    assert not Image.open(stored).getexif()


@pytest.mark.parametrize(
    "name, data, content_type",
    [
        ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
        ("notes.jpg", b"this is not an image at all", "image/jpeg"),
        ("empty.png", b"", "image/png"),
        ("script.html", b"<script>alert(1)</script>", "text/html"),
        ("truncated.jpg", jpeg_with_gps()[:200], "image/jpeg"),
    ],
)
def test_non_images_are_refused_with_a_clear_message(client, journalist, name, data, content_type):
    client.force_login(journalist)
    response = upload(client, name, data, content_type)
    assert response.status_code == 400
    message = json.loads(response.content)["error"]["message"]
    assert "JPEG, PNG, GIF or WebP" in message


def test_a_decompression_bomb_is_refused(client, journalist, settings):
    settings.NEWSROOM_IMAGE_MAX_PIXELS = 1000
    client.force_login(journalist)
    out = io.BytesIO()
    Image.new("L", (2000, 2000)).save(out, format="PNG")
    response = upload(client, "bomb.png", out.getvalue(), "image/png")
    assert response.status_code == 400
    assert "too large" in json.loads(response.content)["error"]["message"]


def test_an_oversized_file_is_refused(client, journalist, settings):
    settings.NEWSROOM_IMAGE_MAX_BYTES = 100
    client.force_login(journalist)
    response = upload(client, "big.jpg", jpeg_with_gps())
    assert response.status_code == 400
    assert "limit" in json.loads(response.content)["error"]["message"]


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_only_newsroom_staff_can_upload(client, reader, who):
    if who == "reader":
        client.force_login(reader)
    response = upload(client, "a.jpg", jpeg_with_gps())
    assert response.status_code == 403


def test_the_image_dialog_gets_a_script_callback_with_escaped_values(client, journalist):
    client.force_login(journalist)
    response = client.post(
        reverse("richtext_image_upload") + "?CKEditorFuncNum=3",
        {"upload": SimpleUploadedFile("x.txt", b"nope", content_type="text/plain")},
    )
    assert response.status_code == 200
    assert b"CKEDITOR.tools.callFunction(3, ''," in response.content


def test_a_mismatched_ckeditor_csrf_token_is_refused(client, journalist):
    client.force_login(journalist)
    client.cookies["ckCsrfToken"] = "a" * 40
    response = client.post(
        reverse("richtext_image_upload"),
        {"upload": SimpleUploadedFile("a.jpg", jpeg_with_gps(), content_type="image/jpeg"), "ckCsrfToken": "b" * 40},
    )
    assert response.status_code == 403


def _photo():
    return SimpleUploadedFile("a.jpg", jpeg_with_gps(), content_type="image/jpeg")


def test_an_upload_without_any_csrf_token_is_refused_and_nothing_is_stored(journalist, monkeypatch):
    stored = []
    monkeypatch.setattr("liveupdates.images.store", lambda *args: stored.append(args))
    client = Client(enforce_csrf_checks=True)
    client.force_login(journalist)
    response = client.post(reverse("richtext_image_upload"), {"upload": _photo()})
    assert response.status_code == 403 and "Reload the page" in response.json()["error"]["message"]
    assert stored == []


def test_an_upload_with_the_desks_csrf_header_is_taken(journalist):
    client = Client(enforce_csrf_checks=True)
    client.force_login(journalist)
    client.get(reverse("admin:index"))  # the admin page sets the CSRF cookie, as the desk's page does
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("richtext_image_upload"), {"upload": _photo()}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json()["uploaded"] == 1


def test_an_upload_with_ckeditors_own_matching_token_is_taken(journalist):
    client = Client(enforce_csrf_checks=True)
    client.force_login(journalist)
    client.cookies["ckCsrfToken"] = "a" * 40
    response = client.post(reverse("richtext_image_upload"), {"upload": _photo(), "ckCsrfToken": "a" * 40})
    assert response.status_code == 200 and response.json()["uploaded"] == 1


def test_a_lead_image_is_reencoded_when_saved(editor, post):
    post.lead_image = SimpleUploadedFile("lead.jpg", jpeg_with_gps(), content_type="image/jpeg")
    post.lead_image_alt = "Smoke over Douma"
    post.save()
    assert post.lead_image.name.startswith("posts/") and post.lead_image.name.endswith(".jpg")
    assert not Image.open(post.lead_image.path).getexif()


POLYGLOTS = [
    ("jpeg-with-script.jpg", lambda: jpeg_with_gps() + b"<script>alert(document.cookie)</script>"),
    ("jpeg-with-html.jpg", lambda: jpeg_with_gps() + b"<!DOCTYPE html><html><body onload=alert(1)>"),
    ("gif-javascript.gif", lambda: b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=alert(1);//" + b"\x00" * 20),
    ("png-with-php.png", lambda: _png() + b"<?php system($_GET['c']); ?>"),
    ("jpeg-with-svg-comment.jpg", lambda: _jpeg_with_comment(b"<svg onload=alert(1)>")),
]


def _png():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG")
    return out.getvalue()


def _jpeg_with_comment(comment):
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="JPEG", comment=comment)
    return out.getvalue()


@pytest.mark.parametrize("name, make", POLYGLOTS, ids=[p[0] for p in POLYGLOTS])
def test_polyglot_files_are_refused_with_a_clear_message(client, journalist, name, make):
    client.force_login(journalist)
    response = upload(client, name, make())
    assert response.status_code == 400
    message = json.loads(response.content)["error"]["message"]
    assert "refused" in message or "JPEG, PNG, GIF or WebP" in message
    assert "refused" in message if name.endswith((".jpg", ".png")) else True
    stored = [p for p in (Path(default_storage.location) / "uploads").rglob("*") if p.is_file()]
    assert stored == []


def test_an_upload_gets_webp_renditions_no_wider_than_the_photo(client, journalist):
    client.force_login(journalist)
    response = upload(client, "wide.jpg", jpeg_with_gps(size=(1200, 800)))
    url = json.loads(response.content)["url"]
    assert url.endswith("_1200x800.jpg")
    stem = url.removeprefix("/media/").rsplit(".", 1)[0]
    for width in (480, 960, 1200):
        with Image.open(default_storage.path(f"{stem}.{width}.webp")) as rendition:
            assert rendition.format == "WEBP" and rendition.width == width
            assert not rendition.getexif()
    assert not default_storage.exists(f"{stem}.1600.webp")


def test_a_published_photo_is_lazy_sized_and_offers_its_renditions(client, journalist, editor, post):
    from liveupdates.editorial import workflow
    from liveupdates.models import Entry

    client.force_login(journalist)
    url = json.loads(upload(client, "wide.jpg", jpeg_with_gps(size=(1200, 800))).content)["url"]
    entry = Entry.objects.create(post=post, body=f'<p>Photo:</p><img src="{url}" alt="Smoke over Douma">', created_by=journalist)
    workflow.publish(entry=entry, user=editor)
    client.logout()
    page = client.get(post.get_absolute_url()).content.decode()
    stem = url.rsplit(".", 1)[0]
    assert (
        f'<img src="{url}" alt="Smoke over Douma" loading="lazy" decoding="async" width="1200" height="800" '
        f'srcset="{stem}.480.webp 480w, {stem}.960.webp 960w, {stem}.1200.webp 1200w"'
    ) in page


def test_a_photo_without_renditions_is_still_lazy(post, editor):
    from liveupdates import richtext

    html = richtext.render('<img src="/media/uploads/old-photo.jpg" alt="Old">')
    assert html == '<img src="/media/uploads/old-photo.jpg" alt="Old" loading="lazy" decoding="async">'


def test_a_lead_image_gets_renditions_and_the_post_page_offers_them(client, editor, post):
    post.lead_image = SimpleUploadedFile("lead.jpg", jpeg_with_gps(size=(1000, 600)), content_type="image/jpeg")
    post.lead_image_alt = "Smoke over Douma"
    post.save()
    assert post.lead_image.name.endswith("_1000x600.jpg")
    stem = post.lead_image.url.rsplit(".", 1)[0]
    page = client.get(post.get_absolute_url()).content.decode()
    assert f'srcset="{stem}.480.webp 480w, {stem}.960.webp 960w, {stem}.1000.webp 1000w"' in page
    assert default_storage.exists(post.lead_image.name.rsplit(".", 1)[0] + ".960.webp")
