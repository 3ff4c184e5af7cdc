from django.core.management.base import BaseCommand

from liveupdates.delivery.nchan import Relay


class Command(BaseCommand):
    help = "Publish every new live event to nchan (NEWSROOM_STREAM_ENGINE=nchan); runs until stopped."

    def handle(self, *args, **options):
        Relay().run_forever()
