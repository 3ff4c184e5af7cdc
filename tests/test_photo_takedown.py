"""An entry's photos follow it: a takedown takes them, an edit that drops one takes it down,
and a draft's photo is never a reader's (site/photos.py)."""

import importlib
import importlib.util
import mimetypes
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from django.apps import apps
from django.test import Client

import newsroom.urls
from liveupdates import images
from liveupdates.editorial import workflow
from liveupdates.models import Entry, EntryPhoto

from .browser import free_port
from .factories import EntryFactory, PublishedEntryFactory
from .nodes import loopback_nginx_conf, require_nginx, wait_until_listening
from .test_photos import jpeg, upload

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def photo(journalist):
    """The address of a photo a journalist has just uploaded (1200 px wide: it has renditions)."""
    staff = Client()
    staff.force_login(journalist)
    response = upload(staff, "douma.jpg", jpeg((1200, 800)))
    assert response.status_code == 200, response.content
    return response.json()["url"]


def renditions(url):
    return [candidate.split()[0] for candidate in images.srcset(url)[0].split(", ")]


def placing(url):
    return f'<p>Rescuers in Douma.</p><p><img alt="Rescuers" src="{url}"></p>'


def status(client, url, **headers):
    return client.get(url, headers=headers).status_code


def test_a_public_entrys_photo_and_its_renditions_are_served_and_kept_one_second(client, post, photo):
    PublishedEntryFactory(post=post, body=placing(photo))
    files = [photo, *renditions(photo)]
    assert len(files) == 4  # the photo; its 480, 960 and 1200 px (its own width) renditions
    for url in files:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "public, max-age=1, stale-while-revalidate=1"
        assert response["Content-Type"] in {"image/jpeg", "image/webp"}
        assert b"".join(response.streaming_content)[:2] in {b"\xff\xd8", b"RI"}


def test_a_withdrawn_entrys_photo_and_every_rendition_are_gone_from_readers_at_once(client, editor, post, photo):
    entry = PublishedEntryFactory(post=post, body=placing(photo))
    assert status(client, photo) == 200
    workflow.withdraw(entry=entry, user=editor, reason="Legal: the person must not be identified.")
    assert [status(client, url) for url in [photo, *renditions(photo)]] == [404, 404, 404, 404]


def test_a_drafts_photo_is_shown_to_newsroom_staff_privately_and_never_to_readers(client, journalist, post, photo):
    EntryFactory(post=post, created_by=journalist, body=placing(photo))
    assert status(client, photo) == 404
    client.force_login(journalist)
    response = client.get(photo)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-cache"


def test_a_photo_no_entry_places_yet_is_not_a_readers(client, photo):
    assert status(client, photo) == 404  # uploaded on the desk, the entry not yet saved


def test_an_edit_that_takes_a_photo_out_takes_it_down_unless_another_public_entry_places_it(client, post, photo):
    entry = PublishedEntryFactory(post=post, body=placing(photo))
    entry.body = "<p>Rescuers in Douma.</p>"
    entry.save()
    assert status(client, photo) == 404
    PublishedEntryFactory(post=post, body=placing(photo))  # the same photo, placed by another public entry
    assert status(client, photo) == 200


def test_unpublishing_a_post_takes_its_photos_down_and_publishing_it_again_brings_them_back(client, editor, post, photo):
    PublishedEntryFactory(post=post, body=placing(photo))
    workflow.unpublish_post(post=post, user=editor)
    assert status(client, photo) == 404
    workflow.publish_post(post=post, user=editor)
    assert status(client, photo) == 200


def test_an_approved_edit_places_its_photos_and_takes_down_the_ones_it_dropped(client, journalist, editor, post, photo):
    entry = PublishedEntryFactory(post=post, created_by=journalist, body="<p>Rescuers in Douma.</p>")
    assert status(client, photo) == 404
    proposal = workflow.propose_edit(entry=entry, user=journalist, headline=entry.headline, body=placing(photo))
    workflow.approve_edit(proposal=proposal, user=editor)
    assert status(client, photo) == 200
    entry.refresh_from_db()
    proposal = workflow.propose_edit(entry=entry, user=journalist, headline=entry.headline, body="<p>No photo.</p>")
    workflow.approve_edit(proposal=proposal, user=editor)
    assert status(client, photo) == 404


def test_an_unchanged_photo_is_answered_not_modified_with_one_query(client, post, photo, django_assert_num_queries):
    PublishedEntryFactory(post=post, body=placing(photo))
    etag = client.get(photo)["ETag"]
    with django_assert_num_queries(1):
        response = client.get(photo, headers={"If-None-Match": etag})
    assert response.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/media/uploads/../settings.py",
        "/media/uploads/2026/12/..%2F..%2Fsecret.jpg",
        "/media/uploads/2026/12/notahexname_10x10.jpg",
        "/media/uploads/2026/12/" + "a" * 32 + "_10x10.jpg",  # no such photo
        "/media/uploads/2026/12/" + "a" * 32 + ".svg",
    ],
)
def test_an_address_that_names_no_public_photo_is_a_404(client, path):
    assert status(client, path) == 404


def test_a_photo_is_refused_to_a_post_request(client, post, photo):
    PublishedEntryFactory(post=post, body=placing(photo))
    assert client.post(photo).status_code == 405


def test_the_migration_records_the_photos_existing_entries_place(post, photo):
    entry = PublishedEntryFactory(post=post, body=placing(photo))
    EntryPhoto.objects.all().delete()
    migration = importlib.import_module("liveupdates.migrations.0021_entry_photos")
    migration.record_placed_photos(apps, None)
    assert list(EntryPhoto.objects.values_list("entry", "photo")) == [(entry.pk, images.upload_id(photo[len("/media/") :]))]


def test_saving_words_without_photos_costs_no_photo_query(post, django_assert_num_queries):
    with django_assert_num_queries(1):  # the INSERT
        Entry.objects.create(post=post, headline="Strikes", body="<p>No photo.</p>")


class Origin(ThreadingHTTPServer):
    """Stands for the page nodes behind nginx: answers a photo with a version number, or 404 once taken down."""

    def __init__(self):
        self.asked, self.taken_down = [], False

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler):
                self.asked.append(handler.path)
                body = b"not here" if self.taken_down else f"photo from the application {len(self.asked)}".encode()
                handler.send_response(404 if self.taken_down else 200)
                handler.send_header("Content-Type", "image/jpeg")
                handler.send_header("Cache-Control", "public, max-age=1, stale-while-revalidate=1")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def behind_nginx():
    """The shipped deploy/nginx.conf on loopback, in front of an Origin; yields (base url, origin, media root)."""
    nginx = require_nginx()
    origin, port = Origin(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="newsroom-media-"))
    tmp.chmod(0o755)  # nginx's unprivileged workers read it (and pytest's tmp_path is private)
    conf = loopback_nginx_conf(
        "nginx.conf",
        tmp,
        {
            "server web:8000;": f"server 127.0.0.1:{origin.server_port};",
            "server stream:8001;": f"server 127.0.0.1:{free_port()};",
            "listen 80;": f"listen 127.0.0.1:{port};",
        },
    )
    (tmp / "nginx.conf").write_text(conf)
    command = [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
    subprocess.run(command, check=True)
    wait_until_listening(port, subprocess.Popen(["true"]), "nginx")
    yield f"http://127.0.0.1:{port}", origin, tmp / "media"
    subprocess.run([*command, "-s", "stop"], check=False, capture_output=True)
    origin.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


def fetch(url):
    try:
        with urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except HTTPError as error:
        return error.code, error.headers, error.read()


def test_behind_the_shipped_nginx_entry_photos_go_to_the_application_and_portraits_are_files(behind_nginx):
    base, origin, media = behind_nginx
    photo = f"uploads/2026/12/{'d' * 32}_1200x800.jpg"
    for name in (photo, "authors/portrait.jpg"):  # both on the disk nginx reads
        (media / name).parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        (media / name).write_bytes(b"the file on disk")

    status, headers, body = fetch(f"{base}/media/authors/portrait.jpg")
    assert (status, body) == (200, b"the file on disk")
    assert "max-age=31536000" in headers["Cache-Control"] and origin.asked == []
    # The folders nginx serves as files are the ones the application names, no more.
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert f"location ~ ^/media/(?<media_file>(?:{'|'.join(images.PLAIN_MEDIA_FOLDERS)})/.+)$" in conf

    status, headers, body = fetch(f"{base}/media/{photo}")
    assert (status, body) == (200, b"photo from the application 1"), "nginx served the photo's file, past its entry's gate"
    assert headers["Cache-Control"] == "public, max-age=1, stale-while-revalidate=1"
    assert origin.asked == [f"/media/{photo}"]

    origin.taken_down = True  # the entry is withdrawn
    asked = len(origin.asked)
    deadline = time.monotonic() + 30  # only a guard against waiting for ever: the bound is the page's (1 s fresh + 1 s stale)
    while fetch(f"{base}/media/{photo}")[0] != 404:
        assert time.monotonic() < deadline, "nginx kept serving a withdrawn entry's photo"
        time.sleep(0.1)
    assert len(origin.asked) > asked, "the 404 came from the application, asked again once the copy expired"
    assert fetch(f"{base}/media/authors/../{photo}")[0] == 404  # no other spelling reaches the file on disk


# Tried by a red team (2026-12-04); each failed on the first version of the gate.

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


# --- 2. One save could hold a worker for ~25 s ---------------------------------------------------
# The id pattern was an unbounded lazy [\w/-]+? run over the whole HTML, and "/media/uploads/"
# is itself made of [\w/] characters, so a 99 KB body of it rescanned to its end at every
# occurrence: ~25 s inside the save's transaction. Now only <img src> and <a href> values reach
# the id pattern, which is bounded (PHOTO_ID_MAX) and matched whole.


def test_a_body_full_of_upload_addresses_in_text_never_reaches_the_id_pattern(monkeypatch):
    asked = []
    monkeypatch.setattr(images, "upload_id", lambda path: asked.append(path))
    images.upload_ids("<p>" + "/media/uploads/" * 6600 + "</p>")
    assert asked == []


def test_the_id_pattern_is_bounded_whatever_the_address():
    assert images.upload_id("uploads/" + "a" * 100_000 + ".jpg") is None
    assert images.upload_id("uploads/" + "a" * images.PHOTO_ID_MAX + ".jpg") == "a" * images.PHOTO_ID_MAX


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


def test_where_django_serves_media_only_portraits_and_lead_images_are_plain_files(client, settings, django_serves_media):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    for name in ("authors/portrait.jpg", "posts/2026/12/lead.jpg", "elsewhere/secret.jpg"):
        default_storage.save(name, ContentFile(b"bytes"))
    assert status(client, "/media/authors/portrait.jpg") == 200
    assert status(client, "/media/posts/2026/12/lead.jpg") == 200
    assert status(client, "/media/elsewhere/secret.jpg") == 404  # an allowlist, not a list of what to refuse


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


def test_a_photo_placed_by_its_full_address_on_this_site_counts_and_on_another_site_does_not(settings):
    settings.SITE_URL = "https://news.example.org"
    ours = '<p><img src="https://news.example.org/media/uploads/2026/12/' + "a" * 32 + '_10x10.jpg" alt="x"></p>'
    theirs = '<p><img src="https://elsewhere.example/media/uploads/2026/12/' + "b" * 32 + '_10x10.jpg" alt="x"></p>'
    assert images.upload_ids(ours + theirs) == {"2026/12/" + "a" * 32}


def test_restoring_a_version_that_placed_a_photo_brings_the_photo_back_and_the_one_it_drops_goes(client, editor, post, photo):
    from reversion.models import Version

    entry = PublishedEntryFactory(post=post, body=placing(photo))
    workflow.record_edit(entry=entry, user=editor, created=True)
    entry.body = "<p>Rescuers in Douma.</p>"
    entry.save()
    workflow.record_edit(entry=entry, user=editor, created=False)
    assert status(client, photo) == 404
    workflow.restore(entry=entry, user=editor, version=Version.objects.get_for_object(entry).last())
    assert status(client, photo) == 200
