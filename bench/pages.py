#!/usr/bin/env python
"""Live-page throughput against the machine's ceiling: nginx serving the same bytes as a static file.

Every live page is built from the database on each request (no page cache, no
process memo); in production readers reach it through nginx's one-second
micro-cache (deploy/nginx.conf). This script builds a benchmark database (the
demo plus generated entries, so the live post has --entries entries), starts
granian (WSGI, 2 workers) and uvicorn (ASGI, 2 workers), and an nginx whose
configuration is deploy/nginx.conf itself, with only its addresses and paths
rewritten for loopback (its upstreams pointed at that granian and uvicorn, its
cache, pid, logs and temporary files in a temporary directory, listening on a
free loopback port) plus one extra server for the static copy. Then, with
`wrk -t2 -c64` on loopback, it measures (the nginx rows, (a), (b) and the
variants below, taking turns in --slice-second slices, --seconds each in all,
so that the machine's drift hits them alike; the others one after the other,
--seconds each):

  (a) nginx serving the page's HTML as a static file (the ceiling);
  (b) the live post behind the shipped nginx configuration, in front of granian;
  (c) the live post straight from granian, 2 workers (every request builds the page);
  (d) the live post straight from uvicorn, 2 workers;
      the floor under any page build: the same bytes from a Django view behind
      the full middleware, with no query, then after one indexed query (bench/floor_app.py);
  (e) (b), (c) and the variants again while a writer process (Django on the same database,
      through liveupdates.editorial.workflow) publishes an entry every second and
      withdraws the one it published 3 s before. Each entry carries a unique
      word. During the run a reader loads the page every 0.2 s (how long until
      a new entry shows; how long a withdrawn one is still served); after
      the run the script checks, through nginx and straight from granian, that
      the page shows the newest published entry's word and no withdrawn entry's: at
      once, and after a quiet moment longer than a micro-cache copy lives (2.5 s);
  (f) a takedown after a quiet moment: an entry is published, a reader loads the
      page through each nginx, the entry is withdrawn, nobody reads for 5 s, then
      a reader comes: is the withdrawn word served?
  (a) once more at the end, to show how much the machine drifted during the run.

It prints requests/s with the ratio to (a) measured first in the same round.
Next to the shipped nginx (which honours the page's own `Cache-Control:
max-age=1, stale-while-revalidate=1`, with background updates: stale copies
only within a bounded window) it runs one variant of the same file (rows
marked *, not shipped; skip with --no-variant), for comparison of throughput
and freshness: "updating" (`proxy_cache_use_stale updating` with background
updates, as shipped before commit fcc4075: an expired copy of any age is
served while it is fetched again). See VARIANTS. With --rounds N the rows (a)-(d)
are measured N times, and the median ratio is printed too.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_bench REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/pages.py --rounds 3
    .venv/bin/python bench/pages.py          # SQLite + local-memory cache

Needs `wrk` and `nginx` (apt-get install wrk nginx). Loopback only; every run is bounded
in time, and every process the script starts is stopped when it ends.
"""

import argparse
import atexit
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, fresh_database, start_group, stop, wait_for  # noqa: E402

SLUG = "russian-jets-strike-daraa-again"
PATH = f"/live/{SLUG}/"
# deploy/nginx.conf keeps a copy 1 s (proxy_cache_valid 1s), on nginx's whole-second clock: a
# copy expires 1 to 2 s after it was fetched. A copy served up to 2 s after a change keeps that
# promise; one older does not.
FRESH_WITHIN = 2.0


def env_for(database_url, **extra):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "NEWSROOM_SITE_URL": "http://127.0.0.1:8000",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_STATIC_MANIFEST": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
    }
    env.update(extra)
    return env


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, seconds):
    """(requests/s, non-2xx responses, socket errors by kind, 99th percentile latency in ms) of one bounded wrk run."""
    out = subprocess.run(
        ["wrk", "-t2", "-c64", "--latency", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    kinds = Counter({k: int(v) for k, v in re.findall(r"(\w+) (\d+)", socket_errors.group(1))} if socket_errors else {})
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    return rate, int(errors.group(1)) if errors else 0, kinds, _ms(*p99.groups()) if p99 else float("nan")


# --- nginx: the shipped configuration, rewritten for loopback ----------------------------

# Each rewrite must match exactly once: if deploy/nginx.conf changes shape, the bench
# stops instead of silently measuring some other configuration.
# Variants for comparison, not shipped: the directives of the micro-cache's `location /` each
# one removes, and those it sets instead (whatever deploy/nginx.conf says about them).
VARIANTS = {
    # The shipped configuration before commit fcc4075: an expired copy is served while it is
    # fetched again in the background, to everyone, however old it is.
    "updating": (
        ("proxy_cache_use_stale", "proxy_cache_background_update"),
        ("proxy_cache_use_stale updating;", "proxy_cache_background_update on;"),
    ),
}
PROMISE = {None: 3.0, "updating": 2.0}  # seconds a copy may be older than the origin (see FRESH_WITHIN)


def _set_directives(text, remove, add):
    kept = [line for line in text.split("\n") if not re.match(rf"\s*({'|'.join(remove)})\s", line)]
    text, anchor = "\n".join(kept), "proxy_cache pages;"
    if text.count(anchor) != 1:
        raise SystemExit(f"deploy/nginx.conf: expected '{anchor}' exactly once; update bench/pages.py's variants")
    return text.replace(anchor, anchor + "".join(f"\n            {line}  # bench variant" for line in add))


def nginx_conf(tmp, ports, variant=None):
    """deploy/nginx.conf for loopback, or one of VARIANTS of it (with ports["proxy"] its own)."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    if variant is not None:
        text = _set_directives(text, *VARIANTS[variant])
    static = (
        f"    server {{ listen 127.0.0.1:{ports['static']}; location / {{ root {tmp}/www; }} }}  # the ceiling (bench only)\n"
    )
    origin = ports["granian"]
    extra = static if variant is None else ""
    rewrites = [
        ("server web:8000;", f"server 127.0.0.1:{origin};"),
        ("server stream:8001;", f"server 127.0.0.1:{ports['uvicorn']};"),
        ("/var/cache/nginx/newsroom", f"{tmp}/cache"),
        ("listen 80;", f"listen 127.0.0.1:{ports['proxy']};"),
        ("alias /app/media/$media_file;", f"alias {tmp}/media/$media_file;"),
        ("events {", f"pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\nevents {{"),
        # The shipped file logs every request to the default access log; here it goes to the
        # temporary directory, with the micro-cache's status appended (counted after each run).
        # The static server below shares the http block, so it logs the same way.
        (
            "http {",
            "http {\n"
            "    log_format bench '$remote_addr - [$time_local] \"$request\" $status $body_bytes_sent $upstream_cache_status';\n"
            f"    access_log {tmp}/access.log bench;\n"
            f"    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;\n"
            f"    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;\n" + extra,
        ),
    ]
    for old, new in rewrites:
        if text.count(old) != 1:
            raise SystemExit(f"deploy/nginx.conf: expected '{old}' exactly once; update bench/pages.py's rewrites")
        text = text.replace(old, new)
    return text


def cache_statuses(log, offset):
    """Counts of $upstream_cache_status in the access log after byte `offset` ("-" = not proxied)."""
    with open(log, "rb") as f:
        f.seek(offset)
        return Counter(line.rsplit(b" ", 1)[-1].strip().decode() for line in f if line.strip())


# --- The writer: publishes an entry and withdraws the previous one, every second ------------

WRITER = """
import time
from django.contrib.auth import get_user_model
from liveupdates.editorial import workflow
from liveupdates.models import Entry, LivePost
editor = get_user_model().objects.filter(groups__name="Editors", is_staff=True, is_active=True).first()
assert editor is not None, "no active editor in the demo"
post = LivePost.objects.get(slug="{slug}")
shown = []  # (pk, word) of the entries published and not yet withdrawn, oldest first
for n in range({count}):
    started = time.monotonic()
    word = "{tag}w%03dx" % n
    entry = Entry.objects.create(post=post, headline="Bench update " + word, body="<p>Breaking: " + word + ".</p>", created_by=editor)
    workflow.publish(entry=entry, user=editor)
    print("published", word, time.time(), flush=True)
    shown.append((entry.pk, word))
    if len(shown) > {keep}:
        pk, old_word = shown.pop(0)
        old = Entry.objects.get(pk=pk)
        # Every other withdrawal leaves a public note where readers saw the entry (never its words).
        note = "Removed during the bench." if n % 2 and old.announced_at is not None else ""
        workflow.withdraw(entry=old, user=editor, reason="bench: withdrawn a few seconds after publication", public_note=note)
        print("withdrawn", old_word, time.time(), flush=True)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
"""
WRITER_KEEPS = 3  # each entry stays published 3 s: longer than a micro-cache copy lives, so readers see each one


ONE_ACTION = """
from django.contrib.auth import get_user_model
from liveupdates.editorial import workflow
from liveupdates.models import Entry, LivePost
editor = get_user_model().objects.filter(groups__name="Editors", is_staff=True, is_active=True).first()
if "{action}" == "publish":
    entry = Entry.objects.create(post=LivePost.objects.get(slug="{slug}"), headline="Bench update {word}",
                                 body="<p>Breaking: {word}.</p>", created_by=editor)
    workflow.publish(entry=entry, user=editor)
else:
    workflow.withdraw(entry=Entry.objects.get(headline="Bench update {word}"), user=editor, reason="bench: quiet takedown")
"""


def one_action(env, action, word):
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", ONE_ACTION.format(action=action, slug=SLUG, word=word)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def quiet_takedown(env, proxies, word, quiet):
    """A reader loads the page through each proxy; the entry is withdrawn; nobody reads for `quiet` s; a reader comes.

    What the first reader after the quiet moment gets is the question: with
    `proxy_cache_use_stale updating` and background updates (the "updating" variant,
    shipped before commit fcc4075) nginx answers it from the copy it holds, however
    old, and updates in the background.
    """
    one_action(env, "publish", word)
    for name, url in proxies:
        for _ in range(10):  # until this proxy's copy shows the entry (at most a second or so)
            status, body = fetch(url)
            if word in body:
                break
            time.sleep(0.3)
        print(f"    {name}: the page shows {word} (X-Cache {status})")
    one_action(env, "withdraw", word)
    withdrawn_at = time.time()
    time.sleep(quiet)
    verdicts = []
    for name, url in proxies:
        for attempt in ("first reader", "0.3 s later"):
            status, body = fetch(url)
            served = word in body
            verdicts.append("WRONG" if served else "ok")
            print(
                f"    {name}, {attempt}, {time.time() - withdrawn_at:.1f} s after the withdrawal: X-Cache {status:<8} "
                f"withdrawn word {'SERVED [WRONG]' if served else 'absent [ok]'}"
            )
            time.sleep(0.3)
    return verdicts


class Sampler(threading.Thread):
    """A reader loading the page every 0.2 s during a run: when each entry appeared, how long each withdrawn one stayed."""

    def __init__(self, url, words):
        super().__init__(daemon=True)
        self.url, self.words, self.samples, self.done = url, words, [], threading.Event()

    def run(self):
        while not self.done.is_set():
            started = time.time()
            try:
                status, body = fetch(self.url)
                self.samples.append((started, status, set(self.words.findall(body))))
            except OSError:
                pass
            self.done.wait(max(0.0, 0.2 - (time.time() - started)))

    def stop(self):
        self.done.set()
        self.join(timeout=15)

    def report(self, published, withdrawn, promise):
        """Print the worst delays seen; "WRONG" when a withdrawn word was served longer than `promise` s."""
        appeared = []
        for word, at in published:
            seen = [t for t, _, words in self.samples if word in words and t >= at]
            if seen:
                appeared.append(seen[0] - at)
        stayed = []
        for word, at in withdrawn:
            seen = [t for t, _, words in self.samples if word in words and t > at]
            stayed.append(seen[-1] - at if seen else 0.0)
        statuses = Counter(status for _, status, _ in self.samples)
        worst = max(stayed, default=0.0)
        verdict = "WRONG" if worst > promise else "ok"
        print(
            f"    a reader every 0.2 s during the run ({len(self.samples)} pages; X-Cache "
            f"{', '.join(f'{k} {v}' for k, v in statuses.most_common())}): a new entry appeared after at most "
            f"{max(appeared, default=float('nan')):.1f} s (median {statistics.median(appeared) if appeared else float('nan'):.1f} s, "
            f"{len(appeared)}/{len(published)} seen); a withdrawn entry was still served up to {worst:.1f} s after its "
            f"withdrawal (median {statistics.median(stayed) if stayed else 0:.1f} s)  [{verdict}, promise {promise:.0f} s]"
        )
        return verdict


def fetch(url):
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("X-Cache", "-"), response.read().decode()


def check(label, url, published, withdrawn, promise=FRESH_WITHIN):
    """Does the page at `url` now show the newest published word, and no withdrawn one?

    "within the promise" is a miss the micro-cache allows (a copy at most `promise` s old);
    "WRONG" is one it does not. Straight from the application the promise is 0 s.
    """
    at = time.time()
    status, body = fetch(url)
    word, published_at = published[-1]
    newest = word in body
    served = [(w, at - t) for w, t in withdrawn if w in body]
    late = [(w, age) for w, age in served if age > promise]
    verdict = (
        "ok"
        if newest and not served
        else ("WRONG" if late or not newest and at - published_at > promise else "within the promise")
    )
    print(
        f"    {label:<46} X-Cache {status:<9} newest published ({word}, {at - published_at:4.1f} s ago) "
        f"{'present' if newest else 'ABSENT'}; withdrawn words served: "
        f"{', '.join(f'{w} ({age:.1f} s after withdrawal)' for w, age in served) or 'none'}  [{verdict}]"
    )
    return verdict


def start_nginx(prefix, conf):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix.mkdir(exist_ok=True)
    prefix.chmod(0o755)
    (prefix / "nginx.conf").write_text(conf)
    subprocess.run([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-t", "-q"], check=True)
    subprocess.run([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")], check=True)


def stop_nginx(prefix):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not (prefix / "nginx.pid").exists():
        return
    subprocess.run(
        [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-s", "quit"], check=False, stderr=subprocess.DEVNULL
    )
    for _ in range(50):
        if not (prefix / "nginx.pid").exists():
            return
        time.sleep(0.1)


def load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=50, help="entries in the live post")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the throughput rows this many times")
    parser.add_argument("--slice", type=int, default=2, help="seconds per turn when the nginx rows are interleaved")
    parser.add_argument("--no-variant", action="store_true", help="skip the rows of the not-shipped nginx variants")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is needed: apt-get install {tool}")

    tmp = Path(tempfile.mkdtemp(prefix="newsroom-pages-"))
    tmp.chmod(0o755)  # nginx workers read the static copy as an unprivileged user
    (tmp / "media").mkdir()
    servers = []

    def clean_up():
        stop_nginx(tmp)
        for variant in VARIANTS:
            stop_nginx(tmp / variant)
        stop(servers)
        servers.clear()
        shutil.rmtree(tmp, ignore_errors=True)

    atexit.register(clean_up)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the atexit clean-up on kill, too

    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    fresh_database(database_url)
    env = env_for(database_url)
    manage(env, "migrate", "--noinput")
    manage({**env, "DJANGO_DEBUG": "1"}, "load_demo")
    manage(env, "generate_entries", "--post", SLUG, "--count", str(max(0, args.entries - 10)))

    ports = {name: free_port() for name in ("granian", "uvicorn", "floor", "static", "proxy", *VARIANTS)}
    floor_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "floor_app",
        "PYTHONPATH": str(ROOT / "bench"),
        "FLOOR_PAGE": str(tmp / "page.html"),
    }
    quiet = {"cwd": ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    granian = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--workers",
        "2",
        "--blocking-threads",
        "8",
        "newsroom.wsgi:application",
    ]
    servers += [
        start_group([*granian, "--port", str(ports["granian"])], env=env, **quiet),
        start_group(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "newsroom.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(ports["uvicorn"]),
                "--workers",
                "2",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            **quiet,
        ),
        start_group([*granian, "--port", str(ports["floor"])], env=floor_env, **quiet),
    ]
    html = wait_for(f"http://127.0.0.1:{ports['granian']}{PATH}")
    wait_for(f"http://127.0.0.1:{ports['uvicorn']}{PATH}")
    (tmp / "page.html").write_bytes(html)
    wait_for(f"http://127.0.0.1:{ports['floor']}/floor/no-query/")
    post_id = int(
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                f"from liveupdates.models import LivePost; print(LivePost.objects.get(slug='{SLUG}').pk)",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
    )
    (tmp / "www" / PATH.strip("/")).mkdir(parents=True)
    (tmp / "www" / PATH.strip("/") / "index.html").write_bytes(html)
    start_nginx(tmp, nginx_conf(tmp, ports))
    variants = [] if args.no_variant else list(VARIANTS)
    for variant in variants:
        start_nginx(tmp / variant, nginx_conf(tmp / variant, {**ports, "proxy": ports[variant]}, variant))
    page = f"http://127.0.0.1:{{port}}{PATH}"
    static, behind_nginx, from_granian = (page.format(port=ports[name]) for name in ("static", "proxy", "granian"))
    behind = {variant: page.format(port=ports[variant]) for variant in variants}
    for url in (static, behind_nginx, *behind.values()):
        wait_for(url)
    logs = {behind_nginx: tmp / "access.log", **{url: tmp / variant / "access.log" for variant, url in behind.items()}}
    variant_names = {url: f"nginx variant {variant}" for variant, url in behind.items()}
    url_variant = {url: variant for variant, url in behind.items()}

    entries = html.count(b'<article id="entry-')
    print(
        f"page: {PATH} ({len(html) / 1024:.0f} KiB, {entries} entries shown, {args.entries} in the post); "
        f"database: {'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'}; "
        f"cache: {'Redis' if os.environ.get('REDIS_URL') else 'local memory'}; {os.cpu_count()} cores; "
        f"wrk -t2 -c64 -d{args.seconds}s; nginx: deploy/nginx.conf rewritten for loopback ({tmp / 'nginx.conf'}); "
        f"load average at start {load()}",
        flush=True,
    )
    throughput = [
        ("(a) nginx, static file (ceiling)", static),
        ("(b) behind nginx (deploy/nginx.conf) -> granian", behind_nginx),
        ("(c) granian WSGI, 2 workers, no nginx", from_granian),
        ("(d) uvicorn ASGI, 2 workers, no nginx", page.format(port=ports["uvicorn"])),
        ("floor: Django view, full middleware, no query", f"http://127.0.0.1:{ports['floor']}/floor/no-query/"),
        ("floor: Django view, full middleware, one query", f"http://127.0.0.1:{ports['floor']}/floor/one-query/?post={post_id}"),
    ]
    with_writer = [
        ("(e) behind nginx, writer publishing + withdrawing", behind_nginx),
        ("(e) granian, no nginx, writer publishing + withdrawing", from_granian),
    ]
    for stars, (variant, url) in enumerate(behind.items(), 1):
        throughput.insert(1 + stars, (f"(b{'*' * stars}) nginx variant {variant} (not shipped)", url))
        with_writer.append((f"(e{'*' * stars}) nginx variant {variant}, writer publishing + withdrawing", url))
    ratios, verdicts = {}, []

    def run(url, seconds):
        """wrk on `url`, with the micro-cache's statuses of those requests when it is a proxy."""
        offset = logs[url].stat().st_size if url in logs else None
        rate, errors, socket_errors, p99 = wrk(url, seconds)
        return rate, errors, socket_errors, cache_statuses(logs[url], offset) if url in logs else Counter(), p99

    def report(label, result, ceiling):
        rate, errors, socket_errors, statuses, p99 = result
        ceiling = ceiling or rate
        note = f"  p99 {p99:.0f} ms" if p99 >= 1 else f"  p99 {p99:.2f} ms"
        note += f"  ({errors} non-2xx)" if errors else ""
        note += f"  (socket errors: {', '.join(f'{k} {v}' for k, v in socket_errors.items() if v)})" if +socket_errors else ""
        note += ("  X-Cache: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common())) if statuses else ""
        print(f"  {label:<56} {rate:>9.0f} req/s  {100 * rate / ceiling:5.1f}%" + note, flush=True)
        ratios.setdefault(label, []).append((rate, rate / ceiling))
        return ceiling

    def measure(label, url, ceiling):
        return report(label, run(url, args.seconds), ceiling)

    def interleaved(rows):
        """The rows measured in turn, --slice seconds at a time, --seconds each in all: drift hits them alike."""
        sums = {label: [0.0, 0, Counter(), Counter(), 0.0] for label, _ in rows}
        slices = max(1, round(args.seconds / args.slice))
        for _ in range(slices):
            for label, url in rows:
                if url in logs:
                    # Idle while the other rows ran: fetch once, so the slice starts with a copy as
                    # fresh as continuous traffic keeps it (a variant without stale copies would
                    # otherwise start every slice with all its connections waiting on the cache lock).
                    fetch(url)
                rate, errors, socket_errors, statuses, p99 = run(url, args.slice)
                total = sums[label]
                total[0] += rate / slices
                total[1] += errors
                total[2].update(socket_errors)
                total[3].update(statuses)
                total[4] = max(total[4], p99)  # the worst slice's 99th percentile
        return {label: tuple(total) for label, total in sums.items()}

    nginx_urls = {static, behind_nginx, *behind.values()}
    for round_number in range(args.rounds):
        print(
            f" round {round_number + 1} of {args.rounds} (load average {load()}); the nginx rows interleaved in "
            f"{args.slice} s slices, {args.seconds} s each",
            flush=True,
        )
        ceiling = None
        measured = interleaved([(label, url) for label, url in throughput if url in nginx_urls])
        for label, url in throughput:
            if url in nginx_urls:
                ceiling = report(label, measured[label], ceiling)
        for label, url in throughput:
            if url not in nginx_urls:
                measure(label, url, ceiling)

    print(f" with a writer (load average {load()}); ratios to this (a)", flush=True)
    ceiling = measure("(a) nginx, static file (ceiling), again", static, None)  # the writer rows run 10 s at a stretch
    for number, (label, url) in enumerate(with_writer):
        tag = f"bench{os.getpid()}r{number}"
        writer = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                WRITER.format(slug=SLUG, count=args.seconds, tag=tag, keep=WRITER_KEEPS),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        servers.append(writer)  # stopped at exit if anything goes wrong
        lines, first = [], threading.Event()

        def read(stream=writer.stdout, lines=lines, first=first):
            for line in stream:
                lines.append(line)
                first.set()
            first.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        first.wait(timeout=60)  # wrk starts with the writer's first publication, so they end together
        sampler = Sampler(url, re.compile(rf"{tag}w\d{{3}}x"))
        sampler.start()
        measure(label, url, ceiling)
        sampler.stop()
        writer.wait(timeout=120)
        reader.join(timeout=10)
        servers.remove(writer)
        published = [(w, float(t)) for kind, w, t in (line.split() for line in lines if line.startswith("published "))]
        withdrawn = [(w, float(t)) for kind, w, t in (line.split() for line in lines if line.startswith("withdrawn "))]
        print(f"    writer: {len(published)} published, {len(withdrawn)} withdrawn (exit {writer.returncode})")
        if not published:
            verdicts.append("WRONG")
            print("    the writer published nothing: check its account")
            continue
        verdicts.append(sampler.report(published, withdrawn, 0 if url == from_granian else PROMISE[url_variant.get(url)]))
        proxy = url if url != from_granian else behind_nginx
        name = variant_names.get(proxy, "nginx")
        promise = PROMISE[url_variant.get(proxy)]
        verdicts.append(check("straight from granian, at once", from_granian, published, withdrawn, promise=0))
        verdicts.append(check(f"through {name}, at once", proxy, published, withdrawn, promise))
        # After a quiet moment longer than the copy's life: what the first reader gets.
        time.sleep(FRESH_WITHIN + 0.5)
        verdicts.append(
            check(f"through {name}, first request after {FRESH_WITHIN + 0.5:.1f} s quiet", proxy, published, withdrawn, promise)
        )
        time.sleep(0.3)
        verdicts.append(check(f"through {name}, 0.3 s later", proxy, published, withdrawn, promise))
        verdicts.append(check("straight from granian, now", from_granian, published, withdrawn, promise=0))
    quiet = 5
    print(
        f" (f) a takedown after a quiet moment: publish, one reader per proxy, withdraw, {quiet} s with no reader, then readers"
    )
    proxies = [("nginx (deploy/nginx.conf)", behind_nginx), *((name, url) for url, name in variant_names.items())]
    verdicts += quiet_takedown(env, proxies, f"bench{os.getpid()}quietx", quiet)
    measure("(a) nginx, static file, again at the end (drift)", static, ceiling)

    if args.rounds > 1:
        print(f" median over {args.rounds} rounds (ratio to (a) of the same round):")
        for label, _ in throughput:
            rates = ratios[label]
            print(
                f"  {label:<56} {statistics.median(r for r, _ in rates):>9.0f} req/s  "
                f"{100 * statistics.median(q for _, q in rates):5.1f}%  (rounds: {', '.join(f'{100 * q:.1f}%' for _, q in rates)})"
            )
    print(f"load average at the end {load()}")
    print(
        "freshness:",
        "every check ok"
        if all(v == "ok" for v in verdicts)
        else f"{verdicts.count('WRONG')} check(s) WRONG, {verdicts.count('within the promise')} stale within the cache's promise (3 s), "
        f"{verdicts.count('ok')} ok",
    )


if __name__ == "__main__":
    main()
