"""Readers' side of uploaded photos: a photo's files are answered only while a public entry places it.

An entry's photos are part of its takedown. Served as plain files for a year, a
withdrawn entry's photo stayed at its address, in every cache and in search
engines' image indexes, after its words were gone. So the files under
`MEDIA_ROOT/uploads/` (the photo and its renditions) answer only while an entry
that places the photo is public, read from the database on every request
(EntryPhoto, written with every body); and like a page they may be kept one
second, then asked again (with their ETag: a 304 costs one indexed query).
Newsroom staff also get the photos of drafts, privately. The other media (authors'
portraits, posts' lead images) stay plain files: nginx serves them.
"""

import hashlib

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.views.decorators.http import require_safe

from liveupdates import images
from liveupdates.editorial import workflow
from liveupdates.models import Entry, EntryPhoto

PHOTO_MAX_AGE = 1  # like a page: a withdrawn entry's photo is gone from every cache within seconds


def is_public(photo_id):
    """Whether a public entry places the photo `photo_id` now."""
    return EntryPhoto.objects.filter(photo=photo_id, entry__in=Entry.objects.published()).exists()


@require_safe
def photo(request, name):
    path = f"{images.UPLOAD_DIR}/{name}"
    photo_id = images.upload_id(path)
    if photo_id is None:
        raise Http404("No such image.")
    if is_public(photo_id):
        cache_control = f"public, max-age={PHOTO_MAX_AGE}, stale-while-revalidate={PHOTO_MAX_AGE}"
    elif workflow.can_preview(request.user):
        cache_control = "private, no-cache"
    else:
        raise Http404("No such image.")
    # A stored file never changes (a new upload is a new name), so its name is its version.
    etag = f'"{hashlib.sha256(path.encode()).hexdigest()[:32]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        try:
            file = default_storage.open(path, "rb")
        except (OSError, SuspiciousFileOperation) as error:
            raise Http404("No such image.") from error
        response = FileResponse(file, content_type=images.UPLOAD_TYPES[path.rsplit(".", 1)[-1]])
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response
