"""Make the newsroom's own VAPID key pair for Web Push alerts, and print the public key."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from liveupdates.delivery import push


class Command(BaseCommand):
    help = "Write a new VAPID private key (PEM) for Web Push alerts, and print its public key."

    def add_arguments(self, parser):
        parser.add_argument("--file", help="Where to write the key (default: NEWSROOM_VAPID_PRIVATE_KEY_FILE).")
        parser.add_argument("--if-missing", action="store_true", help="Keep an existing key (make run uses this).")

    def handle(self, *args, **options):
        from py_vapid import Vapid

        path = Path(options["file"] or settings.NEWSROOM_VAPID_PRIVATE_KEY_FILE or "")
        if not str(path) or str(path) == ".":
            raise CommandError("Name the key file: --file PATH, or set NEWSROOM_VAPID_PRIVATE_KEY_FILE.")
        if path.exists():
            if not options["if_missing"]:
                raise CommandError(
                    f"{path} exists. Browsers subscribed with its public key; a new key ends every subscription. "
                    "Remove the file first if that is what you want."
                )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            vapid = Vapid()
            vapid.generate_keys()
            vapid.save_key(str(path))
            path.chmod(0o600)
            self.stdout.write(f"Wrote a new VAPID private key to {path}.")
        settings.NEWSROOM_VAPID_PRIVATE_KEY_FILE = str(path)
        self.stdout.write(f"Public key (applicationServerKey): {push.public_key()}")
