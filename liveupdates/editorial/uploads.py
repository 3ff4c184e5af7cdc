"""The rich-text editor's image uploader: staff only, every file verified and re-encoded.

CKEditor 4 posts files from an iframe form or with XHR and cannot send Django's
CSRF token, so this view is exempt from the CSRF middleware. It is still safe
from cross-site requests: the session cookie is SameSite=Lax, so a cross-site
POST arrives without a session and is refused as anonymous, and CKEditor's own
double-submit token (ckCsrfToken cookie == form field) is checked as well.
"""

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.middleware.csp import get_nonce
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.html import escapejs
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from liveupdates import images
from liveupdates.editorial import workflow

UPLOAD_DIR = "uploads"


def _reply(request, *, url=None, error=None):
    func_num = request.GET.get("CKEditorFuncNum", "")
    if func_num.isdigit():
        # The image dialog's "Upload" tab expects a script calling back into the editor.
        script = "window.parent.CKEDITOR.tools.callFunction({}, '{}', '{}');".format(
            func_num, escapejs(url or ""), escapejs(error or "")
        )
        nonce = get_nonce(request)
        response = HttpResponse(f'<script nonce="{nonce}">{script}</script>', status=200)
        # This one response must run an inline script: allow exactly it, by nonce.
        response._csp_config = {"default-src": [CSP.NONE], "script-src": [CSP.NONCE]}
        return response
    if error:
        return JsonResponse({"uploaded": 0, "error": {"message": error}}, status=400)
    return JsonResponse({"uploaded": 1, "fileName": url.rsplit("/", 1)[-1], "url": url})


@csrf_exempt
@require_POST
def upload_image(request):
    if not workflow.can_upload(request.user):
        return JsonResponse({"uploaded": 0, "error": {"message": _("Log in as newsroom staff to upload images.")}}, status=403)
    token = request.POST.get("ckCsrfToken")
    if token is not None and token != request.COOKIES.get("ckCsrfToken"):
        return JsonResponse(
            {"uploaded": 0, "error": {"message": _("The upload form expired. Reload the page and try again.")}}, status=403
        )
    upload = request.FILES.get("upload")
    if upload is None:
        return _reply(request, error=_("No file was received. Choose an image and try again."))
    try:
        name = images.store(default_storage, f"{UPLOAD_DIR}/{timezone.now():%Y/%m}", upload)
    except ValidationError as error:
        return _reply(request, error=" ".join(error.messages))
    return _reply(request, url=default_storage.url(name))
