from django.conf import settings
from django.http import HttpResponseBadRequest
from django.middleware.gzip import GZipMiddleware


class StaffAreaContentSecurityPolicy:
    """Give the staff-only admin its own, looser Content-Security-Policy.

    Public pages get the strict SECURE_CSP. The admin runs CKEditor 4, which
    needs inline scripts and styles; it is staff-only and behind login. Placed after
    Django's ContentSecurityPolicyMiddleware so this runs first on the way out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/admin/") and not hasattr(response, "_csp_config"):
            response._csp_config = settings.NEWSROOM_ADMIN_CSP
        return response


class CompressPages(GZipMiddleware):
    """gzip for pages, feeds and API answers; never for the live stream, which must not be buffered.

    Django's GZipMiddleware honours the reader's Accept-Encoding, sets Vary,
    and pads compressed HTML against BREACH.
    """

    def process_response(self, request, response):
        if response.streaming or not accepts_gzip(request.headers.get("Accept-Encoding", "")):
            return response
        return super().process_response(request, response)


def accepts_gzip(accept_encoding):
    """Whether the reader accepts gzip: named (or "*") without q=0. Django's own check ignores q."""
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip().lower().removeprefix("q=").strip() if params.strip().lower().startswith("q=") else "1"
        try:
            return float(quality) > 0
        except ValueError:
            return False
    return False


class RefuseNulBytes:
    """A NUL character in a query parameter is refused with a 400 before any view sees it.

    PostgreSQL cannot store or compare text containing NUL, so such a value
    reaching a query would fail as a 500. Forms already refuse NUL; query
    parameters (search, filters, cursors, the API) are refused here, once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            "\x00" in request.path
            or any("\x00" in value for values in request.GET.lists() for value in values[1])
            or any("\x00" in key for key in request.GET)
        ):
            return HttpResponseBadRequest("A request parameter contains a NUL character.", content_type="text/plain")
        return self.get_response(request)
