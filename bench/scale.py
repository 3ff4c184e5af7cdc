#!/usr/bin/env python
"""Is every page flat as content grows? Time and query count of each page at 100, 10,000 and 100,000 entries.

Builds a benchmark database (the demo, then a live post grown to each size with
`generate_entries`), and at each size requests every public page that lists
entries, the API and feed lists, and the admin's entry list and live desk,
through Django in this process with the page cache and the memo off (so each
request does the full work), and prints the median time, the query count, and
the ratio to the smallest size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_scale .venv/bin/python bench/scale.py
    .venv/bin/python bench/scale.py --sizes 100 10000 --repeat 20      # SQLite, quicker

The goal (issue 6): the biggest size within 1.2x of the smallest; admin lists under 300 ms.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database  # noqa: E402
SLUG = "russian-jets-strike-daraa-again"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="newsroom-scale-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/scale.sqlite3"
    fresh_database(database_url)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "newsroom.settings", "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "DJANGO_ALLOWED_HOSTS": "testserver", "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_STATIC_MANIFEST": "0", "DJANGO_LOG_LEVEL": "WARNING", "DATABASE_URL": database_url,
        "NEWSROOM_PAGE_CACHE": "0", "NEWSROOM_PAGE_MEMO_SECONDS": "0",
    })
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from liveupdates.models import Entry, LivePost

    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.DEBUG = True  # load_demo's accounts; queries are captured explicitly below
    call_command("load_demo", verbosity=0)
    settings.DEBUG = False
    editor = get_user_model().objects.get(username="editor")
    post = LivePost.objects.get(slug=SLUG)
    reader, staff = Client(), Client()
    staff.force_login(editor)
    entry = Entry.objects.published().for_post(post).first()
    pages = [
        ("live post, first page", reader, f"/live/{SLUG}/"),
        ("live post, entry permalink", reader, entry.get_absolute_url()),
        ("column", reader, "/columns/putin-in-syria/"),
        ("author", reader, "/authors/pierre-vaux/"),
        ("place (with places inside)", reader, "/places/syria/"),
        ("source", reader, "/sources/local-coordination-committees/"),
        ("tag", reader, "/tags/air-strikes/"),
        ("search", reader, "/search/?q=strikes"),
        ("feed (post)", reader, f"/live/{SLUG}/feed/"),
        ("API entries list", reader, f"/api/entries?post={SLUG}"),
        ("admin: entry list", staff, "/admin/liveupdates/entry/"),
        ("admin: entry list, one post", staff, f"/admin/liveupdates/entry/?post__id__exact={post.pk}"),
        ("admin: live desk", staff, f"/admin/liveupdates/livepost/{post.pk}/desk/"),
        ("admin: review queue", staff, "/admin/liveupdates/entry/review/"),
    ]
    results = {}
    have = Entry.objects.for_post(post).count()
    for size in sorted(args.sizes):
        if size > have:
            call_command("generate_entries", post=SLUG, count=size - have, stdout=open(os.devnull, "w"))
            have = size
        if connection.vendor == "postgresql":
            # As autovacuum leaves a live table: statistics fresh and the visibility map set,
            # so the measurement neither races autovacuum nor reads every heap page of a bulk load.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        for label, client, url in pages:
            for _ in range(3):
                assert client.get(url).status_code == 200, url  # warm the fragment cache
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            results.setdefault(label, []).append((size, statistics.median(times), min(times), len(queries)))
        print(f"measured at {size} entries", file=sys.stderr)

    sizes = sorted(args.sizes)
    # The minimum is what a request costs when nothing else on the machine interferes; on a
    # shared machine the median also carries the neighbours' noise. Both are printed.
    print(f"database: {connection.vendor}; median (and fastest) of {args.repeat} requests; page cache and memo off")
    print(f"{'page':<32}" + "".join(f"{f'{s:,} entries':>28}" for s in sizes) + f"{'ratio (median, fastest)':>26}")
    for label, rows in results.items():
        cells = "".join(f"{f'{ms:7.1f} ({fastest:5.1f}) ms ({q:>2} q)':>28}" for _, ms, fastest, q in rows)
        print(f"{label:<32}{cells}{rows[-1][1] / rows[0][1]:>15.2f}x{rows[-1][2] / rows[0][2]:>9.2f}x")


if __name__ == "__main__":
    main()
