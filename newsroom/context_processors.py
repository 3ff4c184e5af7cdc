from django.conf import settings


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "NEWSROOM_TIME_ZONE": settings.TIME_ZONE,
        "STREAM_CATCH_UP": settings.NEWSROOM_STREAM_ENGINE == "nchan",
    }
