from django.conf import settings


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
