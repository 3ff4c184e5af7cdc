"""Red-team findings against "an entry's photos follow it" (site/photos.py, images.upload_ids, EntryPhoto).

Each test fails on the commit under review and states the guarantee it breaks.
"""

import importlib.util
import mimetypes
import sys
import time
from pathlib import Path

import pytest

import newsroom.urls
from liveupdates import images
from liveupdates.editorial import workflow
from liveupdates.models import Entry, EntryPhoto

from . import test_photo_takedown as takedown
from .factories import EntryFactory, PublishedEntryFactory
from .test_photo_takedown import placing, renditions, status

pytestmark = pytest.mark.django_db

photo = takedown.photo  # the fixture: a photo a journalist has just uploaded


# --- 1. A mere mention of a photo's address counts as placing it -------------------------------
# upload_ids() scans the whole HTML, so an address in plain text, in another image's alt or in
# a link's title "places" the photo. A withdrawn entry's photo comes back to every reader as
# soon as any public entry mentions its address (a correction note saying which photo was
# removed; or smuggled into an alt text by a journalist whose entry an editor then publishes).


@pytest.mark.parametrize(
    "mention",
    [
        "<p>Correction: the photo previously shown here ({url}) has been removed at the family's request.</p>",
        '<p><img src="/media/uploads/2026/12/{other}_10x10.jpg" alt="{url}"></p>',
        '<p><a href="https://example.org/report" title="{url}">the report</a></p>',
    ],
    ids=["plain text", "another image's alt", "a link's title"],
)
def test_mentioning_a_withdrawn_photos_address_in_a_public_entry_does_not_bring_it_back(client, editor, post, photo, mention):
    entry = PublishedEntryFactory(post=post, body=placing(photo))
    workflow.withdraw(entry=entry, user=editor, reason="Legal: the person must not be identified.")
    assert status(client, photo) == 404
    PublishedEntryFactory(post=post, body=mention.format(url=photo, other="b" * 32))
    assert status(client, photo) == 404, "a public entry that only mentions the address served the withdrawn photo again"


# --- 2. upload_ids() is quadratic: one save can hold a worker (and the write lock) for ~25 s ----
# The id is an unbounded lazy [\w/-]+? and "/media/uploads/" is itself made of [\w/] characters,
# so every occurrence rescans to the end of the run. A 99 KB body (under BODY_MAX_CHARS) of
# "/media/uploads/" repeated takes ~25 s in record_photos(), inside the save's transaction.


def test_recording_an_entrys_photos_takes_linear_time():
    body = "<p>" + "/media/uploads/" * 2600 + "</p>"  # 39 KB: ~4 s on the commit under review
    started = time.perf_counter()
    images.upload_ids(body)
    assert time.perf_counter() - started < 0.5


# --- 3. An id longer than EntryPhoto.photo's 200 characters: a 500 on PostgreSQL ----------------
# A link to another site's long ".../media/uploads/<long slug>.jpg" makes an id over 200
# characters: on PostgreSQL the INSERT fails ("value too long for type character varying(200)"),
# so the save is a 500 (and outside a transaction the body is written, its photos are not), and
# migration 0021's backfill aborts on any existing entry like it. SQLite does not enforce the
# length, so the first assertion shows it on every database.


def test_an_upload_like_address_of_any_length_never_breaks_a_save(post):
    body = f'<p><a href="https://archive.example/media/uploads/{"long-slug-" * 25}photo.jpg">scan</a></p>'
    max_length = EntryPhoto._meta.get_field("photo").max_length
    assert all(len(photo_id) <= max_length for photo_id in images.upload_ids(body))
    Entry.objects.create(post=post, headline="Archive", body=body)  # DataError on PostgreSQL


# --- 4. Where Django serves media (NEWSROOM_SERVE_MEDIA: make run, the demo, lighthouse) --------
# the catch-all media/<path:path> route serves any non-canonical form of an upload's address:
# /media//uploads/..., /media/./uploads/..., /media/authors/../uploads/... reach static.serve,
# which normalises the path and sends a draft's or a withdrawn entry's photo to anyone.


@pytest.fixture
def django_serves_media(settings):
    """newsroom/urls.py as `make run` (DEBUG) or NEWSROOM_SERVE_MEDIA=1 loads it, with the test's MEDIA_ROOT."""
    settings.NEWSROOM_SERVE_MEDIA = True
    spec = importlib.util.spec_from_file_location("redteam_media_urls", Path(newsroom.urls.__file__))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    settings.ROOT_URLCONF = spec.name
    yield
    sys.modules.pop(spec.name, None)


@pytest.mark.parametrize("prefix", ["/media//uploads/", "/media/./uploads/", "/media/authors/../uploads/"])
def test_where_django_serves_media_no_other_spelling_of_a_drafts_photo_reaches_it(
    client, journalist, post, photo, prefix, django_serves_media
):
    EntryFactory(post=post, created_by=journalist, body=placing(photo))
    assert status(client, photo) == 404
    assert status(client, photo.replace("/media/uploads/", prefix)) == 404


# --- 5. WebP renditions are typed from the host's /etc/mime.types ------------------------------
# mimetypes knows .webp only from Python 3.13 or from /etc/mime.types; the production image
# (python:3.12-slim) has neither, so every srcset candidate is "application/octet-stream" with
# nosniff (nginx's mime.types typed them before this change).


def test_a_rendition_is_typed_webp_whatever_the_hosts_mime_types(client, post, photo, monkeypatch):
    PublishedEntryFactory(post=post, body=placing(photo))
    monkeypatch.setattr(mimetypes, "guess_type", mimetypes.MimeTypes(filenames=()).guess_type)  # as on python:3.12-slim
    response = client.get(renditions(photo)[0])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
