from django.core.management.base import BaseCommand

from liveupdates.delivery import stream_server


class Command(BaseCommand):
    help = (
        "Serve the built-in live stream (/live/<slug>/stream/ only) from several processes on one port "
        "(SO_REUSEPORT); a worker that dies is started again. Runs until stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2; one per core is a start)")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")

    def handle(self, *args, processes, port, host, **options):
        if processes < 1:
            self.stderr.write("--processes must be at least 1.")
            raise SystemExit(2)
        stream_server.run(host=host, port=port, processes=processes)
