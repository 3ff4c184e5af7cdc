#!/usr/bin/env python
"""Is the live page flat as content grows? Time and query count of a page build at 100 and 100,000 entries.

Builds a benchmark database (the demo, then a live post grown to each size with
`generate_entries`), and at each size requests the live post's first page
through Django's test client in this process: every request builds the page
from the database (there is no page cache and no process memo any more; the
entries' fragments come from the cache, warmed by the first requests). It
prints the median and the fastest of --repeat requests after --warm-up
requests, and the query count of one more request
(django.test.utils.CaptureQueriesContext), at each size, with the ratio of the
largest size to the smallest.

With --all-pages it measures every public page that lists entries, the API and
feed lists and the admin's lists too. With --profile it also splits the live
page's time at the largest size into database, fragment-cache reads, template
rendering and the rest (the ORM, the view, the middleware), over the same
number of requests, and prints a cProfile of --profile-builds page builds
(top 25 by cumulative time).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_scale REDIS_URL=redis://127.0.0.1:6379/15 \
        .venv/bin/python bench/scale.py --sizes 100 100000 --repeat 100 --profile
    .venv/bin/python bench/scale.py --sizes 100 10000 --repeat 20      # SQLite, local memory: quicker

The goal: the live page at ≤ 4 ms median at 100 and at 100,000 entries, with the same query count;
every page within 1.2x between the sizes; admin lists under 300 ms.
"""

import argparse
import atexit
import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database  # noqa: E402

SLUG = "russian-jets-strike-daraa-again"
LIVE_PAGE = "live post, first page"


def demo_photo():
    """The address of a photo a public demo entry places (liveupdates/site/photos.py answers it)."""
    from liveupdates.models import Entry

    bodies = Entry.objects.published().filter(body__contains='src="/media/uploads/').values_list("body", flat=True)
    return re.search(r'src="(/media/uploads/[^"]+)"', bodies[0])[1]


def timed(samples):
    """Median and fastest of `samples` (ms)."""
    return statistics.median(samples), min(samples)


@contextmanager
def attributed(totals, per_query):
    """Time spent in the database, compiling SQL, reading the fragment cache and rendering templates, into `totals` (s).

    Each moment counts once, for the innermost kind of work under way (a query a template
    makes counts as database, not templates). `per_query` gathers the database's time by SQL
    text: the round trip and the server's work. Building querysets, turning rows into model
    instances, the view and the middleware are "the rest".
    """
    from django.db import connection
    from django.db.models.sql import compiler

    from liveupdates.delivery import fragments
    from liveupdates.site import assembly

    stack = []  # [bucket, started] of the kinds of work under way, innermost last

    def enter(bucket):
        now = time.perf_counter()
        if stack:
            totals[stack[-1][0]] += now - stack[-1][1]
        stack.append([bucket, now])

    def leave():
        now = time.perf_counter()
        bucket, started = stack.pop()
        totals[bucket] += now - started
        if stack:
            stack[-1][1] = now
        return now - started

    def on_query(execute, sql, params, many, context):
        enter("database")
        try:
            return execute(sql, params, many, context)
        finally:
            spent = leave()
            per_query[sql] = per_query.get(sql, 0.0) + spent

    def wrap(owner, name, bucket):
        original = owner.__dict__[name]

        def wrapper(*args, **kwargs):
            if stack and stack[-1][0] == bucket:  # nested (a subquery compiling): already counted
                return original(*args, **kwargs)
            enter(bucket)
            try:
                return original(*args, **kwargs)
            finally:
                leave()

        setattr(owner, name, wrapper)
        return owner, name, original

    patched = [
        wrap(fragments, "_get_many", "fragment cache reads"),
        wrap(fragments, "_set_many", "fragment cache writes"),
        wrap(fragments, "render_to_string", "templates"),
        wrap(assembly, "render_to_string", "templates"),
        wrap(compiler.SQLCompiler, "as_sql", "compiling SQL (the ORM's as_sql)"),
    ]
    try:
        with connection.execute_wrapper(on_query):
            yield totals
    finally:
        for owner, name, original in patched:
            setattr(owner, name, original)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--repeat", type=int, default=100, help="measured requests per page and size")
    parser.add_argument("--warm-up", type=int, default=5, help="requests per page before measuring")
    parser.add_argument("--all-pages", action="store_true", help="every page that lists entries, not only the live post")
    parser.add_argument("--profile", action="store_true", help="split and profile the live page at the largest size")
    parser.add_argument("--profile-builds", type=int, default=1, help="page builds under cProfile")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="newsroom-scale-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/scale.sqlite3"
    fresh_database(database_url)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
            "NEWSROOM_SITE_URL": "http://127.0.0.1:8000",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_STATIC_MANIFEST": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from liveupdates.models import Entry, LivePost

    call_command("migrate", verbosity=0)
    settings.DEBUG = True  # load_demo's accounts; queries are captured explicitly below
    call_command("load_demo", verbosity=0)
    settings.DEBUG = False
    editor = get_user_model().objects.get(username="editor")
    post = LivePost.objects.get(slug=SLUG)
    reader, staff = Client(), Client()
    staff.force_login(editor)
    entry = Entry.objects.published().for_post(post).first()
    pages = [(LIVE_PAGE, reader, f"/live/{SLUG}/")]
    if args.all_pages:
        pages += [
            ("live post, entry permalink", reader, entry.get_absolute_url()),
            ("column", reader, "/columns/putin-in-syria/"),
            ("author", reader, "/authors/pierre-vaux/"),
            ("place (with places inside)", reader, "/places/syria/"),
            ("source", reader, "/sources/local-coordination-committees/"),
            ("tag", reader, "/tags/air-strikes/"),
            ("search", reader, "/search/?q=strikes"),
            ("feed (post)", reader, f"/live/{SLUG}/feed/"),
            ("an entry's photo (its gate)", reader, demo_photo()),
            ("API entries list", reader, f"/api/entries?post={SLUG}"),
            ("admin: entry list", staff, "/admin/liveupdates/entry/"),
            ("admin: entry list, one post", staff, f"/admin/liveupdates/entry/?post__id__exact={post.pk}"),
            ("admin: live desk", staff, f"/admin/liveupdates/livepost/{post.pk}/desk/"),
            ("admin: review queue", staff, "/admin/liveupdates/entry/review/"),
        ]
    results, split = {}, None
    have = Entry.objects.for_post(post).count()
    sizes = sorted(args.sizes)
    for size in sizes:
        if size > have:
            call_command("generate_entries", post=SLUG, count=size - have, stdout=open(os.devnull, "w"))
            have = size
        if connection.vendor == "postgresql":
            # As autovacuum leaves a live table: statistics fresh and the visibility map set,
            # so the measurement neither races autovacuum nor reads every heap page of a bulk load.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        for label, client, url in pages:
            for _ in range(args.warm_up):
                assert client.get(url).status_code == 200, url  # warms the fragment cache and the frame
            times, cpu = [], []
            for _ in range(args.repeat):
                start, start_cpu = time.perf_counter(), time.process_time()
                client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            results.setdefault(label, []).append((size, *timed(times), len(queries), statistics.median(cpu)))
        if args.profile and size == sizes[-1]:
            split = profile(reader, pages[0][2], args.repeat, args.profile_builds)
        print(f"measured at {size:,} entries", file=sys.stderr)

    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"database: {connection.vendor}; fragment cache: {cache}; {os.cpu_count()} cores; load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; median (and fastest) of {args.repeat} requests "
        f"after {args.warm_up}; every request builds the page"
    )
    print("(cpu: median CPU time of this process per request, which the machine's other load inflates less than wall time)")
    print(f"{'page':<32}" + "".join(f"{f'{s:,} entries':>40}" for s in sizes) + f"{'ratio (median, fastest)':>26}")
    for label, rows in results.items():
        cells = "".join(
            f"{f'{ms:7.2f} ({fastest:5.2f}) ms, cpu {cpu:5.2f} ms ({q:>2} q)':>40}" for _, ms, fastest, q, cpu in rows
        )
        print(f"{label:<32}{cells}{rows[-1][1] / rows[0][1]:>15.2f}x{rows[-1][2] / rows[0][2]:>9.2f}x")
    live = results[LIVE_PAGE]
    met = all(ms <= 4.0 for _, ms, _, _, _ in live) and len({row[3] for row in live}) == 1
    print(f"goal (live page ≤ 4 ms median at every size, same query count): {'met' if met else 'NOT met'}")
    if split is not None:
        print(split)


def profile(client, url, repeat, builds):
    """Where a live page build's time goes, at this size: a split by kind of work, and a cProfile."""
    totals = dict.fromkeys(
        ("database", "compiling SQL (the ORM's as_sql)", "fragment cache reads", "fragment cache writes", "templates"), 0.0
    )
    wall, per_query = 0.0, {}
    with attributed(totals, per_query):
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(url)
            wall += time.perf_counter() - start
    out = io.StringIO()
    out.write(f"\nwhere the live page's time goes (mean of {repeat} requests, this size):\n")
    rest = wall - sum(totals.values())
    for name, seconds in [*totals.items(), ("the rest (querysets, model instances, view, middleware)", rest)]:
        out.write(f"  {name:<58} {1000 * seconds / repeat:6.2f} ms  {100 * seconds / wall:5.1f}%\n")
    out.write(f"  {'total':<58} {1000 * wall / repeat:6.2f} ms\n")
    out.write("\nthe queries of one build (mean time each, round trip included):\n")
    for sql, seconds in sorted(per_query.items(), key=lambda item: -item[1]):
        out.write(f"  {1000 * seconds / repeat:6.2f} ms  {' '.join(sql.split())[:150]}\n")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(builds):
        client.get(url)
    profiler.disable()
    out.write(f"\ncProfile of {builds} page build(s), top 25 by cumulative time:\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(25)
    out.write("the same, top 15 by own time:\n")
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


if __name__ == "__main__":
    main()
