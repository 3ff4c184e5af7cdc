"""The rich-text editor's image uploader: staff only, every file verified and re-encoded.

CKEditor 4 posts files from an iframe form or with XHR and cannot send Django's
CSRF token; it sends its own double-submit token instead (the `ckCsrfToken`
cookie, equal to the form field of that name). So this view is exempt from the
CSRF middleware and checks one of the two itself: CKEditor's token, or Django's
(the desk's photo panel sends it in `X-CSRFToken`). A request with neither is
refused: SameSite cookies alone are not a CSRF defence we rely on.
"""

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.csp import CSP
from django.utils.html import escapejs
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from liveupdates import images
from liveupdates.editorial import workflow


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


def _from_our_pages(request):
    """CKEditor's double-submit token when it sent one, else Django's own CSRF check."""
    token = request.POST.get("ckCsrfToken")
    if token:
        return constant_time_compare(token, request.COOKIES.get("ckCsrfToken") or "")
    # The middleware's own rules (token, Origin, Referer), asked about a view that is not exempt.
    refusal = CsrfViewMiddleware(lambda request: None).process_view(request, _checked, (), {})
    return refusal is None


def _checked(request):  # stands for this view in the CSRF check above: a callable that is not exempt
    raise NotImplementedError


@csrf_exempt
@require_POST
def upload_image(request):
    if not workflow.can_upload(request.user):
        return JsonResponse({"uploaded": 0, "error": {"message": _("Log in as newsroom staff to upload images.")}}, status=403)
    if not _from_our_pages(request):
        return JsonResponse(
            {"uploaded": 0, "error": {"message": _("The upload form expired. Reload the page and try again.")}}, status=403
        )
    upload = request.FILES.get("upload")
    if upload is None:
        return _reply(request, error=_("No file was received. Choose an image and try again."))
    try:
        name = images.store(default_storage, f"{images.UPLOAD_DIR}/{timezone.now():%Y/%m}", upload)
    except ValidationError as error:
        return _reply(request, error=" ".join(error.messages))
    return _reply(request, url=default_storage.url(name))
