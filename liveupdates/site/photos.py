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
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from liveupdates import images
from liveupdates.editorial import workflow
from liveupdates.models import EntryPhoto
from liveupdates.site.views import answer_conditionally, public_for

PHOTO_MAX_AGE = 1  # like a page: a withdrawn entry's photo is gone from every cache within seconds


@require_safe
def photo(request, name):
    path = f"{images.UPLOAD_DIR}/{name}"
    photo_id = images.upload_id(path)
    if photo_id is None:
        raise Http404("No such image.")
    public = EntryPhoto.objects.public().filter(photo=photo_id).exists()
    if not public and not workflow.can_preview(request.user):
        raise Http404("No such image.")

    def respond():
        try:
            file = default_storage.open(path, "rb")
        except (OSError, SuspiciousFileOperation) as error:
            raise Http404("No such image.") from error
        return FileResponse(file, content_type=images.UPLOAD_TYPES[path.rsplit(".", 1)[-1]])

    # A stored file never changes (a new upload is a new name), so its name is its version. A draft's
    # or a withdrawn entry's photo goes to newsroom staff only, never into a shared cache.
    etag = f'"{hashlib.sha256(path.encode()).hexdigest()[:32]}"'
    return answer_conditionally(request, etag, public_for(PHOTO_MAX_AGE) if public else "private, no-cache", respond)
