"""The live desk's JSON endpoints: post in place, the staff feed, autosave, logging in again, scheduling."""

import re
from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from liveupdates.editorial import cards, workflow
from liveupdates.editorial.admin import desk_api
from liveupdates.models import Autosave, Card, Entry, EntryStatus, WorkflowEvent

from .factories import (
    AuthorFactory,
    EntryFactory,
    LivePostFactory,
    PlaceFactory,
    PublishedEntryFactory,
    SourceFactory,
    UserFactory,
)

DESK = {"HTTP_X_REQUESTED_WITH": "newsroom-desk"}
# One publication from the desk (session, permissions, the entry, its revision, its events, its
# row): 38 before the row was built from the saved entry instead of read back with 7 prefetches
# and a new entry's relations were added instead of set.
COMPOSE_QUERIES = 24
# One feed poll that brings changed rows: every open desk makes one a second.
FEED_QUERIES = 14


def url(name, post, *args):
    return reverse(f"admin:liveupdates_livepost_desk_{name}", args=[post.pk, *args])


def compose(client, post, **data):
    data = {"headline": "Strikes on al-Harra", "body": "<p>Two air strikes hit al-Harra this morning.</p>", **data}
    return client.post(url("compose", post), data, **DESK)


def feed(client, post, after=0):
    return client.get(url("feed", post) + f"?after={after}", **DESK)


# --- Posting in place -------------------------------------------------------------------


def test_a_journalist_saves_a_draft_in_place_and_gets_its_desk_row(client, journalist, post):
    client.force_login(journalist)
    response = compose(client, post)
    assert response.status_code == 200
    answer = response.json()
    entry = Entry.objects.get(pk=answer["entry"])
    assert entry.status == EntryStatus.DRAFT and entry.created_by == journalist
    assert answer["message"] == "Your draft was saved."
    assert f'id="desk-entry-{entry.pk}"' in answer["row"] and "Strikes on al-Harra" in answer["row"]


def without_csrf_tokens(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


@pytest.mark.parametrize("intent", ["draft", "submit", "publish"])
def test_the_row_posted_in_place_is_the_row_the_desk_reads_back(client, editor, post, intent):
    authors, places, sources = AuthorFactory.create_batch(2), PlaceFactory.create_batch(2), SourceFactory.create_batch(2)
    client.force_login(editor)
    answer = compose(
        client,
        post,
        intent=intent,
        authors=[a.pk for a in authors],
        places=[p.pk for p in places],
        sources=[s.pk for s in sources],
        tags="strikes, daraa",
    ).json()
    request = RequestFactory().post(url("compose", post))
    request.user = editor
    read_back = desk_api.render_row(request, Entry.objects.for_desk().get(pk=answer["entry"]))
    assert without_csrf_tokens(answer["row"]) == without_csrf_tokens(read_back)
    assert all(a.name in answer["row"] for a in authors) and all(s.name in answer["row"] for s in sources)
    entry = Entry.objects.get(pk=answer["entry"])
    assert set(entry.authors.all()) == set(authors) and set(entry.places.all()) == set(places)
    assert set(entry.tags.names()) == {"strikes", "daraa"}


def test_the_row_posted_in_place_with_a_card_and_a_schedule_is_the_row_the_desk_reads_back(client, editor, post):
    card = Card.objects.create(url="https://t.me/smartnewsagency/1", provider="telegram", text="Words of the card")
    client.force_login(editor)
    at = (timezone.now() + timedelta(days=1)).astimezone(ZoneInfo("America/New_York")).replace(hour=9, minute=30)
    body = "<p>Two air strikes hit al-Harra.</p>" + cards.placeholder(card)
    answer = compose(client, post, body=body, intent="schedule", at=at.strftime("%Y-%m-%dT%H:%M"), tz="America/New_York").json()
    request = RequestFactory().post(url("compose", post))
    request.user = editor
    read_back = desk_api.render_row(request, Entry.objects.for_desk().get(pk=answer["entry"]))
    assert "Words of the card" in answer["row"] and "Scheduled for" in answer["row"]
    assert without_csrf_tokens(answer["row"]) == without_csrf_tokens(read_back)


def test_posting_in_place_reads_a_fixed_number_of_queries_however_many_bylines_and_places(client, editor, post):
    client.force_login(editor)
    compose(client, post, intent="publish")  # the session, permissions and content types, once
    with CaptureQueriesContext(connection) as bare:
        assert compose(client, post, intent="publish").json()["ok"]
    assert len(bare) <= COMPOSE_QUERIES
    compose(client, post, sources=[SourceFactory().pk])  # a citation's content type, once
    counts = []
    for n in (1, 3):
        authors, places, source = AuthorFactory.create_batch(n), PlaceFactory.create_batch(n), SourceFactory()
        with CaptureQueriesContext(connection) as queries:
            data = {"authors": [a.pk for a in authors], "places": [p.pk for p in places], "sources": [source.pk]}
            assert compose(client, post, intent="publish", **data).json()["ok"]
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_journalist_submits_in_place(client, journalist, post):
    client.force_login(journalist)
    answer = compose(client, post, intent="submit").json()
    assert Entry.objects.get(pk=answer["entry"]).status == EntryStatus.IN_REVIEW
    assert answer["message"] == "Your entry was sent to the editors for review."


def test_an_editor_publishes_in_place(client, editor, post):
    client.force_login(editor)
    answer = compose(client, post, intent="publish").json()
    assert Entry.objects.get(pk=answer["entry"]).status == EntryStatus.PUBLISHED
    assert answer["ok"] and "Published" in answer["row"]


def test_a_journalist_who_forges_publish_in_place_gets_a_draft_and_the_reason(client, journalist, post):
    client.force_login(journalist)
    response = compose(client, post, intent="publish")
    assert response.status_code == 409
    answer = response.json()
    assert Entry.objects.get(pk=answer["entry"]).status == EntryStatus.DRAFT
    assert "saved as a draft, but" in answer["message"] and "permission to publish" in answer["message"]


TOKEN = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"


def test_a_save_resent_after_its_answer_was_lost_finds_the_entry_it_made_and_posts_nothing_twice(client, editor, post):
    client.force_login(editor)
    first = compose(client, post, intent="publish", compose_token=TOKEN).json()
    again = compose(client, post, intent="publish", compose_token=TOKEN)
    assert again.status_code == 200
    assert again.json()["entry"] == first["entry"] and "Already saved" in again.json()["message"]
    assert Entry.objects.filter(post=post).count() == 1


def test_a_refused_publish_resent_after_its_answer_was_lost_still_says_it_was_saved_as_a_draft(client, editor, post):
    # The resend answered "Already saved" in green: the editor took a draft for a publication.
    client.force_login(editor)
    unlabelled = '<p>Smoke over the town.</p><p><img src="/media/uploads/smoke.jpg"></p>'
    first = compose(client, post, intent="publish", body=unlabelled, compose_token=TOKEN)
    assert first.status_code == 409
    again = compose(client, post, intent="publish", body=unlabelled, compose_token=TOKEN)
    assert again.status_code == 409 and not again.json()["ok"]
    assert "draft" in again.json()["message"] and again.json()["entry"] == first.json()["entry"]
    assert Entry.objects.get().status == EntryStatus.DRAFT


def test_two_entries_with_their_own_tokens_are_two_entries(client, journalist, post):
    client.force_login(journalist)
    compose(client, post, compose_token=TOKEN)
    compose(client, post, compose_token=TOKEN.replace("3f2b", "aaaa"))
    compose(client, post)  # the plain form and old pages send none
    assert Entry.objects.filter(post=post).count() == 3


def test_another_persons_token_never_hands_back_their_entry(client, journalist, editor, post):
    client.force_login(editor)
    compose(client, post, headline="The editor's own", compose_token=TOKEN)
    client.force_login(journalist)
    answer = compose(client, post, headline="The journalist's", compose_token=TOKEN).json()
    assert Entry.objects.get(pk=answer["entry"]).created_by == journalist
    assert "The editor's own" not in answer["row"]


def test_a_malformed_compose_token_is_a_clear_400_and_saves_nothing(client, journalist, post):
    client.force_login(journalist)
    response = compose(client, post, compose_token="'; DROP TABLE")
    assert response.status_code == 400 and "token" in response.json()["error"]
    assert not Entry.objects.exists()


def test_an_empty_entry_is_refused_with_the_fields_to_fix_and_nothing_is_saved(client, journalist, post):
    client.force_login(journalist)
    response = compose(client, post, body="")
    assert response.status_code == 400
    assert "body" in response.json()["errors"]
    assert not Entry.objects.exists()


def test_posting_in_place_forgets_the_compose_boxs_autosave(client, journalist, post):
    client.force_login(journalist)
    client.post(url("autosave", post), {"key": f"post-{post.pk}", "headline": "Half", "body": "<p>half</p>"}, **DESK)
    compose(client, post)
    assert not Autosave.objects.filter(user=journalist).exists()


def test_a_reader_and_a_stranger_cannot_post_in_place(client, reader, post):
    assert compose(client, post).status_code == 401
    client.force_login(reader)
    assert compose(client, post).status_code == 403
    assert not Entry.objects.exists()


def test_a_staff_member_without_a_newsroom_role_cannot_post_in_place(client, post):
    client.force_login(UserFactory(username="nobody"))  # staff, in no group
    assert compose(client, post).status_code == 403


def test_a_row_button_acts_in_place_through_the_workflow(client, editor, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist, status=EntryStatus.IN_REVIEW)
    client.force_login(editor)
    response = client.post(url("act", post, entry.pk, "return"), {"note": "Which village?"}, **DESK)
    assert response.status_code == 200
    assert response.json()["message"] == f"“{entry}” was returned to its author."
    assert "Which village?" in response.json()["row"]
    assert WorkflowEvent.objects.filter(entry=entry, action="returned", actor=editor).exists()


def test_a_refused_row_action_says_why_and_sends_the_row_as_it_is(client, journalist, post):
    entry = PublishedEntryFactory(post=post)
    client.force_login(journalist)
    response = client.post(url("act", post, entry.pk, "withdraw"), {"note": "old"}, **DESK)
    assert response.status_code == 409
    assert "Only editors can withdraw" in response.json()["error"]
    assert Entry.objects.get(pk=entry.pk).status == EntryStatus.PUBLISHED


def test_a_row_action_on_another_posts_entry_or_an_unknown_action_is_refused(client, editor, post):
    elsewhere = EntryFactory(post=LivePostFactory())
    client.force_login(editor)
    assert client.post(url("act", post, elsewhere.pk, "submit"), **DESK).status_code == 404
    assert client.post(url("act", post, elsewhere.pk, "delete"), **DESK).status_code == 404


def test_a_row_button_on_a_draft_a_colleague_just_discarded_is_answered_in_json_and_the_row_goes(
    client, journalist, editor, post
):
    # Django's HTML 404 page made the desk's script say "the server did not answer" and resend for ever.
    entry = EntryFactory(post=post, created_by=journalist)
    workflow.discard_draft(entry=entry, user=editor)
    client.force_login(journalist)
    response = client.post(url("act", post, entry.pk, "submit"), **DESK)
    assert response.status_code == 404 and response.json()["removed"] == entry.pk and "no longer" in response.json()["error"]
    gone = LivePostFactory()
    gone_url = url("compose", gone)
    gone.delete()
    response = client.post(gone_url, {"headline": "Kept", "body": "<p>Kept in the box.</p>"}, **DESK)
    assert response.status_code == 404 and "no longer" in response.json()["error"]
    assert not Entry.objects.filter(headline="Kept").exists()


def test_the_endpoints_answer_json_with_401_never_the_login_page_when_the_session_expired(client, post):
    for response in (compose(client, post), feed(client, post), client.get(url("autosave", post) + f"?key=post-{post.pk}")):
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert response.json()["login"] is True


# --- Scheduling -----------------------------------------------------------------------


def test_a_scheduled_time_is_read_in_the_zone_the_browser_sent(client, editor, post):
    client.force_login(editor)
    tomorrow = (
        (timezone.now() + timedelta(days=1))
        .astimezone(ZoneInfo("America/New_York"))
        .replace(hour=9, minute=30, second=0, microsecond=0)
    )
    answer = compose(client, post, intent="schedule", at=tomorrow.strftime("%Y-%m-%dT%H:%M"), tz="America/New_York").json()
    entry = Entry.objects.get(pk=answer["entry"])
    assert entry.published_at == tomorrow
    assert entry.is_scheduled and "scheduled for" in answer["message"]


def test_a_past_time_asks_for_confirmation_and_publishes_nothing(client, editor, post):
    client.force_login(editor)
    past = (timezone.now() - timedelta(hours=3)).astimezone(ZoneInfo("America/New_York"))
    response = compose(client, post, intent="schedule", at=past.strftime("%Y-%m-%dT%H:%M"), tz="America/New_York")
    assert response.status_code == 409
    assert response.json()["confirm"] is True
    assert "has passed: publish now?" in response.json()["error"]
    assert not Entry.objects.exists()


def test_a_confirmed_past_time_publishes_now_at_the_top_not_hours_down(client, editor, post):
    client.force_login(editor)
    past = (timezone.now() - timedelta(hours=3)).astimezone(ZoneInfo("America/New_York"))
    answer = compose(
        client, post, intent="schedule", at=past.strftime("%Y-%m-%dT%H:%M"), tz="America/New_York", confirm_past="on"
    ).json()
    entry = Entry.objects.get(pk=answer["entry"])
    assert entry.is_public and timezone.now() - entry.published_at < timedelta(minutes=1)


def test_an_unknown_time_zone_is_refused_in_plain_words(client, editor, post):
    client.force_login(editor)
    response = compose(client, post, intent="schedule", at="2031-01-01T10:00", tz="Mars/Olympus")
    assert response.status_code == 400
    assert "time zone “Mars/Olympus” is unknown" in response.json()["error"]


def test_a_time_at_the_end_of_the_calendar_in_a_zone_behind_utc_is_refused_in_plain_words_and_saves_nothing(client, editor, post):
    # 9999-12-31 23:59 in New York is past the last date a computer calendar holds in UTC:
    # it was a 500, and the desk's script resends a 500 for ever.
    entry = EntryFactory(post=post, created_by=editor)
    client.force_login(editor)
    response = compose(client, post, intent="schedule", at="9999-12-31T23:59", tz="America/New_York")
    assert response.status_code == 400 and "check the year" in response.json()["error"]
    assert Entry.objects.filter(post=post).count() == 1
    response = client.post(url("act", post, entry.pk, "publish"), {"at": "9999-12-31T23:59", "tz": "America/New_York"}, **DESK)
    assert response.status_code == 409 and "not a valid date and time" in response.json()["error"]
    assert Entry.objects.get(pk=entry.pk).status == EntryStatus.DRAFT


def test_the_row_schedule_button_also_asks_before_publishing_in_the_past(client, editor, post):
    entry = EntryFactory(post=post, created_by=editor)
    client.force_login(editor)
    past = timezone.localtime() - timedelta(hours=2)
    response = client.post(url("act", post, entry.pk, "publish"), {"at": past.strftime("%Y-%m-%dT%H:%M")}, **DESK)
    assert response.status_code == 409 and response.json()["confirm"]
    assert Entry.objects.get(pk=entry.pk).status == EntryStatus.DRAFT


def test_the_plain_schedule_form_refuses_a_past_time_with_the_reason(client, editor, post):
    entry = EntryFactory(post=post, created_by=editor)
    client.force_login(editor)
    past = timezone.localtime() - timedelta(hours=2)
    response = client.post(
        reverse("admin:liveupdates_entry_workflow", args=[entry.pk, "publish"]),
        {"at": past.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert "has passed: publish now?" in response.content.decode()
    assert Entry.objects.get(pk=entry.pk).status == EntryStatus.DRAFT


def test_the_desk_row_says_when_a_scheduled_entry_appears(client, editor, post):
    PublishedEntryFactory(post=post, published_at=timezone.now() + timedelta(minutes=25, seconds=30))
    client.force_login(editor)
    html = client.get(reverse("admin:liveupdates_livepost_desk", args=[post.pk])).content.decode()
    assert "Scheduled for" in html and "(in 25\xa0minutes)" in html


# --- The staff feed -----------------------------------------------------------------------


def test_the_feed_carries_a_colleagues_new_draft_with_who_wrote_it(client, journalist, other_journalist, post):
    client.force_login(other_journalist)
    cursor = feed(client, post).json()["cursor"]
    writer = Client()
    writer.force_login(journalist)
    entry_pk = compose(writer, post).json()["entry"]
    answer = feed(client, post, cursor).json()
    assert str(entry_pk) in answer["rows"]
    assert any(line["text"] == "jo wrote a draft: “Strikes on al-Harra”" for line in answer["activity"])
    assert answer["cursor"] > cursor


@pytest.mark.parametrize(
    ("act", "line"),
    [
        (lambda e, ed: workflow.publish(entry=e, user=ed), "ed published"),
        (lambda e, ed: workflow.pin(entry=e, user=ed), "ed pinned"),
        (lambda e, ed: workflow.set_key_event(entry=e, user=ed, key_event=True), "ed marked"),
        (lambda e, ed: workflow.return_to_author(entry=e, user=ed, note="Source?"), "ed returned"),
    ],
)
def test_the_feed_reports_every_change_of_state_with_its_actor(client, editor, journalist, post, act, line):
    entry = EntryFactory(post=post, created_by=journalist, status=EntryStatus.IN_REVIEW, headline="Douma")
    client.force_login(journalist)
    cursor = feed(client, post).json()["cursor"]
    act(entry, editor)
    answer = feed(client, post, cursor).json()
    assert any(item["text"].startswith(line) for item in answer["activity"])
    assert str(entry.pk) in answer["rows"]


def test_the_feed_tells_a_journalist_what_came_back_to_them(client, editor, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist, status=EntryStatus.IN_REVIEW, headline="Douma")
    workflow.return_to_author(entry=entry, user=editor, note="Source?")
    client.force_login(journalist)
    assert [item["id"] for item in feed(client, post).json()["returned"]] == [entry.pk]
    workflow.submit_for_review(entry=Entry.objects.get(pk=entry.pk), user=journalist)
    assert feed(client, post).json()["returned"] == []


def test_resubmitting_clears_the_editors_old_note(editor, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist, status=EntryStatus.IN_REVIEW)
    workflow.return_to_author(entry=entry, user=editor, note="Source?")
    workflow.submit_for_review(entry=Entry.objects.get(pk=entry.pk), user=journalist)
    assert Entry.objects.get(pk=entry.pk).review_note == ""


def test_returned_to_you_is_on_the_desk_and_the_admin_index(client, editor, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist, status=EntryStatus.IN_REVIEW, headline="Douma")
    workflow.return_to_author(entry=entry, user=editor, note="Source?")
    client.force_login(journalist)
    desk = client.get(reverse("admin:liveupdates_livepost_desk", args=[post.pk])).content.decode()
    assert "Returned to you" in desk and "Source?" in desk
    index = client.get(reverse("admin:index")).content.decode()
    assert "Returned to you: 1 entry" in index


def test_the_feed_says_who_is_editing_which_entry_and_since_when(client, editor, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist)
    other = Client()
    other.force_login(editor)
    other.post(url("autosave", post), {"key": f"entry-{entry.pk}", "headline": "x", "body": ""}, **DESK)
    client.force_login(journalist)
    presence = feed(client, post).json()["presence"]
    assert [(p["entry"], p["who"]) for p in presence] == [(entry.pk, "ed")]
    assert presence[0]["since"] == timezone.localtime(Autosave.objects.get().started_at).strftime("%H:%M")


def test_someone_who_closed_the_form_stops_being_shown_as_editing(client, editor, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist)
    long_ago = timezone.now() - timedelta(minutes=5)
    Autosave.objects.create(user=editor, key=f"entry-{entry.pk}", post=post, entry=entry, started_at=long_ago, saved_at=long_ago)
    client.force_login(journalist)
    assert feed(client, post).json()["presence"] == []


def test_nobody_outside_the_newsroom_reads_drafts_through_the_feed(client, reader, journalist, post):
    EntryFactory(post=post, created_by=journalist, headline="Secret draft about Douma")
    anonymous = feed(client, post)
    assert anonymous.status_code == 401 and "Secret" not in anonymous.content.decode()
    client.force_login(reader)
    assert feed(client, post).status_code == 403
    client.force_login(UserFactory(username="nobody"))  # staff without a newsroom role
    response = feed(client, post)
    assert response.status_code == 403 and "Secret" not in response.content.decode()


def test_a_withdrawn_entry_reaches_the_desk_as_withdrawn(client, editor, post):
    entry = PublishedEntryFactory(post=post, headline="Old footage")
    client.force_login(editor)
    cursor = feed(client, post).json()["cursor"]
    workflow.withdraw(entry=entry, user=editor, reason="Old footage")
    answer = feed(client, post, cursor).json()
    assert "nl-entry--withdrawn" in answer["rows"][str(entry.pk)]


def test_a_forged_cursor_is_read_as_the_start(client, editor, post):
    client.force_login(editor)
    for after in ("-1", "abc", "9" * 40, "١٢"):
        assert feed(client, post, after).status_code == 200


def test_the_feed_reads_a_constant_number_of_queries(client, editor, journalist, post, django_assert_max_num_queries):
    client.force_login(editor)
    for n in range(10):
        entry = EntryFactory(post=post, created_by=journalist, headline=f"Entry {n}")
        WorkflowEvent.objects.create(entry=entry, action="created", from_status="draft", to_status="draft", actor=journalist)
    # The session and permissions (4), the post, the events, the rows (the entries and 5 prefetches:
    # no tags or corrections, which a row does not show), presence, and what came back to me (2).
    with django_assert_max_num_queries(FEED_QUERIES):
        answer = feed(client, post).json()
    assert len(answer["rows"]) == 10


# --- Autosave -------------------------------------------------------------------------------


def test_autosave_keeps_one_copy_per_person_and_box_and_gives_it_back(client, journalist, post):
    client.force_login(journalist)
    key = f"post-{post.pk}"
    for words in ("<p>Two</p>", "<p>Two strikes</p>"):
        assert client.post(url("autosave", post), {"key": key, "headline": "H", "body": words}, **DESK).json()["ok"]
    assert Autosave.objects.filter(user=journalist, key=key).count() == 1
    kept = client.get(url("autosave", post) + f"?key={key}", **DESK).json()["autosave"]
    assert kept["body"] == "<p>Two strikes</p>" and kept["headline"] == "H"


def test_autosave_is_never_a_revision(client, journalist, draft):
    from reversion.models import Version

    client.force_login(journalist)
    before = Version.objects.count()
    client.post(url("autosave", draft.post), {"key": f"entry-{draft.pk}", "headline": "H", "body": "<p>x</p>"}, **DESK)
    assert Version.objects.count() == before


def test_autosave_is_sanitised_and_private(client, journalist, other_journalist, post):
    client.force_login(journalist)
    key = f"post-{post.pk}"
    client.post(url("autosave", post), {"key": key, "body": "<p>ok</p><script>alert(1)</script>"}, **DESK)
    assert "<script" not in Autosave.objects.get(user=journalist).body
    client.force_login(other_journalist)
    assert client.get(url("autosave", post) + f"?key={key}", **DESK).json()["autosave"] is None


def test_autosave_refuses_a_box_the_user_cannot_write_in(client, journalist, other_journalist, post):
    theirs = EntryFactory(post=post, created_by=other_journalist)
    elsewhere = EntryFactory(post=LivePostFactory(), created_by=journalist)
    client.force_login(journalist)
    for key in (f"entry-{theirs.pk}", f"entry-{elsewhere.pk}", "post-999999", "../etc", ""):
        response = client.post(url("autosave", post), {"key": key, "body": "<p>x</p>"}, **DESK)
        assert response.status_code == 403, key
    assert not Autosave.objects.exists()


def test_autosave_refuses_a_runaway_text_in_plain_words(client, journalist, post):
    client.force_login(journalist)
    response = client.post(url("autosave", post), {"key": f"post-{post.pk}", "body": "x" * 1_000_001}, **DESK)
    assert response.status_code == 413 and "kept in this browser" in response.json()["error"]


def test_a_paste_too_big_to_send_is_refused_in_json_with_the_reason_and_nothing_is_saved(client, journalist, post, settings):
    # Over DATA_UPLOAD_MAX_MEMORY_SIZE Django answered its HTML 400 page: the desk's script, which
    # resends whatever is not JSON, said "the server did not answer" and resent it for ever.
    client.force_login(journalist)
    big = "<p>" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + "</p>"
    for response in (
        compose(client, post, body=big),
        client.post(url("autosave", post), {"key": f"post-{post.pk}", "body": big}, **DESK),
    ):
        assert response.status_code == 413 and "too big to send" in response.json()["error"]
    assert not Entry.objects.exists() and not Autosave.objects.exists()


def test_autosave_can_be_discarded(client, journalist, post):
    client.force_login(journalist)
    key = f"post-{post.pk}"
    client.post(url("autosave", post), {"key": key, "body": "<p>x</p>"}, **DESK)
    client.post(url("autosave", post), {"key": key, "discard": "1"}, **DESK)
    assert not Autosave.objects.exists()


def autosaved(client, post, key, words, *, days_ago):
    """An autosave last changed `days_ago` days ago, through the endpoint, then aged."""
    client.post(url("autosave", post), {"key": key, "headline": words, "body": f"<p>{words}</p>"}, **DESK)
    Autosave.objects.filter(key=key).update(saved_at=timezone.now() - timedelta(days=days_ago))


def test_expire_autosaves_deletes_those_older_than_the_setting_and_says_how_many(client, journalist, post, settings):
    from django.core.management import call_command

    settings.NEWSROOM_AUTOSAVE_DAYS = 30
    client.force_login(journalist)
    autosaved(client, post, f"post-{post.pk}", "abandoned", days_ago=30.1)
    draft = EntryFactory(post=post, created_by=journalist)
    autosaved(client, post, f"entry-{draft.pk}", "recent", days_ago=29.9)

    out = StringIO()
    call_command("expire_autosaves", stdout=out)
    assert out.getvalue().strip() == "Deleted 1 autosave older than 30 days."
    assert list(Autosave.objects.values_list("headline", flat=True)) == ["recent"]

    again = StringIO()
    call_command("expire_autosaves", stdout=again)  # idempotent: nothing left to delete
    assert again.getvalue().strip() == "Deleted 0 autosaves older than 30 days."
    assert Autosave.objects.count() == 1


def test_the_autosave_retention_follows_the_setting(client, journalist, post, settings):
    from django.core.management import call_command

    settings.NEWSROOM_AUTOSAVE_DAYS = 7
    client.force_login(journalist)
    autosaved(client, post, f"post-{post.pk}", "last week", days_ago=7.1)
    call_command("expire_autosaves", stdout=StringIO())
    assert not Autosave.objects.exists()


def test_an_expired_autosave_is_not_offered_back_even_before_it_is_deleted(client, journalist, post, settings):
    settings.NEWSROOM_AUTOSAVE_DAYS = 30
    client.force_login(journalist)
    key = f"post-{post.pk}"
    autosaved(client, post, key, "abandoned", days_ago=30.1)
    assert client.get(url("autosave", post) + f"?key={key}", **DESK).json()["autosave"] is None
    autosaved(client, post, key, "kept", days_ago=29.9)
    assert client.get(url("autosave", post) + f"?key={key}", **DESK).json()["autosave"]["headline"] == "kept"


def test_the_autosave_retention_is_30_days_unless_set():
    from newsroom import settings as production

    assert production.NEWSROOM_AUTOSAVE_DAYS == 30


def test_an_open_edit_form_hears_who_else_is_editing(client, editor, journalist, draft):
    other = Client()
    other.force_login(editor)
    other.post(url("autosave", draft.post), {"key": f"entry-{draft.pk}", "body": ""}, **DESK)
    client.force_login(journalist)
    answer = client.post(url("autosave", draft.post), {"key": f"entry-{draft.pk}", "body": "<p>x</p>"}, **DESK).json()
    assert [o["who"] for o in answer["others"]] == ["ed"]


# --- Logging in again, stale tokens -----------------------------------------------------------


def test_the_session_endpoint_logs_a_journalist_in_again_and_hands_a_fresh_token(journalist):
    client = Client(enforce_csrf_checks=True)
    session_url = reverse("admin:liveupdates_desk_session")
    first = client.get(session_url).json()
    assert first["authenticated"] is False and first["csrf"]
    response = client.post(
        session_url, {"username": "jo", "password": "correct horse battery staple"}, HTTP_X_CSRFTOKEN=first["csrf"]
    )
    assert response.json()["authenticated"] is True


def test_a_wrong_password_in_the_login_dialog_is_refused_in_plain_words(client, journalist):
    response = client.post(reverse("admin:liveupdates_desk_session"), {"username": "jo", "password": "wrong"})
    assert response.status_code == 400
    assert "correct username and password" in response.json()["error"]


def test_too_many_wrong_passwords_in_the_login_dialog_get_json_429_in_plain_words(client, journalist):
    session_url = reverse("admin:liveupdates_desk_session")
    for _ in range(4):
        assert client.post(session_url, {"username": "jo", "password": "wrong"}, **DESK).status_code == 400
    for password in ("wrong", "correct horse battery staple"):  # locked: even the right one, for 15 minutes
        response = client.post(session_url, {"username": "jo", "password": password}, **DESK)
        assert response.status_code == 429
        assert response["Content-Type"] == "application/json"
        answer = response.json()
        assert answer["ok"] is False and answer["locked"] is True
        assert answer["error"].startswith("Too many wrong passwords: this account cannot log in from here for 15 minutes.")
        assert "What you typed stays here" in answer["error"]
    assert "_auth_user_id" not in client.session


def test_a_locked_out_login_page_still_gets_the_lockout_page(client, journalist):
    for _ in range(5):
        response = client.post(reverse("admin:login"), {"username": "jo", "password": "wrong", "next": "/admin/"})
    assert response.status_code == 429 and response["Content-Type"].startswith("text/html")
    assert "Too many failed logins" in response.content.decode()
    assert "cannot log in from here for 15 minutes" in response.content.decode()


def test_the_lockout_answers_json_to_whatever_asks_for_json_and_takes_axes_arguments_either_way(rf):
    from liveupdates.editorial.admin.desk_api import lockout

    for headers in ({"HTTP_ACCEPT": "application/json"}, {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}, DESK):
        request = rf.post("/admin/liveupdates/livepost/desk/session/", **headers)
        for args in ((None, {"username": "jo"}), ({"username": "jo"},)):  # Axes' sync and async call
            response = lockout(request, *args)
            assert response.status_code == 429 and response["Content-Type"] == "application/json"
    page = lockout(rf.post("/admin/login/", HTTP_ACCEPT="text/html,application/xhtml+xml"), None, None)
    assert page.status_code == 429 and page["Content-Type"].startswith("text/html")


def test_a_reader_account_cannot_log_in_to_the_desk(client, reader):
    response = client.post(
        reverse("admin:liveupdates_desk_session"), {"username": "reader", "password": "correct horse battery staple"}
    )
    assert response.status_code in (400, 403)
    assert "_auth_user_id" not in client.session


def test_a_stale_csrf_token_gets_json_for_the_desk_and_the_plain_page_elsewhere(journalist, post):
    client = Client(enforce_csrf_checks=True)
    client.force_login(journalist)
    response = client.post(url("compose", post), {"headline": "x", "body": "<p>x</p>"}, HTTP_X_CSRFTOKEN="stale", **DESK)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json" and response.json()["csrf"] is True
    plain = client.post(reverse("admin:liveupdates_livepost_desk", args=[post.pk]), {"headline": "x"})
    assert plain.status_code == 403 and plain["Content-Type"].startswith("text/html")
    assert not Entry.objects.exists()


def test_the_desk_page_carries_its_endpoints_and_the_cursor(client, journalist, post):
    client.force_login(journalist)
    html = client.get(reverse("admin:liveupdates_livepost_desk", args=[post.pk])).content.decode()
    assert url("feed", post) in html and url("compose", post) in html and 'data-cursor="' in html
    assert "desk/compose.js" in html and "Ctrl+S" in html


def test_after_logging_in_again_the_fresh_token_is_accepted(journalist, post):
    client = Client(enforce_csrf_checks=True)
    session_url = reverse("admin:liveupdates_desk_session")
    token = client.get(session_url).json()["csrf"]
    answer = client.post(
        session_url, {"username": "jo", "password": "correct horse battery staple"}, HTTP_X_CSRFTOKEN=token
    ).json()
    response = client.post(url("compose", post), {"headline": "x", "body": "<p>x</p>"}, HTTP_X_CSRFTOKEN=answer["csrf"], **DESK)
    assert response.status_code == 200, response.content


def test_a_journalist_discards_their_own_draft_and_colleagues_desks_drop_it(client, journalist, other_journalist, post):
    entry = EntryFactory(post=post, created_by=journalist, headline="Wrong town")
    watcher = Client()
    watcher.force_login(other_journalist)
    cursor = feed(watcher, post).json()["cursor"]
    client.force_login(journalist)
    response = client.post(url("act", post, entry.pk, "discard"), **DESK)
    assert response.json() == {"ok": True, "message": "The draft “Wrong town” was discarded.", "removed": entry.pk}
    assert not Entry.objects.filter(pk=entry.pk).exists()
    answer = feed(watcher, post, cursor).json()
    assert answer["removed"] == [entry.pk]
    assert answer["activity"][-1]["text"] == "jo discarded the draft “Wrong town”"


def test_nobody_discards_a_colleagues_draft_or_anything_readers_saw(client, journalist, other_journalist, editor, post):
    theirs = EntryFactory(post=post, created_by=other_journalist)
    published = PublishedEntryFactory(post=post, created_by=journalist)
    client.force_login(journalist)
    assert client.post(url("act", post, theirs.pk, "discard"), **DESK).status_code == 409
    client.force_login(editor)
    assert client.post(url("act", post, published.pk, "discard"), **DESK).status_code == 409
    assert Entry.objects.filter(pk__in=[theirs.pk, published.pk]).count() == 2


def test_the_plain_discard_button_goes_back_to_the_desk(client, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist)
    client.force_login(journalist)
    desk_url = reverse("admin:liveupdates_livepost_desk", args=[post.pk])
    assert "Discard this draft" in client.get(desk_url).content.decode()
    response = client.post(reverse("admin:liveupdates_entry_workflow", args=[entry.pk, "discard"]), {"next": desk_url})
    assert response.status_code == 302 and response["Location"] == desk_url
    assert not Entry.objects.exists()


def test_an_event_committed_late_with_a_smaller_id_still_reaches_the_desk(client, editor, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist, headline="Late")
    early = WorkflowEvent.objects.create(entry=entry, action="edited", from_status="draft", to_status="draft", actor=journalist)
    later = WorkflowEvent.objects.create(entry=entry, action="edited", from_status="draft", to_status="draft", actor=editor)
    client.force_login(editor)
    # The desk saw `later` first (its transaction committed first): `early` must still come, once.
    answer = feed(client, post, later.pk).json()
    assert [item["id"] for item in answer["activity"]] == [early.pk, later.pk]
    answer = client.get(url("feed", post) + f"?after={later.pk}&seen={early.pk},{later.pk}", **DESK).json()
    assert answer["activity"] == [] and answer["rows"] == {}


def test_a_text_over_the_limit_is_refused_with_a_sentence_and_nothing_is_saved(client, journalist, post):
    from liveupdates.richtext import BODY_MAX_CHARS

    client.force_login(journalist)
    response = compose(client, post, body="<p>" + "x" * BODY_MAX_CHARS + "</p>")
    assert response.status_code == 400
    assert "too long" in " ".join(response.json()["errors"]["body"])
    assert not Entry.objects.exists()


def test_a_text_at_the_limit_is_kept(client, journalist, post):
    from liveupdates.richtext import BODY_MAX_CHARS

    client.force_login(journalist)
    body = "<p>" + "x" * (BODY_MAX_CHARS - 7) + "</p>"
    assert compose(client, post, body=body).status_code == 200
    assert Entry.objects.get().body == body


def test_the_full_edit_page_refuses_a_text_over_the_limit_with_the_same_sentence(client, editor, post):
    from liveupdates.richtext import BODY_MAX_CHARS

    from .test_revisions import admin_save

    client.force_login(editor)
    entry = EntryFactory(post=post, created_by=editor, body="<p>Short.</p>")
    response = admin_save(client, entry, body="<p>" + "x" * BODY_MAX_CHARS + "</p>")
    assert response.status_code == 200 and "This text is too long" in response.content.decode()
    assert Entry.objects.get(pk=entry.pk).body == "<p>Short.</p>"


@pytest.mark.parametrize("cool_off", [0.5, timedelta(minutes=30), "liveupdates.tests_cool_off"])
def test_the_lockout_reads_the_cool_off_in_any_form_axes_accepts(rf, settings, monkeypatch, cool_off):
    from liveupdates.editorial.admin.desk_api import lockout

    if isinstance(cool_off, str):  # a callable, as axes allows: named by its dotted path
        monkeypatch.setattr("liveupdates.tests_cool_off", lambda request: timedelta(minutes=30), raising=False)
    settings.AXES_COOLOFF_TIME = cool_off
    response = lockout(rf.post("/admin/liveupdates/livepost/desk/session/", HTTP_ACCEPT="application/json"), None)
    assert response.status_code == 429 and "for 30 minutes" in response.content.decode()
