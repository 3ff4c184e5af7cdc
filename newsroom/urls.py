import posixpath

from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.static import serve

from liveupdates import images
from liveupdates.editorial import uploads
from liveupdates.site import photos
from liveupdates.site.api import api


def favicon(request):
    # Looked up per request: the fingerprinted name exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("liveupdates/icon.svg"))


# The desk's script gets a refusal it can show, in JSON, for a request too big to read.
handler400 = "liveupdates.editorial.admin.desk_api.bad_request"

urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/uploads/image/", uploads.upload_image, name="richtext_image_upload"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("liveupdates.urls")),
    # Uploaded photos follow their entry (a takedown takes them too): never a plain file.
    path(f"{settings.MEDIA_URL.lstrip('/')}{images.UPLOAD_DIR}/<path:name>", photos.photo, name="photo"),
]

if settings.NEWSROOM_SERVE_MEDIA:
    # Production serves media from the web server (deploy/nginx.conf) or object storage.

    def serve_media(request, path):
        # Only the folders whose files are public as files: an entry's photos go through their gate,
        # whatever the spelling ("//uploads/", "x/../uploads/", "Uploads/" on a case-blind disk).
        if not posixpath.normpath(path).startswith(tuple(f"{folder}/" for folder in images.PLAIN_MEDIA_FOLDERS)):
            raise Http404("No such file.")
        return serve(request, path, document_root=settings.MEDIA_ROOT)

    urlpatterns += [path("media/<path:path>", serve_media)]
