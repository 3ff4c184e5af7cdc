"""A model-based test of live delivery: random editorial histories, every public surface, simulated readers.

The guarantee under test:

* once a withdrawal commits, no page (first or older), entry permalink, feed,
  API answer, poll answer, stream replay, sitemap or search shows any of the
  entry's words (its headline, text and corrections, in any revision);
* nothing never made public (a draft, an entry in review, a scheduled entry
  before its time) and nothing of an unpublished post is shown there either;
* a reader who applied every live event holds exactly what a fresh render of
  the page shows: the same entries in the same order, each with the same words,
  badges and corrections, the same pinned entry and the same key events; the
  screen of a reader whose post was unpublished is cleared (a `coverage` event
  with `public: false`, or a 404 from the stream or the poll);
* every copy of an edited, corrected or restored entry shows its latest words.

A hypothesis state machine plays an editor and a journalist on two live posts
through `liveupdates.editorial.workflow` (and, for edits, the way the admin
saves: an instance loaded earlier, changed, `.save()`d, then
`workflow.record_edit`; a bulk publish goes through the admin's changelist
action), with faults in between:

* the after-commit work of the next action lost (the process died after the
  commit) or broken (a fragment render raised); the sweep, `live.announce_due()`,
  must then repair what readers were not told. The sweep runs as a stream
  process's hub runs it: with its own memory of failed announcements, and late
  enough for any retry pause to have passed;
* the database connection killed at the n-th statement of the next action
  (pg_terminate_backend of our own backend on PostgreSQL, closing it on SQLite);
* another editor's withdrawal committing just before the n-th top-level
  transaction of the next action (between the announcements of a bulk publish,
  say): an interleaving two processes can produce;
* a reader dropping its stream, and coming back with its last event id.

Readers apply events as liveupdates/static/liveupdates/live.js does:

* a stream reader, while connected, gets every row of its post's event log in
  id order, as the hub fans them out (liveupdates.delivery.stream.Hub._fetch);
  coming back after a drop it replays `live.events_after(post, its last event id)`;
* a polling reader asks `/live/<slug>/updates.json?after=<cursor>` and takes
  `last` as its next cursor; a 404 means the post is gone;
* both start from a page load (`data-live-cursor` and the page's entries). At
  each check, two more start from nothing at event 0: one replaying the stream,
  one polling.

add inserts the entry on top or replaces its timeline copy; update replaces
the timeline copy if the reader has one; remove deletes every copy (timeline,
pinned slot, key events list) and, with `html`, puts the editor's note where
the timeline copy was; pinned and key-events replace their sections; coverage
with `public: false` clears the screen. (live.js stops listening once
coverage ends; these readers keep applying events, since what the log says
after that must still be true.)

Each headline, text, correction and removal note carries a unique word
(zq<n>q), so every surface can be searched for words that must not be there,
and every reader compared with the page word for word.

When checked: after every step, the words on every page of both posts and in
their stream replays from 0 (and in what was pushed to connected readers), the
editorial state in the database, and, unless a fault or a scheduled time waits
for the sweep, every reader against a fresh page (a post whose rows and log did
not change since the previous step is not rendered again). At every sweep, the
poll from 0 as well. At the end, after two sweeps (the hub runs one a second):
everything, with feeds, the API, sitemaps, search and permalinks.

The fixed seed runs in under a minute; NEWSROOM_MODEL_EXAMPLES=500 (and, say,
NEWSROOM_MODEL_STEPS=40) runs a longer, random search.
"""

import contextlib
import functools
import itertools
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django.db.models import Count, Max, Q
from django.db.transaction import Atomic
from django.template.backends.django import Template as BackendTemplate
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, note
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from reversion.models import Revision, Version

from liveupdates.delivery import live
from liveupdates.editorial import workflow
from liveupdates.models import (
    Column,
    Correction,
    CorrectionKind,
    EditProposal,
    Entry,
    LiveEvent,
    LivePost,
    PostStatus,
    WorkflowEvent,
)
from liveupdates.site import assembly

from .factories import LivePostFactory

EXAMPLES = int(os.environ.get("NEWSROOM_MODEL_EXAMPLES", "0") or 0)
STEPS = int(os.environ.get("NEWSROOM_MODEL_STEPS", "0") or 0)
SETTINGS = hsettings(
    max_examples=EXAMPLES or 25,
    stateful_step_count=STEPS or 20,
    deadline=None,
    derandomize=not EXAMPLES,  # the same examples on every CI run; a random search when more are asked for
    database=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)

START = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)  # noon in London: no day changes during a run
REAL_NOW = timezone.now
WORD = re.compile(r"zq\d+q")
FRAGMENTS = ("liveupdates/_entry.html", "liveupdates/_pinned.html", "liveupdates/_key_events.html")
PAGES_FOLLOWED = 30  # "Older entries" links followed at most
POLLS = 60  # requests one reader makes at most to catch up (a poll returns 100 events at most)
MAX_READERS = 5
SEARCHES = 30  # searches at the end of an example, at most


# --- Failures: one class per kind, so hypothesis reports (and shrinks) each kind of failure on its own ------------


@functools.cache
def photo_of(word):
    """The address of the photo an entry written with `word` places (site/photos.py serves it while it is public)."""
    return f"{settings.MEDIA_URL}uploads/model/{word}_10x10.jpg"


def _failure(kind):
    return type(kind, (AssertionError,), {"__module__": __name__})


def fail(kind, message):
    raise _failure(kind)(message)


# --- Reading pages and fragments ------------------------------------------------------------------


def _soup(html):
    return BeautifulSoup(html or "", "lxml")


def _canon(element):
    """One copy of an entry as text to compare: its markup, whitespace collapsed."""
    return re.sub(r"\s+", " ", str(element)).strip()


def _entry_pk(article):
    value = article.get("data-entry", "")
    if value.isdigit():
        return int(value)
    found = re.fullmatch(r"(?:pinned-)?entry-(\d+)", article.get("id", ""))
    return int(found.group(1)) if found else None


def _order_of(pk, markup):
    """(data-order, pk) of an entry's markup: its place in the timeline."""
    found = re.search(r'data-order="(\d+)"', markup)
    return (int(found.group(1)) if found else 0, pk)


def _pinned_of(section):
    """(entry id, markup) of the entry in a pinned slot, or None."""
    article = section.find("article") if section is not None else None
    return None if article is None else (_entry_pk(article), _canon(article))


def _key_events_of(panel):
    """((entry id, text), ...) of a key events panel."""
    if panel is None:
        return ()
    found = []
    for link in panel.select("li a"):
        match = re.search(r"#(?:pinned-)?entry-(\d+)", link.get("href", ""))
        found.append((int(match.group(1)) if match else None, " ".join(link.get_text().split())))
    return tuple(found)


@functools.lru_cache(maxsize=8192)
def fragment_article(html):
    """The markup of the first article in an event's html, or None."""
    article = _soup(html).find("article") if html else None
    return None if article is None else _canon(article)


@functools.lru_cache(maxsize=4096)
def fragment_pinned(html):
    return _pinned_of(_soup(html).find(id="pinned"))


@functools.lru_cache(maxsize=4096)
def fragment_key_events(html):
    return _key_events_of(_soup(html).find(id="key-events-panel"))


@dataclass(frozen=True)
class Page:
    cursor: int | None  # data-live-cursor, None when the page does not listen
    timeline: tuple  # ((entry id, markup), ...), top to bottom
    pinned: tuple | None
    key_events: tuple
    older: str | None  # the "Older entries" link
    duplicate_ids: tuple


@functools.lru_cache(maxsize=512)
def parse_page(html):
    doc = _soup(html)
    live_root = doc.find(attrs={"data-live-cursor": True})
    stream = doc.find(id="entries")
    older = doc.select_one('a[rel="next"][href^="?before="]')
    ids = Counter(element["id"] for element in doc.find_all(attrs={"id": True}))
    return Page(
        cursor=int(live_root["data-live-cursor"]) if live_root is not None else None,
        timeline=() if stream is None else tuple((_entry_pk(a), _canon(a)) for a in stream.find_all("article", recursive=False)),
        pinned=_pinned_of(doc.find(id="pinned")),
        key_events=_key_events_of(doc.find(id="key-events-panel")),
        older=older["href"] if older is not None else None,
        duplicate_ids=tuple(sorted(name for name, count in ids.items() if count > 1)),
    )


# --- A reader's screen --------------------------------------------------------------------------------


class Screen:
    """What one reader's browser shows, changed by live events as live.js changes it (see the module's notes)."""

    def __init__(self, page=None, horizon=None):
        self.timeline = list(page.timeline) if page else []
        self.pinned = page.pinned if page else None
        self.key_events = tuple(page.key_events) if page else ()
        self.cursor = (page.cursor or 0) if page else 0
        self.horizon = horizon  # (published_at, pk) of the oldest entry of the loaded page, when it had older ones
        self.gone = False

    def clear(self):
        self.timeline, self.pinned, self.key_events, self.gone = [], None, (), True

    def _insert(self, pk, article):
        """Where live.js puts a new entry: by (data-order, pk), newest first; nowhere if older than a loaded page's last."""
        key = _order_of(pk, article)
        at = next((i for i, (shown, html) in enumerate(self.timeline) if key > _order_of(shown, html)), None)
        if at is None:
            if self.horizon is not None and self.timeline:
                return  # it belongs on an older page
            at = len(self.timeline)
        self.timeline.insert(at, (pk, article))

    def apply(self, event_id, payload):
        if self.gone or event_id <= self.cursor:
            return
        self.cursor = event_id
        kind, pk = payload.get("type"), payload.get("entry")
        position = next((i for i, (shown, _) in enumerate(self.timeline) if shown == pk), None)
        if kind in ("add", "update"):
            article = fragment_article(payload.get("html"))
            if article is None:
                return
            if position is not None:
                self.timeline[position] = (pk, article)
            elif kind == "add":
                self._insert(pk, article)
        elif kind == "remove":
            removal_note = fragment_article(payload.get("html"))
            if position is not None:
                if removal_note is not None:
                    self.timeline[position] = (pk, removal_note)
                else:
                    del self.timeline[position]
            if self.pinned and self.pinned[0] == pk:
                self.pinned = None
            self.key_events = tuple(item for item in self.key_events if item[0] != pk)
        elif kind == "pinned":
            self.pinned = fragment_pinned(payload.get("html"))
        elif kind == "key-events":
            self.key_events = fragment_key_events(payload.get("html"))
        elif kind == "coverage" and payload.get("public") is False:
            self.clear()


@dataclass
class Reader:
    name: str
    kind: str  # "stream" or "poll"
    post: int
    screen: Screen
    connected: bool = True


# --- The model: what the editors did ----------------------------------------------------------------


@dataclass
class ModelEntry:
    pk: int
    post: int
    author: str  # "journalist" or "editor"
    status: str = "draft"  # draft, in_review, published, withdrawn: the workflow actions that committed
    published_at: datetime | None = None
    words: set = field(default_factory=set)  # every word it ever had: headlines, texts, corrections
    note_word: str | None = None  # the word of the public note left in its place
    key: bool = False
    instance: Entry | None = None  # the copy an editor loaded last: what a later save writes from
    proposed: set = field(default_factory=set)  # words the journalist proposed that no editor approved: never public
    proposals: dict = field(default_factory=dict)  # proposal pk -> its words, while it may still be decided
    photo: str = ""  # the word its photo is named after (photo_of): placed by the text it was written with


@dataclass
class ModelPost:
    pk: int
    slug: str
    public: bool = True
    pinned: int | None = None
    instance: LivePost | None = None  # the copy of the post form an editor loaded last


class Fault(Exception):
    """Raised by an injected fault."""


@dataclass
class Snapshot:
    """What the public sees now, read once per check."""

    renders: dict  # post pk -> (first Page or None when 404, full listing, html of every page)
    replays: dict  # post pk -> [(event id, payload)] from events_after(post, 0), followed to the end


def _reset_database():
    LiveEvent.objects.all().delete()
    WorkflowEvent.objects.all().delete()
    Version.objects.all().delete()
    Revision.objects.all().delete()
    Entry.objects.all().delete()
    LivePost.objects.all().delete()


def _forget_caches():
    cache.clear()
    assembly.forget()


def _close_broken_connections():
    """What Django does between requests, and the hub after a database error."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block and conn.connection is not None and not conn.is_usable():
            conn.close()


def _any(status):
    """A precondition: some entry is in one of these states."""
    return lambda self: any(entry.status in status for entry in self.entries.values())


class LiveModel(RuleBasedStateMachine):
    staff = None  # (editor, journalist, column, logged-in admin client), given by the test

    def __init__(self):
        super().__init__()
        self.editor, self.journalist, self.column, self.admin = self.staff
        _close_broken_connections()
        _reset_database()
        _forget_caches()
        self._start_the_clock()
        self.public = Client()
        self.words = itertools.count(1)
        self.entries = {}
        self.posts = []
        for _ in range(2):
            post = LivePostFactory(column=self.column)
            self.posts.append(ModelPost(pk=post.pk, slug=post.slug, instance=LivePost.objects.get(pk=post.pk)))
        self.readers = []
        self.reader_names = itertools.count(1)
        self.kept = {}  # post pk -> (fingerprint, render, replay) of the last check
        self.armed = set()  # faults for the next action
        self.race = 0  # another editor withdraws an entry just before the next action's n-th transaction
        self._forget_failures()
        self.dirty = False  # readers may be behind until the next sweep: a fault hit, or a scheduled time came
        self.scheduled = {}  # entry pk -> its time, until a sweep after it
        for model_post in self.posts:
            self._open_reader(model_post, "stream")
        self._open_reader(self.posts[0], "poll")

    def teardown(self):
        try:
            if sys.exc_info()[1] is None:  # not after a failed step: that failure is the report
                self._final_check()
        finally:
            self._stop_the_clock()
            _close_broken_connections()

    # --- the clock ----------------------------------------------------------------------------------

    def _start_the_clock(self):
        """Time stands still but for advance_time, and every timezone.now() is one microsecond after the last:
        two saves never share a timestamp, and a rerun of an example (hypothesis replays them) sees the same times."""
        self.clock = time_machine.travel(START, tick=False)
        self.clock_coordinates = self.clock.start()

        def now():
            self.clock_coordinates.shift(timedelta(microseconds=1))
            return REAL_NOW()

        timezone.now = now

    def _stop_the_clock(self):
        timezone.now = REAL_NOW
        self.clock.stop()

    # --- helpers ----------------------------------------------------------------------------------

    def _word(self):
        return f"zq{next(self.words)}q"

    def _post(self, pk):
        return next(post for post in self.posts if post.pk == pk)

    def _is_public(self, entry, now=None):
        now = now or timezone.now()
        return entry.status == "published" and entry.published_at <= now and self._post(entry.post).public

    def _pick(self, which, predicate):
        candidates = [entry for entry in self.entries.values() if predicate(entry)]
        return candidates[which % len(candidates)] if candidates else None

    def _fresh(self, pk):
        return Entry.objects.select_related("post").get(pk=pk)

    def _user_for(self, entry):
        return self.journalist if entry.author == "journalist" and entry.status == "draft" else self.editor

    # --- running an action, with the faults armed for it -------------------------------------------------

    @contextlib.contextmanager
    def _faults(self):
        armed, self.armed = self.armed, set()
        race, self.race = self.race, 0
        fired = []
        conn = connections["default"]
        with contextlib.ExitStack() as patches:
            if "announcement lost" in armed:
                real_on_commit = conn.on_commit

                def lost(func, robust=False):
                    def died():
                        fired.append("announcement lost")
                        raise Fault("the process died after the commit, before announcing")

                    real_on_commit(died, robust=False)

                conn.on_commit = lost
                patches.callback(lambda: conn.__dict__.pop("on_commit", None))
            if "announcement broken" in armed:
                real_render = BackendTemplate.render

                def render(template, context=None, request=None):
                    if getattr(template.template, "name", "") in FRAGMENTS:
                        fired.append("announcement broken")
                        raise Fault("rendering the announcement failed")
                    return real_render(template, context, request)

                BackendTemplate.render = render
                patches.callback(lambda: setattr(BackendTemplate, "render", real_render))
            if race:
                real_enter, transactions, busy = Atomic.__enter__, [0], []

                def enter(atomic):
                    # Between two of this action's transactions (before the race-th one), another
                    # editor's withdrawal commits: an interleaving two processes can produce.
                    if not busy and not connections[atomic.using or "default"].in_atomic_block:
                        transactions[0] += 1
                        if transactions[0] == race:
                            busy.append(True)
                            try:
                                if self._concurrent_withdrawal():
                                    fired.append("race")
                            finally:
                                busy.pop()
                    return real_enter(atomic)

                Atomic.__enter__ = enter
                patches.callback(lambda: setattr(Atomic, "__enter__", real_enter))
            kills = sorted(int(fault.split(":")[1]) for fault in armed if fault.startswith("kill:"))
            if kills:
                count = [0]

                def killer(execute, sql, params, many, context):
                    count[0] += 1
                    if count[0] == kills[0]:
                        fired.append(f"connection killed at statement {kills[0]}")
                        if conn.vendor == "postgresql":
                            with contextlib.suppress(Exception), conn.connection.cursor() as raw:
                                raw.execute("SELECT pg_terminate_backend(pg_backend_pid())")
                        else:
                            conn.close()
                            raise Fault("the database connection was closed")
                    return execute(sql, params, many, context)

                patches.enter_context(conn.execute_wrapper(killer))
            try:
                yield fired
            finally:
                if fired:
                    note(f"    faults hit: {fired}")
                    if any(fault != "race" for fault in fired):
                        self.dirty = True
        if fired:
            _close_broken_connections()

    def _act(self, description, action):
        """Run one editorial action as production would, with the armed faults.

        Actions are taken to be far enough apart that no pause before retrying a failed
        announcement is still running (those pauses follow the real clock, which a rerun
        of the example would not repeat)."""
        note(description)
        self._forget_failures()
        with self._faults() as fired:
            try:
                action()
            except workflow.WorkflowError as error:
                note(f"    refused: {error}")
            except Exception as error:
                if not fired:
                    raise
                note(f"    failed with the fault: {type(error).__name__}: {error}")

    def _concurrent_withdrawal(self):
        """Another editor withdraws a published entry (one not announced yet, if there is one)."""
        published = set(Entry.objects.filter(pk__in=list(self.entries), status="published").values_list("pk", flat=True))
        published = [e for e in self.entries.values() if e.pk in published and e.status != "withdrawn"]
        if not published:
            return False
        announced = set(
            LiveEvent.objects.filter(kind="add", entry_id__in=[e.pk for e in published]).values_list("entry_id", flat=True)
        )
        target = next((e for e in reversed(published) if e.pk not in announced), published[-1])
        note(f"    meanwhile another editor withdraws entry {target.pk}")
        for reader in self.readers:  # the hub has pushed what was committed before (checked after the step)
            if reader.kind == "stream":
                self._catch_up(reader, check=False)
        try:
            workflow.withdraw(entry=self._fresh(target.pk), user=self.editor, reason="Withdrawn by another editor")
        except workflow.WorkflowError as error:
            note(f"    refused: {error}")
            return False
        finally:
            self._learn(target, "withdrawn")
        return True

    def _learn(self, model, intended):
        """Learn from the database whether an action moving `model` to `intended` committed (a fault may have stopped it)."""
        if model.status == "withdrawn":
            return  # final: nothing brings a withdrawn entry back
        row = Entry.objects.filter(pk=model.pk).values("status", "published_at").first()
        if row["status"] == intended:
            model.status, model.published_at = intended, row["published_at"]
            if intended == "published" and model.published_at > timezone.now():
                self.scheduled[model.pk] = model.published_at
        if model.status == "withdrawn" and self._post(model.post).pinned == model.pk:
            self._post(model.post).pinned = None

    # --- rules: entries -------------------------------------------------------------------------------

    def _create(self, post, author):
        user = self.journalist if author == "journalist" else self.editor
        headline_word, body_word = self._word(), self._word()
        created = []

        def create():
            with transaction.atomic():
                entry = Entry.objects.create(
                    post_id=post.pk,
                    headline=f"Update {headline_word}",
                    body=f"<p>Witnesses in the square report {body_word} this afternoon.</p>"
                    f'<p><img src="{photo_of(body_word)}" alt="The square"></p>',
                    created_by=user,
                )
                workflow.record_edit(entry=entry, user=user, created=True)
                created.append(entry.pk)

        default_storage.save(photo_of(body_word)[len(settings.MEDIA_URL) :], ContentFile(b"the photo's bytes"))
        self._act(f"{author} writes a draft in post {post.pk} ({headline_word} {body_word})", create)
        if not created or not Entry.objects.filter(pk=created[0]).exists():
            return None
        model = ModelEntry(
            pk=created[0],
            post=post.pk,
            author=author,
            words={headline_word, body_word},
            instance=self._fresh(created[0]),
            photo=body_word,
        )
        self.entries[model.pk] = model
        return model

    @initialize(first=st.integers(0, 3), second=st.integers(0, 2))
    def some_entries_are_live(self, first, second):
        """Each post starts with a few published entries (as few as none, when hypothesis shrinks)."""
        for post, count in zip(self.posts, (first, second)):
            for _ in range(count):
                entry = self._create(post, "editor")
                self._act(
                    f"publish entry {entry.pk} now", lambda pk=entry.pk: workflow.publish(entry=self._fresh(pk), user=self.editor)
                )
                self._learn(entry, "published")

    @precondition(lambda self: len(self.entries) < 40)
    @rule(post=st.integers(0, 1), author=st.sampled_from(["journalist", "editor"]))
    def create_draft(self, post, author):
        self._create(self.posts[post], author)

    @precondition(_any({"draft"}))
    @rule(which=st.integers(0, 99))
    def submit(self, which):
        entry = self._pick(which, lambda e: e.status == "draft")
        if entry is not None:
            self._act(
                f"submit entry {entry.pk}",
                lambda: workflow.submit_for_review(entry=self._fresh(entry.pk), user=self._user_for(entry)),
            )
            self._learn(entry, "in_review")

    @precondition(_any({"in_review"}))
    @rule(which=st.integers(0, 99))
    def return_to_author(self, which):
        entry = self._pick(which, lambda e: e.status == "in_review")
        if entry is not None:
            self._act(
                f"return entry {entry.pk}",
                lambda: workflow.return_to_author(entry=self._fresh(entry.pk), user=self.editor, note="Source?"),
            )
            self._learn(entry, "draft")

    @precondition(_any({"draft", "in_review"}))
    @rule(which=st.integers(0, 99), when=st.sampled_from(["now", "now", "earlier", "later"]), seconds=st.integers(1, 600))
    def publish(self, which, when, seconds):
        """Publish now, backdated a little, or scheduled a little later."""
        entry = self._pick(which, lambda e: e.status in ("draft", "in_review"))
        if entry is None:
            return
        now = timezone.now()
        at = {"now": None, "earlier": now - timedelta(seconds=seconds), "later": now + timedelta(seconds=seconds)}[when]
        self._act(
            f"publish entry {entry.pk} " + ("now" if at is None else f"{when}, at {at:%H:%M:%S}"),
            lambda: workflow.publish(entry=self._fresh(entry.pk), user=self.editor, at=at),
        )
        self._learn(entry, "published")

    @precondition(lambda self: len(self.entries) < 40)
    @rule(post=st.integers(0, 1), count=st.integers(2, 5), race=st.integers(0, 8))
    def bulk_publish(self, post, count, race):
        """New entries selected in the admin's list and published with its action, in one request."""
        created = [entry for entry in (self._create(self.posts[post], "journalist") for _ in range(count)) if entry]
        if not created:
            return
        self.race = self.race or race
        data = {"action": "publish_selected", "_selected_action": [str(e.pk) for e in created], "index": "0"}

        def post_the_action():
            response = self.admin.post(reverse("admin:liveupdates_entry_changelist"), data)
            assert response.status_code == 302, response.content[:2000]

        self._act(
            f"bulk publish entries {[e.pk for e in created]}"
            + (f" (another editor withdraws one before its transaction {race})" if race else ""),
            post_the_action,
        )
        for entry in created:
            self._learn(entry, "published")

    @precondition(lambda self: self.entries)
    @rule(which=st.integers(0, 99), stale=st.booleans(), change=st.sampled_from(["both", "headline", "body"]))
    def edit(self, which, stale, change):
        """The admin's save: new words on an instance (the one loaded last, or a fresh one), .save(), record_edit."""
        entry = self._pick(which, lambda e: True)
        if entry is None:
            return
        instance = entry.instance if stale and entry.instance is not None else self._fresh(entry.pk)
        user = self._user_for(entry)
        words = []
        if change in ("both", "headline"):
            words.append(self._word())
            instance.headline = f"Update {words[-1]}"
        if change in ("both", "body"):
            words.append(self._word())
            instance.body = f"<p>Now confirmed by the agency: {words[-1]}.</p>"
        entry.words |= set(words)

        def save():
            with transaction.atomic():
                instance.updated_by = user
                instance.save()
                workflow.record_edit(entry=instance, user=user, created=False)

        self._act(f"edit entry {entry.pk} from a {'stale' if stale else 'fresh'} copy ({' '.join(words)})", save)
        entry.instance = instance

    @precondition(_any({"published"}))
    @rule(which=st.integers(0, 99), edits=st.sampled_from([3, 55]))
    def edit_burst(self, which, edits):
        """Many quick saves of one published entry: a long run of events, later dropped from replays if it is withdrawn."""
        entry = self._pick(which, lambda e: e.status == "published")
        if entry is None:
            return

        def saves():
            for _ in range(edits):
                word = self._word()
                entry.words.add(word)
                with transaction.atomic():
                    instance = self._fresh(entry.pk)
                    instance.body = f"<p>Rolling figures: {word}.</p>"
                    instance.save()
                    workflow.record_edit(entry=instance, user=self.editor, created=False)

        self._act(f"edit entry {entry.pk} {edits} times", saves)

    @precondition(_any({"published"}))
    @rule(which=st.integers(0, 99), kind=st.sampled_from([CorrectionKind.CORRECTION, CorrectionKind.UPDATE]))
    def correct(self, which, kind):
        entry = self._pick(which, lambda e: e.status == "published")
        if entry is None:
            return
        word = self._word()
        entry.words.add(word)
        self._act(
            f"correct entry {entry.pk} ({kind}: {word})",
            lambda: workflow.correct(
                entry=self._fresh(entry.pk), user=self.editor, text=f"The figure was wrong: {word}.", kind=kind
            ),
        )

    @precondition(_any({"draft", "in_review", "published"}))
    @rule(which=st.integers(0, 99), version=st.integers(0, 99))
    def restore(self, which, version):
        entry = self._pick(which, lambda e: e.status != "withdrawn")
        if entry is None:
            return
        versions = list(Version.objects.get_for_object_reference(Entry, entry.pk))
        if not versions:
            return
        chosen = versions[version % len(versions)]
        words = " ".join(sorted(WORD.findall(json.dumps(chosen.field_dict, default=str))))
        self._act(
            f"restore entry {entry.pk} to an earlier revision ({words})",
            lambda: workflow.restore(entry=self._fresh(entry.pk), user=self._user_for(entry), version=chosen),
        )

    @precondition(_any({"draft", "in_review", "published"}))
    @rule(which=st.integers(0, 99))
    def pin(self, which):
        entry = self._pick(which, lambda e: e.status != "withdrawn")
        if entry is not None:
            self._act(f"pin entry {entry.pk}", lambda: workflow.pin(entry=self._fresh(entry.pk), user=self.editor))
            if Entry.objects.filter(pk=entry.pk, is_pinned=True).exists() and entry.status != "withdrawn":
                self._post(entry.post).pinned = entry.pk

    @precondition(lambda self: any(post.pinned for post in self.posts))
    @rule(which=st.integers(0, 99))
    def unpin(self, which):
        entry = self._pick(which, lambda e: e.status != "withdrawn" and self._post(e.post).pinned == e.pk)
        if entry is not None:
            self._act(f"unpin entry {entry.pk}", lambda: workflow.unpin(entry=self._fresh(entry.pk), user=self.editor))
            if not Entry.objects.filter(pk=entry.pk, is_pinned=True).exists():
                self._post(entry.post).pinned = None

    @precondition(_any({"draft", "in_review", "published"}))
    @rule(which=st.integers(0, 99), on=st.booleans())
    def key_event(self, which, on):
        entry = self._pick(which, lambda e: e.status != "withdrawn")
        if entry is not None:
            self._act(
                f"{'mark' if on else 'unmark'} entry {entry.pk} as a key event",
                lambda: workflow.set_key_event(entry=self._fresh(entry.pk), user=self.editor, key_event=on),
            )
            if Entry.objects.filter(pk=entry.pk, is_key_event=on).exists():
                entry.key = on

    @precondition(_any({"published"}))
    @rule(which=st.integers(0, 99), with_note=st.booleans())
    def withdraw(self, which, with_note):
        entry = self._pick(which, lambda e: e.status == "published")
        if entry is None:
            return
        word = self._word() if with_note else None

        def withdraw():
            fresh = self._fresh(entry.pk)
            if word and workflow.can_leave_removal_note(self.editor, fresh):
                entry.note_word = word
                workflow.withdraw(
                    entry=fresh, user=self.editor, reason="Unverified", public_note=f"The video was older than claimed: {word}."
                )
            else:
                workflow.withdraw(entry=fresh, user=self.editor, reason="Unverified")

        self._act(f"withdraw entry {entry.pk}" + (f" with a public note ({word})" if word else ""), withdraw)
        self._learn(entry, "withdrawn")

    # --- rules: posts ---------------------------------------------------------------------------------

    @precondition(lambda self: any(post.public for post in self.posts))
    @rule(post=st.integers(0, 1))
    def unpublish_post(self, post):
        public = [model for model in self.posts if model.public]
        model = public[post % len(public)]
        if model.public:
            self._act(
                f"unpublish post {model.pk}",
                lambda: workflow.unpublish_post(post=LivePost.objects.get(pk=model.pk), user=self.editor),
            )
            model.public = not LivePost.objects.filter(pk=model.pk, status=PostStatus.DRAFT).exists()

    @precondition(lambda self: not all(post.public for post in self.posts))
    @rule(post=st.integers(0, 1))
    def republish_post(self, post):
        hidden = [model for model in self.posts if not model.public]
        model = hidden[post % len(hidden)]
        if not model.public:
            self._act(
                f"publish post {model.pk} again",
                lambda: workflow.publish_post(post=LivePost.objects.get(pk=model.pk), user=self.editor),
            )
            model.public = LivePost.objects.filter(pk=model.pk, status=PostStatus.PUBLISHED).exists()

    @rule(post=st.integers(0, 1), stale=st.booleans(), minutes=st.integers(-5, 30))
    def end_coverage(self, post, stale, minutes):
        """The admin's post form: set when coverage ends, save (a stale or a fresh copy), tell live readers."""
        model = self.posts[post]
        instance = model.instance if stale else LivePost.objects.get(pk=model.pk)
        end = timezone.now() + timedelta(minutes=minutes)
        if end < instance.coverage_start:
            return

        def save():
            with transaction.atomic():
                instance.coverage_end = end
                instance.save()
                workflow.record_post_edit(post=instance, user=self.editor)

        self._act(f"end coverage of post {model.pk} at {end:%H:%M:%S}, from a {'stale' if stale else 'fresh'} copy", save)
        model.instance = instance

    # --- rules: time, the sweep, faults, readers -------------------------------------------------------

    @rule(seconds=st.integers(1, 900))
    def advance_time(self, seconds):
        note(f"{seconds} s pass")
        self.clock_coordinates.shift(timedelta(seconds=seconds))
        if any(at <= timezone.now() for at in self.scheduled.values()):
            self.dirty = True  # a scheduled entry is due: readers hear of it from the sweep

    @precondition(lambda self: self.dirty or self.scheduled or self.armed or self.race)
    @rule()
    def sweep(self):
        """The hub's once-a-second work: announce what is due, and what an earlier failure left undone."""
        faulty = bool(self.armed)
        self._act("the sweep runs (live.announce_due)", self._run_the_sweep)
        if not faulty:
            self._swept()
            self._check_everything()

    def _run_the_sweep(self):
        """live.announce_due() as a stream process's hub runs it: that process keeps its own memory of failed
        announcements, and the pause before a retry has passed (the hub sweeps every second, for ever)."""
        failures = getattr(live, "failures", None)
        if failures is None:
            return live.announce_due()
        live.failures = type(failures)()
        try:
            return live.announce_due()
        finally:
            live.failures = failures

    def _forget_failures(self):
        """No memory of failed announcements whose retry pause is running."""
        if getattr(live, "failures", None) is not None:
            live.failures = type(live.failures)()

    def _swept(self):
        now = timezone.now()
        self.scheduled = {pk: at for pk, at in self.scheduled.items() if at > now}
        self.dirty = False

    @precondition(lambda self: not self.armed)
    @rule(kind=st.sampled_from(["announcement lost", "announcement broken", "kill"]), statement=st.integers(1, 40))
    def arm_fault(self, kind, statement):
        """The next action (or sweep) suffers a fault."""
        self.armed.add(f"kill:{statement}" if kind == "kill" else kind)
        note(f"armed for the next action: {kind}" + (f" at its statement {statement}" if kind == "kill" else ""))

    @precondition(lambda self: not self.race and self.entries)
    @rule(before=st.integers(1, 8))
    def arm_concurrent_withdrawal(self, before):
        self.race = before
        note(f"armed: another editor withdraws an entry just before the next action's transaction {before}")

    @precondition(lambda self: len(self.readers) < MAX_READERS)
    @rule(post=st.integers(0, 1), kind=st.sampled_from(["stream", "poll"]))
    def open_reader(self, post, kind):
        self._open_reader(self.posts[post], kind)

    @precondition(lambda self: any(r.kind == "stream" and r.connected and not r.screen.gone for r in self.readers))
    @rule(which=st.integers(0, 9))
    def disconnect(self, which):
        streams = [r for r in self.readers if r.kind == "stream" and r.connected and not r.screen.gone]
        if streams:
            reader = streams[which % len(streams)]
            reader.connected = False
            note(f"{reader.name} loses its connection at event {reader.screen.cursor}")

    @precondition(lambda self: any(r.kind == "stream" and not r.connected for r in self.readers))
    @rule(which=st.integers(0, 9))
    def reconnect(self, which):
        away = [r for r in self.readers if r.kind == "stream" and not r.connected]
        if away:
            reader = away[which % len(away)]
            note(f"{reader.name} reconnects with Last-Event-ID {reader.screen.cursor}")
            self._reconnect(reader)

    # --- readers ----------------------------------------------------------------------------------------

    def _open_reader(self, model_post, kind):
        response = self.public.get(f"/live/{model_post.slug}/")
        if response.status_code != 200:
            return
        page = parse_page(response.content.decode())
        if page.cursor is None:
            return  # coverage has ended: the page does not listen
        horizon = None
        if page.older and page.timeline:
            oldest = page.timeline[-1][0]
            horizon = (Entry.objects.get(pk=oldest).published_at, oldest)
        reader = Reader(f"{kind}-reader-{next(self.reader_names)}", kind, model_post.pk, Screen(page, horizon))
        self.readers.append(reader)
        note(f"{reader.name} opens post {model_post.pk}'s page at event {page.cursor}")
        self._catch_up(reader)

    def _replay(self, post_pk, screen):
        """Apply events_after(post, cursor) until it has nothing more: a reconnecting stream's catch-up."""
        for _ in range(POLLS):
            fresh = [(i, payload) for i, _, _, payload in live.events_after(post_pk, screen.cursor) if i > screen.cursor]
            for event_id, payload in fresh:
                screen.apply(event_id, payload)
            if not fresh:
                return

    def _reconnect(self, reader):
        reader.connected = True
        if not self._post(reader.post).public:
            reader.screen.clear()  # the stream answers 404, and so does the poll live.js falls back to
        else:
            self._replay(reader.post, reader.screen)

    def _poll_once(self, reader):
        """One poll; True if the reader's cursor moved."""
        response = self.public.get(f"/live/{self._post(reader.post).slug}/updates.json", {"after": reader.screen.cursor})
        if response.status_code == 404:
            reader.screen.clear()
            return False
        if response.status_code != 200:
            fail(
                "PollAnswerIsAnError",
                f"the poll of post {reader.post} after {reader.screen.cursor} answers {response.status_code}",
            )
        data = response.json()
        before = reader.screen.cursor
        for event in data["events"]:
            reader.screen.apply(event["id"], event)
        reader.screen.cursor = data["last"]
        return reader.screen.cursor != before

    def _catch_up(self, reader, check=True):
        if reader.screen.gone:
            return
        if reader.kind == "poll":
            for _ in range(POLLS):
                if not self._poll_once(reader) or reader.screen.gone:
                    return
        elif reader.connected:  # the hub fans out every row it reads, in id order, whatever the post's state
            rows = list(
                LiveEvent.objects.filter(post_id=reader.post, pk__gt=reader.screen.cursor)
                .order_by("pk")
                .values_list("pk", "payload")
            )
            if rows and check:
                self._clean(
                    "WordsPushedToAConnectedReader",
                    f"events {rows[0][0]}-{rows[-1][0]} pushed to {reader.name}",
                    json.dumps(rows),
                    self._words()[0],
                )
            for event_id, payload in rows:
                reader.screen.apply(event_id, payload)

    def _deliver(self):
        latest = dict(LiveEvent.objects.values("post_id").annotate(last=Max("pk")).values_list("post_id", "last"))
        for reader in self.readers:
            if reader.screen.gone or (reader.screen.cursor >= latest.get(reader.post, 0) and self._post(reader.post).public):
                continue  # nothing new for it (an unpublished post's poller still asks, to get its 404)
            if reader.kind == "poll":
                self._poll_once(reader)  # a poller asks once between two steps
            else:
                self._catch_up(reader)

    # --- what the public sees ------------------------------------------------------------------------------

    def _render(self, post):
        """A fresh render of a post: (first Page or None when 404, full listing over every page, html of every page)."""
        response = self.public.get(f"/live/{post.slug}/")
        if response.status_code == 404:
            return None, [], [response.content.decode()]
        if response.status_code != 200:
            fail("PageIsAnError", f"the page of post {post.pk} answers {response.status_code}")
        raws = [response.content.decode()]
        first = page = parse_page(raws[0])
        listing = list(first.timeline)
        for _ in range(PAGES_FOLLOWED):
            if not page.older:
                break
            response = self.public.get(f"/live/{post.slug}/{page.older}")
            if response.status_code != 200:
                fail("PageIsAnError", f"/live/{post.slug}/{page.older} answers {response.status_code}")
            raws.append(response.content.decode())
            page = parse_page(raws[-1])
            listing += page.timeline
        return first, listing, raws

    def _replay_from_zero(self, post_pk):
        screen, events = Screen(), []
        for _ in range(POLLS):
            fresh = [(i, payload) for i, _, _, payload in live.events_after(post_pk, screen.cursor) if i > screen.cursor]
            if not fresh:
                break
            events += fresh
            screen.cursor = fresh[-1][0]
        return events

    def _poll_from_zero(self, post):
        """A poller at event 0, following `last`: every event it is given, or None when the poll answers 404."""
        events, cursor = [], 0
        for _ in range(POLLS):
            response = self.public.get(f"/live/{post.slug}/updates.json", {"after": cursor})
            if response.status_code == 404:
                return None
            data = response.json()
            events += data["events"]
            if data["last"] == cursor:
                break
            cursor = data["last"]
        return events

    def _fingerprint(self, post):
        """What a post's page and log depend on; unchanged, its last render and replay still stand."""
        now = timezone.now()
        entries = Entry.objects.filter(post_id=post.pk).aggregate(
            n=Count("pk"),
            changed=Max("updated_at"),
            announced=Max("announced_at"),
            revised=Max("revised_at"),
            public=Count("pk", filter=Q(status="published", published_at__lte=now)),
        )
        row = LivePost.objects.filter(pk=post.pk).values_list("status", "published_at", "coverage_end", "updated_at").first()
        last = LiveEvent.objects.filter(post_id=post.pk).aggregate(last=Max("pk"))["last"]
        return last, tuple(entries.values()), row, row[2] is None or row[2] > now

    def _snapshot(self, fresh=False):
        """Each post's render and replay from 0; a post that did not change since the last step is not rendered again
        (renders are most of this test's time). `fresh` renders every post."""
        renders, replays = {}, {}
        for post in self.posts:
            fingerprint = self._fingerprint(post)
            kept = self.kept.get(post.pk)
            if fresh or kept is None or kept[0] != fingerprint:
                kept = self.kept[post.pk] = (fingerprint, self._render(post), self._replay_from_zero(post.pk))
            renders[post.pk], replays[post.pk] = kept[1], kept[2]
        return Snapshot(renders=renders, replays=replays)

    def _words(self):
        """(words nobody may be shown, words of public entries that a later change replaced)."""
        never, replaced = set(), set()
        now = timezone.now()
        current = {}
        for row in Entry.objects.filter(pk__in=list(self.entries)).values("pk", "headline", "body"):
            current[row["pk"]] = set(WORD.findall(row["headline"] + row["body"]))
        for pk, text in Correction.objects.filter(entry_id__in=list(self.entries)).values_list("entry_id", "text"):
            current.setdefault(pk, set()).update(WORD.findall(text))
        for entry in self.entries.values():
            never |= entry.proposed
            if not self._post(entry.post).public:
                never |= entry.words | ({entry.note_word} - {None})
            elif not self._is_public(entry, now):
                never |= entry.words
            else:
                replaced |= entry.words - current.get(entry.pk, set())
        return never, replaced, current

    def _whose(self, words):
        lines = []
        for entry in self.entries.values():
            hit = sorted(set(words) & (entry.words | entry.proposed | {entry.note_word}))
            if hit:
                lines.append(
                    f"{hit} belong to entry {entry.pk} (post {entry.post}, {entry.status}, public: {self._is_public(entry)})"
                )
        return "; ".join(lines)

    def _clean(self, kind, surface, text, forbidden):
        leaked = sorted(set(WORD.findall(text)) & forbidden)
        if leaked:
            fail(kind, f"{surface} shows words it must not: {leaked}: {self._whose(leaked)}")

    # --- the checks --------------------------------------------------------------------------------------------

    @invariant()
    def surfaces_hold(self):
        """After every step: readers get their events, then the checks."""
        self._deliver()
        snapshot = self._snapshot()
        self._check_words(snapshot, level=0)
        if not self.dirty and not self.armed and not self.race:
            self._check_readers(snapshot)
        self._check_editorial_state()

    def _check_words(self, snapshot, level=0):
        """level 0: pages and replays; 1: and the poll; 2: and feeds, API, sitemaps, search, permalinks."""
        never, replaced, current = self._words()
        for post in self.posts:
            first, _, raws = snapshot.renders[post.pk]
            for number, html in enumerate(raws):
                self._clean("WordsOnThePage", f"page {number + 1} of post {post.pk}", html, never)
                self._clean("ReplacedWordsOnThePage", f"page {number + 1} of post {post.pk}", html, replaced)
            if first is not None and first.duplicate_ids:
                fail(
                    "OneIdOnSeveralElements",
                    f"the page of post {post.pk} gives several elements the id(s) {list(first.duplicate_ids)}",
                )
            if post.public:  # an unpublished post's stream and poll answer 404: nothing is replayed
                replay = json.dumps(snapshot.replays[post.pk])
                self._clean("WordsInTheStreamReplay", f"the stream replay from 0 of post {post.pk}", replay, never)
        if level < 1:
            return
        for post in self.posts:
            polled = self._poll_from_zero(post)
            if polled is not None and not post.public:
                fail("PollOfAnUnpublishedPost", f"the poll of unpublished post {post.pk} answers")
            self._clean("WordsInThePoll", f"the poll answers from 0 of post {post.pk}", json.dumps(polled), never)
        # Each entry's photo: answered while the entry is public and its text still places it, never else.
        bodies = dict(Entry.objects.filter(pk__in=list(self.entries)).values_list("pk", "body"))
        now = timezone.now()
        for entry in self.entries.values():
            photo = photo_of(entry.photo)
            placed = self._is_public(entry, now) and photo in bodies.get(
                entry.pk, ""
            )  # an edit may drop it, a restore bring it back
            answer = self.public.get(photo).status_code
            if answer != (200 if placed else 404):
                fail("PhotoFollowsItsEntry", f"{photo} of entry {entry.pk} ({entry.status}, placed: {placed}) answers {answer}")
        if level < 2:
            return
        column = self.column.slug
        urls = [
            "/feed/",
            "/feed/atom/",
            f"/columns/{column}/feed/",
            f"/columns/{column}/",
            "/",
            "/sitemap.xml",
            "/news-sitemap.xml",
            "/api/entries",
            "/api/posts",
        ]
        for post in self.posts:
            urls += [
                f"/live/{post.slug}/feed/",
                f"/live/{post.slug}/feed/atom/",
                f"/api/entries?post={post.slug}",
                f"/api/posts/{post.slug}",
            ]
        for url in urls:
            response = self.public.get(url)
            if response.status_code not in (200, 404):
                fail("SurfaceIsAnError", f"{url} answers {response.status_code}")
            self._clean("WordsInFeedsApiOrSitemaps", url, response.content.decode(), never | replaced)
        # Search matches what rows say now: ask for the words the hidden entries still hold.
        hidden = sorted(
            {word for entry in self.entries.values() if not self._is_public(entry) for word in current.get(entry.pk, ())}
        )
        for word in hidden[:SEARCHES]:
            results = _soup(self.public.get("/search/", {"q": word}).content.decode()).select_one(".search-results")
            self._clean("WordsInSearch", f"/search/?q={word}", str(results or ""), never | replaced)
        for entry in self.entries.values():
            slug = self._post(entry.post).slug
            if entry.status not in ("published", "withdrawn"):
                continue  # a draft's permalink is the same 404 as a withdrawn entry's
            page = self.public.get(f"/live/{slug}/entries/{entry.pk}/")
            self._clean("WordsOnAPermalink", f"/live/{slug}/entries/{entry.pk}/", page.content.decode(), never | replaced)
            if self._is_public(entry):
                missing = sorted(current[entry.pk] - set(WORD.findall(page.content.decode())))
                if missing:
                    fail("LatestWordsMissing", f"the permalink of public entry {entry.pk} lacks its words {missing}")
                continue
            api = self.public.get(f"/api/entries/{entry.pk}")
            self._clean("WordsInTheApi", f"/api/entries/{entry.pk}", api.content.decode(), never | replaced)
            if (page.status_code, api.status_code) != (404, 404):
                fail(
                    "PermalinkOfAHiddenEntry",
                    f"entry {entry.pk} is not public, yet its permalink answers {page.status_code} and the API {api.status_code}",
                )

    def _check_readers(self, snapshot, final=False, full=False):
        """Every reader holds what a fresh page shows; so does a reader starting from event 0, by stream or by poll."""
        for post in self.posts:
            first, listing, _ = snapshot.renders[post.pk]
            if first is None:
                continue
            self._check_page_against_the_editors(post, first)
            screen = Screen()
            for event_id, payload in snapshot.replays[post.pk]:
                screen.apply(event_id, payload)
            self._compare("ReplayFromZero", f"a reader replaying post {post.pk}'s stream from event 0", screen, first, listing)
            if full:
                polled = self._poll_from_zero(post)
                screen = Screen()
                for event in polled or ():
                    screen.apply(event["id"], event)
                self._compare("PollFromZero", f"a reader polling post {post.pk} from event 0", screen, first, listing)
        for reader in self.readers:
            if reader.kind == "stream" and not reader.connected:
                if not final:
                    continue  # behind by definition; it catches up when it reconnects
                self._reconnect(reader)
            self._catch_up(reader)
            first, listing, _ = snapshot.renders[reader.post]
            if first is None:
                screen = reader.screen
                if screen.timeline or screen.pinned or screen.key_events:
                    fail(
                        "ReaderStillShowsAnUnpublishedPost",
                        (
                            f"{reader.name} still shows post {reader.post}, which is unpublished: entries "
                            f"{[pk for pk, _ in screen.timeline]}, pinned {screen.pinned and screen.pinned[0]}"
                        ),
                    )
            elif not reader.screen.gone:  # a reader whose post went away was cleared and stopped listening
                self._compare("Reader", reader.name, reader.screen, first, listing)

    def _compare(self, kind, who, screen, first, listing):
        window = listing
        if screen.horizon is not None:
            times = dict(Entry.objects.filter(pk__in=[pk for pk, _ in listing]).values_list("pk", "published_at"))
            window = [(pk, html) for pk, html in listing if (times[pk], pk) >= screen.horizon]
        shown, expected = [pk for pk, _ in screen.timeline], [pk for pk, _ in window]
        notes = {pk for pk, html in window if pk not in shown and "entry--removed" in html}
        if notes and shown == [pk for pk in expected if pk not in notes]:
            # Its own kind, so that it hides no other failure: the reader never had these entries, so the
            # removal's note had no copy to take the place of.
            fail(
                f"{kind}LacksARemovalNote",
                f"{who} shows entries {shown}; a fresh page lists {expected}, with the removal notes {sorted(notes)}",
            )
        if sorted(shown) != sorted(expected):
            fail(f"{kind}Entries", f"{who} shows entries {shown}; a fresh page lists {expected}")
        if shown != expected:
            fail(f"{kind}Order", f"{who} shows entries in the order {shown}; a fresh page lists {expected}")
        for (pk, html), (_, fresh) in zip(screen.timeline, window):
            if html != fresh:
                fail(f"{kind}Words", f"{who} shows entry {pk} as\n  {html}\nbut a fresh page shows\n  {fresh}")
        pinned, fresh_pinned = (screen.pinned or (None,))[0], (first.pinned or (None,))[0]
        if pinned != fresh_pinned:
            fail(f"{kind}Pinned", f"{who} pins entry {pinned}; a fresh page pins {fresh_pinned}")
        if screen.pinned != first.pinned:
            fail(
                f"{kind}PinnedWords", f"{who}'s pinned slot shows\n  {screen.pinned[1]}\nbut a fresh page's\n  {first.pinned[1]}"
            )
        if screen.key_events != first.key_events:
            fail(f"{kind}KeyEvents", f"{who}'s key events are {screen.key_events}; a fresh page's {first.key_events}")

    def _check_page_against_the_editors(self, post, first):
        """A fresh page pins, and lists as key events, what the editors chose."""
        now = timezone.now()
        pinned = post.pinned if post.pinned and self._is_public(self.entries[post.pinned], now) else None
        if (first.pinned or (None,))[0] != pinned:
            fail(
                "PageShowsAnotherPin",
                f"post {post.pk}'s page pins entry {(first.pinned or (None,))[0]}; the editors pinned {pinned}",
            )
        keys = sorted(
            (e for e in self.entries.values() if e.post == post.pk and e.key and self._is_public(e, now)),
            key=lambda e: (e.published_at, e.pk),
            reverse=True,
        )[: live.KEY_EVENTS_SHOWN]
        if [pk for pk, _ in first.key_events] != [e.pk for e in keys]:
            fail(
                "PageShowsOtherKeyEvents",
                f"post {post.pk}'s key events are {[pk for pk, _ in first.key_events]}; the editors marked {[e.pk for e in keys]}",
            )

    def _check_editorial_state(self):
        """A content save never moves editorial state: the database says what the workflow did."""
        rows = dict(Entry.objects.filter(pk__in=list(self.entries)).values_list("pk", "status"))
        for entry in self.entries.values():
            if rows.get(entry.pk) != entry.status:
                fail(
                    "EditorialStateOverwritten",
                    f"entry {entry.pk} is {rows.get(entry.pk)!r} in the database; the workflow left it {entry.status!r}",
                )
        for post in self.posts:
            status = LivePost.objects.filter(pk=post.pk).values_list("status", flat=True).first()
            if (status == PostStatus.PUBLISHED) != post.public:
                fail(
                    "EditorialStateOverwritten",
                    f"post {post.pk} is {status!r} in the database; the workflow left it {'public' if post.public else 'unpublished'}",
                )

    def _check_everything(self, final=False):
        self._deliver()
        snapshot = self._snapshot(fresh=final)
        self._check_words(snapshot, level=2 if final else 1)
        self._check_readers(snapshot, final=final, full=True)

    def _final_check(self):
        self.armed, self.race = set(), 0
        note("the end: the sweep runs twice (the hub runs it every second), every reader reconnects and catches up")
        self._run_the_sweep()
        self._run_the_sweep()
        self._swept()
        self._check_everything(final=True)


@pytest.fixture
def staff(transactional_db):
    User = get_user_model()
    editor = User.objects.create_user("model-editor", is_staff=True, is_superuser=True)
    journalist = User.objects.create_user("model-journalist", is_staff=True)
    journalist.user_permissions.set(
        Permission.objects.filter(content_type__app_label="liveupdates", codename__in=["view_entry", "add_entry", "change_entry"])
    )
    column = Column.objects.create(name="Model column", slug="model-column")
    admin = Client()
    admin.force_login(editor)
    return editor, User.objects.get(pk=journalist.pk), column, admin


@pytest.mark.django_db(transaction=True)
def test_live_delivery_keeps_every_surface_and_every_reader_true(staff):
    machine = type("LiveModel", (LiveModel,), {"staff": staff})
    run_state_machine_as_test(machine, settings=SETTINGS)


class LiveModelWithProposals(LiveModel):
    """The same newsroom, where authors also propose edits of their published entries (issue 13) and an editor decides.

    Proposed words are never public until approved (ModelEntry.proposed joins the words
    nobody may be shown); approved ones are the entry's words from then on. A machine of
    its own, so the examples of the test above stay the ones it has always run.

    "announcement broken" is left out here: with it, a withdrawal whose removal note
    fails to render is announced without the note and never again (live._removal_payload),
    so a replay from 0 lacks a note the page shows. That gap is the delivery's, seen
    with no proposal in the example; the test above keeps that fault.
    """

    @precondition(lambda self: not self.armed)
    @rule(kind=st.sampled_from(["announcement lost", "kill"]), statement=st.integers(1, 40))
    def arm_fault(self, kind, statement):
        super().arm_fault(kind, statement)

    @precondition(_any({"published"}))
    @rule(which=st.integers(0, 99))
    def propose_edit(self, which):
        """The entry's author proposes new words for it: readers must not see them until approved."""
        entry = self._pick(which, lambda e: e.status == "published")
        if entry is None:
            return
        author = self.journalist if entry.author == "journalist" else self.editor
        word = self._word()
        entry.proposed.add(word)
        made = []

        def propose():
            made.append(
                workflow.propose_edit(
                    entry=self._fresh(entry.pk),
                    user=author,
                    headline=f"Update {word}",
                    body=f"<p>The journalist's own fix: {word}.</p>",
                )
            )

        self._act(f"its author proposes an edit of entry {entry.pk} ({word})", propose)
        if made:
            entry.proposals[made[0].pk] = {word}

    @precondition(lambda self: any(entry.proposals for entry in self.entries.values()))
    @rule(which=st.integers(0, 99), approve=st.booleans())
    def decide_edit(self, which, approve):
        """An editor approves (the words become the entry's) or refuses (they stay hidden) the latest proposal."""
        entry = self._pick(which, lambda e: bool(e.proposals))
        if entry is None:
            return
        pk = max(entry.proposals)
        proposal = EditProposal.objects.get(pk=pk)
        if approve:
            self._act(
                f"approve the proposed edit {pk} of entry {entry.pk}",
                lambda: workflow.approve_edit(proposal=proposal, user=self.editor),
            )
        else:
            self._act(
                f"refuse the proposed edit {pk} of entry {entry.pk}",
                lambda: workflow.refuse_edit(proposal=proposal, user=self.editor, note="Not confirmed."),
            )
        if EditProposal.objects.filter(pk=pk, status="approved").exists():
            words = entry.proposals.pop(pk)
            entry.words |= words
            entry.proposed -= words
        elif not EditProposal.objects.filter(pk=pk, status="waiting").exists():
            entry.proposals.pop(pk)


@pytest.mark.django_db(transaction=True)
def test_proposed_edits_reach_readers_only_once_approved(staff):
    machine = type("LiveModelWithProposals", (LiveModelWithProposals,), {"staff": staff})
    run_state_machine_as_test(machine, settings=SETTINGS)
