from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class LiveUpdatesConfig(AppConfig):
    name = "liveupdates"
    verbose_name = _("Live coverage")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Late: these import models, which exist only once the app registry is ready.
        from liveupdates.delivery import fragments
        from liveupdates.editorial import revisions
        from liveupdates.models import posts

        fragments.connect()
        posts.connect()
        revisions.register()
        checks.register(fetch_allow_check, checks.Tags.security, deploy=True)


def fetch_allow_check(app_configs, **kwargs):
    """NEWSROOM_FETCH_ALLOW opens private addresses to server-side fetches: for the test suite's fixture server only."""
    from django.conf import settings

    if settings.NEWSROOM_FETCH_ALLOW and not settings.DEBUG:
        return [
            checks.Warning(
                "NEWSROOM_FETCH_ALLOW is set in production: card fetches may reach these private addresses.",
                hint="Unset NEWSROOM_FETCH_ALLOW; it exists for the tests' local fixture server.",
                id="liveupdates.W014",
            )
        ]
    return []
