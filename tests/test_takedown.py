"""A takedown always takes: each way withdrawn words once reached readers, tried again.

Each test here failed on the code before 2026-12-01's redesign of live
delivery (issue 12); the races on real PostgreSQL connections are in
test_races.py, the faults (Redis stopped, connections killed) in
test_faults.py, the browser in test_browser_live.py, and the random
sequences of editorial actions in test_live_model.py.
"""

import gzip
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from liveupdates.delivery import live
from liveupdates.editorial import workflow
from liveupdates.models import Entry, LiveEvent

from .factories import EntryFactory, LivePostFactory, PublishedEntryFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    """Run a workflow action with its after-commit announcement, as production does."""

    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


def shown(act, editor, post, **fields):
    """An entry published and announced: live readers have it on screen."""
    entry = EntryFactory(post=post, **fields)
    act(workflow.publish, entry=entry, user=editor)
    return fresh(entry)


def fresh(entry):
    return Entry.objects.select_related("post").get(pk=entry.pk)


def log(post):
    return list(LiveEvent.objects.filter(post=post).order_by("pk").values_list("kind", "entry_id", "payload"))


# --- 1. A pinned entry is on the page twice: every copy is reachable ----------------------


def test_a_pinned_entry_has_two_copies_with_distinct_ids_and_one_entry_mark(client, act, editor, post):
    entry = PublishedEntryFactory(post=post, headline="Pinned and listed")
    act(workflow.pin, entry=fresh(entry), user=editor)
    html = client.get(post.get_absolute_url()).content.decode()
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []  # valid HTML: ids are unique
    assert html.count(f'data-entry="{entry.pk}"') == 2
    assert f'id="entry-{entry.pk}"' in html and f'id="pinned-entry-{entry.pk}"' in html


def test_withdrawing_a_pinned_entry_tells_readers_to_remove_it_and_empties_the_pinned_slot(act, editor, post):
    entry = PublishedEntryFactory(post=post, headline="Soon gone")
    act(workflow.pin, entry=fresh(entry), user=editor)
    act(workflow.withdraw, entry=fresh(entry), user=editor, reason="Legal")
    after = [(kind, payload) for kind, entry_id, payload in log(post)][-3:]
    assert after[0] == ("remove", {"type": "remove", "entry": entry.pk})
    assert after[1][0] == "pinned" and after[1][1]["entry"] is None and "Soon gone" not in after[1][1]["html"]


def test_pinning_a_draft_tells_readers_the_public_pin_has_gone(act, editor, journalist, post):
    public = PublishedEntryFactory(post=post, headline="Public pin")
    Entry.objects.filter(pk=public.pk).update(announced_at=timezone.now())
    act(workflow.pin, entry=fresh(public), user=editor)
    act(workflow.pin, entry=EntryFactory(post=post, created_by=journalist), user=editor)
    pinned = [payload for kind, _, payload in log(post) if kind == "pinned"][-1]
    assert pinned["entry"] is None and "Public pin" not in pinned["html"]


# --- 2. A withdrawal right after a publication is never followed by its words ---------------


def test_an_entry_withdrawn_after_the_sweep_listed_it_is_never_added(editor, post, monkeypatch):
    entries = [EntryFactory(post=post) for _ in range(3)]
    for entry in entries:  # published, but their announcement never ran (the bulk action's case)
        workflow.publish(entry=entry, user=editor)
    victim = entries[0]
    real = live.announce_entry

    def withdraw_first(entry_id, now=None):
        # Between the sweep listing the due entries and announcing the first of them.
        if entry_id == victim.pk:
            workflow.withdraw(entry=fresh(victim), user=editor, reason="Wrong town")
        return real(entry_id, now)

    monkeypatch.setattr(live, "announce_entry", withdraw_first)
    live.announce()
    kinds = [(kind, entry_id) for kind, entry_id, _ in log(post)]
    assert ("add", victim.pk) not in kinds
    assert all(("add", entry.pk) in kinds for entry in entries[1:])
    assert victim.body not in str(log(post))


def test_the_last_event_of_an_entry_says_what_the_database_says(act, editor, post):
    entry = shown(act, editor, post)
    act(workflow.withdraw, entry=fresh(entry), user=editor, reason="Legal")
    # A late announcement of an earlier edit (a retry, a slow thread) must not bring the words back.
    Entry.objects.filter(pk=entry.pk).update(live_pending=True)
    live.announce()
    assert [kind for kind, entry_id, _ in log(post) if entry_id == entry.pk][-1] == "remove"


# --- 3. A save racing a withdrawal never publishes the entry again ------------------------------


def test_saving_an_instance_loaded_before_a_withdrawal_keeps_the_entry_withdrawn(act, editor, post):
    entry = shown(act, editor, post, headline="Before")
    stale = fresh(entry)  # the admin's change form, opened a moment ago
    act(workflow.withdraw, entry=fresh(entry), user=editor, reason="Legal")
    stale.headline = "After"
    stale.save()
    act(workflow.record_edit, entry=stale, user=editor, created=False)
    now = fresh(entry)
    assert now.status == "withdrawn" and now.headline == "After"
    assert entry.pk not in Entry.objects.published().values_list("pk", flat=True)
    assert [kind for kind, entry_id, _ in log(post) if entry_id == entry.pk][-1] == "remove"


def test_a_published_entry_cannot_be_moved_to_another_post_from_the_admin(client, editor, post):
    entry = PublishedEntryFactory(post=post)
    client.force_login(editor)
    page = client.get(f"/admin/liveupdates/entry/{entry.pk}/change/").content.decode()
    assert 'name="post"' not in page


# --- 5. No layer answers before Django's security checks, none outlives what it shows -----------


def test_a_live_page_for_another_host_is_refused_even_right_after_a_reader_got_it(client, post):
    PublishedEntryFactory(post=post)
    assert client.get(post.get_absolute_url()).status_code == 200
    assert client.get(post.get_absolute_url(), HTTP_HOST="evil.example").status_code == 400


def test_plain_http_is_redirected_to_https_on_live_pages(client, post, settings):
    settings.SECURE_SSL_REDIRECT = True
    client.get(post.get_absolute_url(), secure=True)
    response = client.get(post.get_absolute_url())
    assert response.status_code == 301 and response["Location"].startswith("https://")


def test_a_reader_who_refuses_gzip_gets_plain_html(client, post):
    PublishedEntryFactory.create_batch(5, post=post)
    assert client.get(post.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip").get("Content-Encoding") == "gzip"
    refused = client.get(post.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip;q=0, identity")
    assert refused.get("Content-Encoding") is None and b"<html" in refused.content
    gzip.decompress(client.get(post.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip;q=0.5").content)


def test_an_unpublished_neighbour_is_no_longer_linked_at_once(client, act, editor, post):
    older = LivePostFactory(
        column=post.column, coverage_start=post.coverage_start - timedelta(days=1), headline="Yesterday in Daraa"
    )
    assert "Yesterday in Daraa" in client.get(post.get_absolute_url()).content.decode()
    act(workflow.unpublish_post, post=older, user=editor)
    assert "Yesterday in Daraa" not in client.get(post.get_absolute_url()).content.decode()


def test_live_stops_saying_live_the_moment_coverage_ends(client, post, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    post.coverage_end = timezone.now() + timedelta(seconds=5)
    post.save()
    assert "label--live" in client.get(post.get_absolute_url()).content.decode()
    time_machine.shift(timedelta(seconds=6))
    html = client.get(post.get_absolute_url()).content.decode()
    assert "label--live" not in html and "Coverage has ended." in html


# --- 6. A poll never gets stuck --------------------------------------------------------------------


def test_a_poll_moves_past_a_batch_of_events_it_may_not_show(client, act, editor, post):
    entry = shown(act, editor, post)
    LiveEvent.objects.bulk_create(
        [
            LiveEvent(post=post, entry=entry, kind="update", payload={"type": "update", "entry": entry.pk, "html": "x"})
            for _ in range(120)
        ]
    )
    act(workflow.withdraw, entry=fresh(entry), user=editor, reason="Legal")
    first = client.get(f"/live/{post.slug}/updates.json?after=0").json()
    hundredth = LiveEvent.objects.filter(post=post).order_by("pk").values_list("pk", flat=True)[99]
    assert first["events"] == [] and first["last"] == hundredth  # 100 read, none to show: the cursor still moves
    second = client.get(f"/live/{post.slug}/updates.json?after={first['last']}").json()
    assert [event["type"] for event in second["events"]][:1] == ["remove"]


# --- Unpublishing a post clears readers' screens in its own transaction ----------------------------


def test_unpublishing_a_post_appends_public_false_as_it_commits(editor, post, django_capture_on_commit_callbacks):
    PublishedEntryFactory(post=post)
    with django_capture_on_commit_callbacks(execute=False):
        workflow.unpublish_post(post=post, user=editor)
    kind, _, payload = log(post)[-1]
    assert kind == "coverage" and payload["public"] is False and payload["live"] is False


# --- Tags in any script ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["حلب", "café", "Путин"])
def test_a_tag_in_any_script_never_breaks_a_page(client, editor, post, name):
    entry = PublishedEntryFactory(post=post)
    entry.tags.add(name)
    client.force_login(editor)
    for url in (post.get_absolute_url(), entry.get_absolute_url(), f"/preview/entries/{entry.pk}/", f"/preview/posts/{post.pk}/"):
        assert client.get(url).status_code == 200, url
    client.logout()
    tag_page = client.get(entry.tags.get().slug and f"/tags/{entry.tags.get().slug}/")
    assert tag_page.status_code == 200 and entry.headline in tag_page.content.decode()


# --- Found by the red team (2026-12-01) ---------------------------------------------------------


def test_an_entry_withdrawn_while_its_post_was_hidden_is_removed_as_the_post_returns(client, act, editor, post):
    entry = shown(act, editor, post, headline="Hidden then withdrawn")
    act(workflow.pin, entry=fresh(entry), user=editor)
    act(workflow.set_key_event, entry=fresh(entry), user=editor, key_event=True)
    cursor = live.latest_event_id(post)
    act(workflow.unpublish_post, post=post, user=editor)
    act(workflow.withdraw, entry=fresh(entry), user=editor, reason="Legal")
    with_words = [payload for kind, entry_id, payload in log(post) if "Hidden then withdrawn" in str(payload)]
    act(workflow.publish_post, post=type(post).objects.get(pk=post.pk), user=editor)
    assert [kind for kind, entry_id, _ in log(post) if entry_id == entry.pk][-1] == "remove"
    for after in (0, cursor):
        replay = client.get(f"/live/{post.slug}/updates.json?after={after}").json()["events"]
        assert "Hidden then withdrawn" not in str(replay), after
    assert with_words  # the log did hold the words before: the replay is what drops them


def test_an_entry_edited_while_its_post_was_hidden_is_updated_as_the_post_returns(act, editor, post):
    entry = shown(act, editor, post, headline="Before the break")
    act(workflow.unpublish_post, post=post, user=editor)
    changed = fresh(entry)
    changed.headline = "After the break"
    changed.save()
    act(workflow.record_edit, entry=changed, user=editor, created=False)
    assert live.announce() == 0  # nobody can read a hidden post: nothing to say yet
    act(workflow.publish_post, post=type(post).objects.get(pk=post.pk), user=editor)
    last = [payload for kind, entry_id, payload in log(post) if entry_id == entry.pk][-1]
    assert last["type"] == "update" and "After the break" in last["html"]


@pytest.mark.parametrize("cursor", ["²", "١٢", "+5", " 5", "5 ", "0x5", "-1"])
def test_a_cursor_of_anything_but_ascii_digits_is_refused_with_a_sentence(client, post, cursor):
    response = client.get(f"/live/{post.slug}/updates.json", {"after": cursor})
    assert response.status_code == 400 and "after" in response.json()["error"]


def test_no_cache_in_front_may_keep_a_page_longer_than_a_few_seconds(client, post):
    control = client.get(post.get_absolute_url())["Cache-Control"]
    assert "max-age=1" in control and "stale-while-revalidate=1" in control and "stale-if-error" not in control
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    directives = [line.split("#")[0].strip() for line in nginx.splitlines()]
    # use_stale (updating or error) hands out copies of any age: withdrawn words included.
    assert not [line for line in directives if line.startswith("proxy_cache_use_stale")]
    assert "proxy_ignore_headers" not in nginx  # the page's own Cache-Control bounds the copy


def test_a_reader_replaying_from_the_start_gets_the_removal_note_where_the_entry_was(client, act, editor, post):
    entry = shown(act, editor, post, headline="Soon replaced by a note")
    act(workflow.withdraw, entry=fresh(entry), user=editor, reason="Legal", public_note="Removed at a source's request.")
    replay = client.get(f"/live/{post.slug}/updates.json?after=0").json()["events"]
    added = [event for event in replay if event["type"] == "add"]
    assert len(added) == 1 and "Removed at a source" in added[0]["html"] and "Soon replaced" not in str(replay)
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Removed at a source" in page and "Soon replaced" not in page


def test_a_reader_replaying_in_batches_gets_the_removal_note_even_when_the_removal_is_in_a_later_batch(act, editor, post):
    entry = shown(act, editor, post, headline="Soon replaced by a note")
    busy = shown(act, editor, post, headline="A busy entry")
    for n in range(5):  # more events than one batch holds
        busy.headline = f"A busy entry, version {n}"
        busy.save()
        act(workflow.record_edit, entry=busy, user=editor, created=False)
    act(workflow.withdraw, entry=fresh(entry), user=editor, reason="Legal", public_note="Removed at a source's request.")
    first_batch, read_to = live.read_after(post.pk, 0, limit=3)
    assert read_to < LiveEvent.objects.filter(post=post, kind="remove").get().pk  # the removal is not in this batch
    added = [payload for _, _, entry_id, payload in first_batch if entry_id == entry.pk]
    assert len(added) == 1 and "Removed at a source" in added[0]["html"] and "Soon replaced" not in str(first_batch)
