"""Verification labels: editors set them (a journalist may propose), the history records each, readers see them
on the page, in the API, the feeds and the structured data; citing chains shown the same way."""

import json
import re

import pytest
from django.core import checks
from django.urls import reverse

from liveupdates.editorial import workflow
from liveupdates.models import Card, Citation, Entry, WorkflowEvent

from .factories import EntryFactory, PublishedEntryFactory, SourceFactory

pytestmark = pytest.mark.django_db


def fresh(entry):
    return Entry.objects.select_related("post").get(pk=entry.pk)


@pytest.mark.parametrize(
    ("state", "method", "note", "label"),
    [
        ("unverified", "", "", "Not independently verified"),
        ("verified", "geolocated", "", "Verified: geolocated by our team"),
        ("verified", "confirmed", "Confirmed by the Syrian Civil Defence", "Verified: confirmed by a named source"),
        ("verified", "first_hand", "", "Verified: seen first-hand by our reporter"),
        ("disputed", "", "The video was filmed in 2013 in Homs", "Disputed"),
    ],
)
def test_an_editor_sets_each_state_and_readers_see_its_label(client, editor, post, state, method, note, label):
    entry = PublishedEntryFactory(post=post)
    workflow.set_verification(entry=fresh(entry), user=editor, state=state, method=method, note=note)
    entry = fresh(entry)
    assert entry.verification_label == label and entry.verified_by == editor and entry.verified_at
    html = client.get(post.get_absolute_url()).content.decode()
    assert f">{label}</a>" in html and note in html
    assert f'href="{reverse("liveupdates:verification")}"' in html


def test_the_explanation_page_explains_every_label(client):
    html = client.get(reverse("liveupdates:verification")).content.decode()
    for words in ("Not independently verified", "Verified", "Disputed", "geolocated by our team"):
        assert words in html


def test_a_journalist_cannot_set_a_label(journalist, post):
    entry = EntryFactory(post=post, created_by=journalist)
    with pytest.raises(workflow.WorkflowError, match="Only editors"):
        workflow.set_verification(entry=fresh(entry), user=journalist, state="verified", method="geolocated")
    assert fresh(entry).verification == ""


def test_a_journalist_may_propose_a_label_which_is_recorded_for_an_editor_and_changes_nothing(client, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist)
    client.force_login(journalist)
    url = reverse("admin:liveupdates_entry_workflow", args=[entry.pk, "verify"])
    client.post(url, {"verification": "verified", "method": "geolocated", "note": "Matched the minaret"})
    assert fresh(entry).verification == ""
    proposal = WorkflowEvent.objects.get(entry=entry, action="verification_proposed")
    assert proposal.actor == journalist and "geolocated" in proposal.note


def test_a_forged_post_by_a_journalist_to_the_editors_action_does_not_set_the_label(client, journalist, other_journalist, post):
    entry = PublishedEntryFactory(post=post, created_by=other_journalist)
    client.force_login(journalist)
    client.post(
        reverse("admin:liveupdates_entry_workflow", args=[entry.pk, "verify"]),
        {"verification": "verified", "method": "first_hand"},
    )
    assert fresh(entry).verification == ""
    assert not WorkflowEvent.objects.filter(entry=entry, action="verification").exists()


def test_an_editor_sets_the_label_through_the_admin_button_and_the_history_records_it(client, editor, post):
    entry = PublishedEntryFactory(post=post)
    client.force_login(editor)
    client.post(
        reverse("admin:liveupdates_entry_workflow", args=[entry.pk, "verify"]),
        {"verification": "disputed", "note": "Footage predates the strike"},
    )
    assert fresh(entry).verification == "disputed"
    event = WorkflowEvent.objects.get(entry=entry, action="verification")
    assert event.actor == editor and "Footage predates the strike" in event.note


@pytest.mark.parametrize(
    ("state", "method", "note", "reason"),
    [
        ("verified", "", "", "Say how it was verified"),
        ("disputed", "", "", "why it is disputed"),
        ("true", "", "", "Choose a verification state"),
        ("verified", "vibes", "", "Choose how it was verified"),
        ("unverified", "", "x" * 301, "under 300 characters"),
    ],
)
def test_an_incomplete_or_invalid_label_is_refused_with_a_sentence(editor, post, state, method, note, reason):
    entry = PublishedEntryFactory(post=post)
    with pytest.raises(workflow.WorkflowError, match=reason):
        workflow.set_verification(entry=fresh(entry), user=editor, state=state, method=method, note=note)


def test_a_withdrawn_entry_gets_no_label(editor, post):
    entry = PublishedEntryFactory(post=post)
    workflow.withdraw(entry=fresh(entry), user=editor, reason="wrong")
    with pytest.raises(workflow.WorkflowError, match="withdrawn"):
        workflow.set_verification(entry=fresh(entry), user=editor, state="unverified")


def test_changing_the_label_of_a_published_entry_is_a_public_update(editor, post):
    entry = PublishedEntryFactory(post=post)
    workflow.set_verification(entry=fresh(entry), user=editor, state="unverified")
    first = fresh(entry).revised_at
    assert first is not None
    workflow.set_verification(entry=fresh(entry), user=editor, state="verified", method="geolocated")
    assert fresh(entry).revised_at >= first and fresh(entry).live_pending


def test_the_label_is_in_the_api_the_feed_and_the_structured_data(client, editor, post):
    entry = PublishedEntryFactory(post=post)
    workflow.set_verification(entry=fresh(entry), user=editor, state="verified", method="geolocated", note="Matched the minaret")
    api = client.get(f"/api/entries/{entry.pk}").json()
    assert api["verification"]["label"] == "Verified: geolocated by our team"
    assert api["verification"]["note"] == "Matched the minaret"
    feed = client.get(reverse("liveupdates:feed_post", args=[post.slug])).content.decode()
    assert "Verified: geolocated by our team" in feed
    html = client.get(entry.get_absolute_url()).content.decode()
    blocks = [json.loads(block) for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]
    text = json.dumps(blocks)
    assert '"creativeWorkStatus": "Verified: geolocated by our team"' in text


def test_an_unlabelled_entry_says_nothing_about_verification(client, post):
    entry = PublishedEntryFactory(post=post)
    assert client.get(f"/api/entries/{entry.pk}").json()["verification"] is None
    assert "label--verification" not in client.get(entry.get_absolute_url()).content.decode()


def test_an_editor_sets_a_cards_label_and_readers_see_it_with_the_card(client, editor, journalist, post):
    entry = PublishedEntryFactory(post=post)
    card = Card.objects.create(url="https://t.me/smartnewsagency/1", provider="telegram", text="Strike on Hayyan", entry=entry)
    Entry.objects.filter(pk=entry.pk).update(body=f'<figure data-card="{card.pk}"><a href="{card.url}">x</a></figure>')
    with pytest.raises(workflow.WorkflowError):
        workflow.set_card_verification(card=card, user=journalist, state="verified", method="geolocated")
    workflow.set_card_verification(card=card, user=editor, state="verified", method="geolocated")
    html = client.get(post.get_absolute_url()).content.decode()
    assert "Strike on Hayyan" in html and "Verified: geolocated by our team" in html
    assert WorkflowEvent.objects.filter(entry=entry, action="card_verification").exists()


# --- Citing chains -------------------------------------------------------------------------


def test_a_citing_chain_is_shown_to_readers_with_both_sources_linked_and_in_api_and_json_ld(client, post):
    now, alaraby = SourceFactory(name="NOW Lebanon", slug="now-lebanon"), SourceFactory(name="Alaraby Aljadeed", slug="alaraby")
    entry = PublishedEntryFactory(post=post)
    Citation.objects.create(entry=entry, source=now, citing=alaraby, url="https://now.mmedia.me/lb/en/566123")
    html = client.get(entry.get_absolute_url()).content.decode()
    assert re.search(r'NOW Lebanon</a>, citing <a href="/sources/alaraby/">Alaraby Aljadeed</a>', html)
    api = client.get(f"/api/entries/{entry.pk}").json()
    assert api["sources"][0]["citing"]["slug"] == "alaraby"
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert '"isBasedOn": {"@type": "CreativeWork", "publisher": {"@type": "Organization", "name": "Alaraby Aljadeed"' in " ".join(
        json.dumps(json.loads(block)) for block in blocks
    )


def test_a_source_cited_only_through_another_is_renamed_everywhere(client, post):
    now, alaraby = SourceFactory(name="NOW Lebanon"), SourceFactory(name="Alaraby Aljadeed")
    entry = PublishedEntryFactory(post=post)
    Citation.objects.create(entry=entry, source=now, citing=alaraby)
    client.get(post.get_absolute_url())
    alaraby.name = "The New Arab"
    alaraby.save()
    assert "The New Arab" in client.get(post.get_absolute_url()).content.decode()


# --- The fetch allowlist is for tests only ----------------------------------------------------


def test_django_warns_when_the_fetch_allowlist_is_set_in_production(settings):
    from liveupdates.apps import fetch_allow_check

    settings.DEBUG = False
    settings.NEWSROOM_FETCH_ALLOW = ["127.0.0.1:8080"]
    assert [warning.id for warning in fetch_allow_check(None)] == ["liveupdates.W014"]
    settings.NEWSROOM_FETCH_ALLOW = []
    assert fetch_allow_check(None) == []
    assert checks.Warning  # the check is registered with deploy=True (manage.py check --deploy)


def test_the_cards_page_offers_editors_the_label_and_refuses_a_journalists_forged_post(client, editor, journalist):
    card = Card.objects.create(url="https://t.me/smartnewsagency/1", provider="telegram", created_by=journalist)
    client.force_login(editor)
    assert "Set the label" in client.get(reverse("admin:liveupdates_card_change", args=[card.pk])).content.decode()
    client.force_login(journalist)
    response = client.post(
        reverse("admin:liveupdates_card_verify", args=[card.pk]), {"verification": "verified", "method": "geolocated"}
    )
    assert response.status_code == 403 and Card.objects.get(pk=card.pk).verification == ""
    client.force_login(editor)
    client.post(reverse("admin:liveupdates_card_verify", args=[card.pk]), {"verification": "verified", "method": "geolocated"})
    assert Card.objects.get(pk=card.pk).verification_label == "Verified: geolocated by our team"


def test_a_source_cited_through_another_lists_the_entry_on_its_page(client, post):
    now, alaraby = SourceFactory(name="NOW Lebanon"), SourceFactory(name="Alaraby Aljadeed")
    entry = PublishedEntryFactory(post=post, headline="Moscow asked Beirut for border intelligence")
    Citation.objects.create(entry=entry, source=now, citing=alaraby)
    for source in (now, alaraby):
        assert "Moscow asked Beirut" in client.get(source.get_absolute_url()).content.decode()
