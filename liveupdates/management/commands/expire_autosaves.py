"""Delete the desk's autosaves older than NEWSROOM_AUTOSAVE_DAYS days; run it daily (cron or a timer)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from liveupdates.models import Autosave


class Command(BaseCommand):
    help = "Delete autosaves (words typed on the desk and never saved) not changed for NEWSROOM_AUTOSAVE_DAYS days."

    def handle(self, *args, **options):
        # Autosave rows have no dependants: a plain delete, safe to run again at any time.
        deleted, _ = Autosave.objects.expired().delete()
        days = settings.NEWSROOM_AUTOSAVE_DAYS
        self.stdout.write(
            ngettext(
                "Deleted %(count)d autosave older than %(days)d days.",
                "Deleted %(count)d autosaves older than %(days)d days.",
                deleted,
            )
            % {"count": deleted, "days": days}
        )
