from django.apps import AppConfig
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
