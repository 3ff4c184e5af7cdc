from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from liveupdates.editorial import demo, workflow


class Command(BaseCommand):
    help = (
        "Load the 'Putin in Syria' demo column, its two live posts and their entries. "
        "Safe to run again: nothing is duplicated. In debug mode it also creates a demo "
        "journalist and editor and prints their passwords once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as",
            dest="username",
            help="Publish the demo as this existing editor (required outside debug mode, where no demo accounts are made).",
        )

    def handle(self, *args, username=None, **options):
        editor = None
        if username:
            editor = get_user_model().objects.filter(username=username).first()
            if editor is None or not workflow.can_publish(editor) or not workflow.can_publish_post(editor):
                raise CommandError(f"'{username}' is not an active staff user with permission to publish. Name an editor.")
        elif not settings.DEBUG:
            raise CommandError(
                "Outside debug mode no demo accounts are created. Run with --as <editor username>, "
                "or set DJANGO_DEBUG=1 for a local demo."
            )
        passwords, created = demo.load(editor=editor, create_accounts=settings.DEBUG and editor is None)
        self.stdout.write(self.style.SUCCESS(f"Demo loaded: {created} new entries."))
        for name, password in passwords.items():
            self.stdout.write(
                f"  Demo {name}: username '{name}', password '{password}'  (shown once; reset with `manage.py changepassword {name}`)"
            )
        if settings.DEBUG and not passwords and editor is None:
            self.stdout.write(
                "  Demo accounts 'journalist' and 'editor' already exist; reset a password with `manage.py changepassword <name>`."
            )
