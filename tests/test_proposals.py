"""Proposed edits: a journalist fixes their own published entry, an editor decides, readers see nothing until then."""

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from liveupdates.delivery import live
from liveupdates.editorial import workflow
from liveupdates.models import EditProposal, Entry, EntryStatus, LiveEvent, ProposalStatus, WorkflowEvent

from .factories import EntryFactory, PublishedEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_WORDS = "Zanzibarquill"  # a word no fixture, template or page contains


@pytest.fixture
def published(journalist, post):
    entry = PublishedEntryFactory(
        post=post, created_by=journalist, headline="Strikes on Daraa", body="<p>Jets struck Sukayk at dawn.</p>"
    )
    live.announce_entry(entry.pk)
    return Entry.objects.get(pk=entry.pk)


def propose(entry, user, *, headline="Strikes on Daraa", body=f"<p>Jets struck Sukayk at noon, {NEW_WORDS} says.</p>"):
    return workflow.propose_edit(entry=entry, user=user, headline=headline, body=body)


def published_at():
    return timezone.now() - timedelta(minutes=5)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def events(entry, action):
    return list(WorkflowEvent.objects.filter(entry=entry, action=action))


# --- Proposing ---------------------------------------------------------------------------------------


def test_the_author_proposes_an_edit_and_the_published_entry_keeps_its_words(journalist, published):
    proposal = propose(published, journalist)
    entry = fresh(published)
    assert proposal.status == ProposalStatus.WAITING and proposal.base_version == published.version
    assert entry.body == "<p>Jets struck Sukayk at dawn.</p>" and entry.version == published.version
    assert entry.revised_at is None and not entry.live_pending
    assert [e.actor for e in events(entry, "edit_proposed")] == [journalist]


def test_a_proposed_text_is_sanitised_like_any_entry(journalist, published):
    proposal = propose(published, journalist, body='<p onclick="steal()">Noon<script>alert(1)</script></p>')
    assert fresh(proposal).body == "<p>Noon</p>"


def test_a_second_proposal_replaces_the_waiting_one(journalist, published):
    first = propose(published, journalist)
    second = propose(published, journalist, body="<p>Jets struck Sukayk twice.</p>")
    assert fresh(first).status == ProposalStatus.SUPERSEDED
    assert fresh(second).status == ProposalStatus.WAITING
    assert EditProposal.objects.waiting().filter(entry=published).count() == 1


def test_the_database_refuses_two_waiting_proposals_on_one_entry(journalist, published):
    propose(published, journalist)
    with pytest.raises(IntegrityError), transaction.atomic():
        EditProposal.objects.create(entry=published, author=journalist, headline="", body="<p>x</p>", base_version=1)


def test_a_journalist_cannot_propose_an_edit_to_a_colleagues_entry(other_journalist, published):
    with pytest.raises(workflow.WorkflowError, match="Only the entry's author can propose"):
        propose(published, other_journalist)
    assert not EditProposal.objects.exists()


def test_an_editor_edits_directly_instead_of_proposing(editor, published):
    with pytest.raises(workflow.WorkflowError, match="Editors change published entries directly"):
        propose(published, editor)


def test_an_inactive_author_cannot_propose(journalist, published):
    journalist.is_active = False
    journalist.save()
    with pytest.raises(workflow.WorkflowError, match="Only the entry's author"):
        propose(published, journalist)


@pytest.mark.parametrize("status", [EntryStatus.DRAFT, EntryStatus.IN_REVIEW, EntryStatus.WITHDRAWN])
def test_only_a_published_entry_takes_a_proposed_edit(journalist, post, status):
    extra = {"published_at": published_at()} if status == EntryStatus.WITHDRAWN else {}
    entry = EntryFactory(post=post, created_by=journalist, status=status, **extra)
    with pytest.raises(workflow.WorkflowError, match="only a published entry is"):
        propose(entry, journalist)
    assert not EditProposal.objects.exists()


@pytest.mark.parametrize(
    ("headline", "body", "message"),
    [
        ("", "<p>   </p>", "The proposed text is empty"),
        ("", "<script>x</script>", "The proposed text is empty"),
        ("x" * 201, "<p>Fine.</p>", "under 200 characters"),
        ("", '<p>Look:</p><img src="/media/a.jpg">', "no alternative text"),
        ("Strikes on Daraa", "<p>Jets struck Sukayk at dawn.</p>", "the same as the published entry"),
        ("", "<p>" + "a" * workflow.PROPOSAL_MAX_CHARS + "</p>", "Split it into several entries"),
    ],
)
def test_a_bad_proposal_is_refused_with_a_reason(journalist, published, headline, body, message):
    with pytest.raises(workflow.WorkflowError, match=message):
        propose(published, journalist, headline=headline, body=body)
    assert not EditProposal.objects.exists()


# --- Approving --------------------------------------------------------------------------------------


def test_an_editor_approves_and_readers_get_the_new_words_as_an_edit(editor, journalist, published):
    proposal = propose(published, journalist, headline="Strikes on Daraa at noon")
    workflow.approve_edit(proposal=proposal, user=editor)
    entry = fresh(published)
    assert NEW_WORDS in entry.body and entry.headline == "Strikes on Daraa at noon"
    assert entry.version == published.version + 1 and entry.updated_by == editor
    assert entry.revised_at is not None  # readers see "Updated"
    assert fresh(proposal).status == ProposalStatus.APPROVED and fresh(proposal).decided_by == editor
    assert events(entry, "edited") and events(entry, "edit_approved")
    live.announce(entry.post_id)
    update = LiveEvent.objects.filter(entry=entry, kind=live.UPDATE).order_by("-pk").first()
    assert update is not None and NEW_WORDS in json.dumps(update.payload)


def test_a_journalist_cannot_approve_their_own_proposal(journalist, published):
    proposal = propose(published, journalist)
    with pytest.raises(workflow.WorkflowError, match="Only editors can approve"):
        workflow.approve_edit(proposal=proposal, user=journalist)
    assert fresh(proposal).status == ProposalStatus.WAITING and NEW_WORDS not in fresh(published).body


def test_an_approval_after_the_entry_changed_is_refused_and_the_change_survives(editor, journalist, published):
    proposal = propose(published, journalist)
    # An editor edits the entry meanwhile, as the admin's form does (version bump, then record).
    Entry.objects.filter(pk=published.pk).update(body="<p>Editor's fix.</p>", version=published.version + 1)
    with pytest.raises(workflow.WorkflowError, match="The entry changed after this edit was proposed"):
        workflow.approve_edit(proposal=proposal, user=editor)
    assert fresh(published).body == "<p>Editor's fix.</p>"
    assert fresh(proposal).status == ProposalStatus.WAITING


def test_an_approval_after_a_public_correction_is_refused_so_the_corrected_words_stay(editor, journalist, published):
    proposal = propose(published, journalist, body="<p>Jets struck Sukayk at dawn: 14 killed.</p>")
    workflow.correct(entry=fresh(published), user=editor, text="An earlier version gave the toll as 14; it is 12.")
    with pytest.raises(workflow.WorkflowError, match="The entry changed after this edit was proposed"):
        workflow.approve_edit(proposal=proposal, user=editor)
    assert "14 killed" not in fresh(published).body and fresh(proposal).status == ProposalStatus.WAITING


def test_an_approval_after_a_correction_made_while_the_post_was_hidden_is_refused_so_the_corrected_words_stay(
    client, editor, journalist, published
):
    # A correction on an entry readers cannot see now (its post hidden, or the entry scheduled)
    # does not move revised_at ("Updated" is for what readers saw): the proposal looked fresh.
    proposal = propose(published, journalist, body="<p>Jets struck Sukayk at dawn: 14 killed.</p>")
    post = published.post
    workflow.unpublish_post(post=post, user=editor)
    workflow.correct(entry=fresh(published), user=editor, text="An earlier version gave the toll as 14; it is 12.")
    client.force_login(editor)
    page = client.get(reverse("admin:liveupdates_entry_review")).content.decode()
    assert "The entry changed after this edit was proposed" in page
    with pytest.raises(workflow.WorkflowError, match="The entry changed after this edit was proposed"):
        workflow.approve_edit(proposal=proposal, user=editor)
    assert "14 killed" not in fresh(published).body and fresh(proposal).status == ProposalStatus.WAITING


def test_a_proposal_cannot_bring_in_a_card_the_entry_does_not_show(journalist, other_journalist, published):
    # The review shows words only: a card from a colleague's draft would reach readers unseen.
    from liveupdates.models import Card

    secret = Card.objects.create(
        url="https://t.me/smartnewsagency/9", provider="telegram", text="Scoop", created_by=other_journalist
    )
    with pytest.raises(workflow.WorkflowError, match="can keep the entry's link cards but not add new ones"):
        propose(published, journalist, body=f'<p>Noon.</p><figure data-card="{secret.pk}"></figure>')
    assert not EditProposal.objects.filter(entry=published).exists()


def test_an_approval_refuses_a_card_that_reached_the_proposal_another_way(editor, journalist, published):
    from liveupdates.models import Card

    proposal = propose(published, journalist)
    secret = Card.objects.create(url="https://t.me/smartnewsagency/9", provider="telegram", text="Scoop")
    EditProposal.objects.filter(pk=proposal.pk).update(body=f'<p>Noon.</p><figure data-card="{secret.pk}"></figure>')
    with pytest.raises(workflow.WorkflowError, match="not add new ones"):
        workflow.approve_edit(proposal=fresh(proposal), user=editor)
    assert "data-card" not in fresh(published).body


def test_a_proposal_is_held_to_the_entrys_own_length_limit(journalist, published):
    from liveupdates import richtext

    too_long = "<p>" + "a" * richtext.BODY_MAX_CHARS + "</p>"
    with pytest.raises(workflow.WorkflowError, match="Split it into several entries"):
        propose(published, journalist, body=too_long)


def test_a_decided_proposal_cannot_be_approved_again(editor, journalist, published):
    proposal = propose(published, journalist)
    workflow.refuse_edit(proposal=proposal, user=editor, note="Not confirmed.")
    with pytest.raises(workflow.WorkflowError, match="no longer waiting: it was refused"):
        workflow.approve_edit(proposal=proposal, user=editor)
    assert NEW_WORDS not in fresh(published).body


# --- Refusing, withdrawing ---------------------------------------------------------------------------


def test_an_editor_refuses_with_a_note_and_the_author_finds_it_returned(editor, journalist, published):
    proposal = propose(published, journalist)
    workflow.refuse_edit(proposal=proposal, user=editor, note="  The agency has not confirmed noon.  ")
    proposal = fresh(proposal)
    assert proposal.status == ProposalStatus.REFUSED and proposal.editor_note == "The agency has not confirmed noon."
    assert list(EditProposal.objects.returned_to(journalist)) == [proposal]
    assert NEW_WORDS not in fresh(published).body
    assert events(published, "edit_refused")[0].note == "The agency has not confirmed noon."


def test_a_refusal_needs_a_note(editor, journalist, published):
    proposal = propose(published, journalist)
    with pytest.raises(workflow.WorkflowError, match="Write a note telling the author why"):
        workflow.refuse_edit(proposal=proposal, user=editor, note="   ")
    assert fresh(proposal).status == ProposalStatus.WAITING


def test_a_journalist_cannot_refuse_a_proposal(journalist, other_journalist, published):
    proposal = propose(published, journalist)
    with pytest.raises(workflow.WorkflowError, match="Only editors can refuse"):
        workflow.refuse_edit(proposal=proposal, user=other_journalist, note="No.")
    assert fresh(proposal).status == ProposalStatus.WAITING


def test_a_new_proposal_takes_the_old_refusal_out_of_returned_to_you(editor, journalist, published):
    workflow.refuse_edit(proposal=propose(published, journalist), user=editor, note="Source?")
    propose(published, journalist, body="<p>Jets struck Sukayk at noon, SMART says.</p>")
    assert not EditProposal.objects.returned_to(journalist).exists()


def test_the_author_puts_a_refusal_away(editor, journalist, other_journalist, published):
    proposal = workflow.refuse_edit(proposal=propose(published, journalist), user=editor, note="Source?")
    with pytest.raises(workflow.WorkflowError, match="Only the journalist who proposed this edit"):
        workflow.put_away_refusal(proposal=proposal, user=other_journalist)
    assert EditProposal.objects.returned_to(journalist).exists()
    workflow.put_away_refusal(proposal=proposal, user=journalist)
    assert not EditProposal.objects.returned_to(journalist).exists()


def test_only_a_refused_proposal_can_be_put_away(journalist, published):
    with pytest.raises(workflow.WorkflowError, match="Only a refused proposal"):
        workflow.put_away_refusal(proposal=propose(published, journalist), user=journalist)


def test_the_author_withdraws_a_waiting_proposal(journalist, published):
    proposal = workflow.withdraw_proposal(proposal=propose(published, journalist), user=journalist)
    assert fresh(proposal).status == ProposalStatus.WITHDRAWN
    assert events(published, "edit_withdrawn")


@pytest.mark.parametrize("who", ["other_journalist", "editor"])
def test_only_its_author_withdraws_a_proposal(request, journalist, published, who):
    proposal = propose(published, journalist)
    with pytest.raises(workflow.WorkflowError, match="Only the journalist who proposed this edit can withdraw it"):
        workflow.withdraw_proposal(proposal=proposal, user=request.getfixturevalue(who))
    assert fresh(proposal).status == ProposalStatus.WAITING


def test_an_approved_proposal_cannot_be_withdrawn(editor, journalist, published):
    proposal = propose(published, journalist)
    workflow.approve_edit(proposal=proposal, user=editor)
    with pytest.raises(workflow.WorkflowError, match="no longer waiting: it was approved"):
        workflow.withdraw_proposal(proposal=proposal, user=journalist)


# --- A withdrawn entry ---------------------------------------------------------------------------------


def test_withdrawing_the_entry_closes_its_waiting_proposal(editor, journalist, published):
    proposal = propose(published, journalist)
    workflow.withdraw(entry=fresh(published), user=editor, reason="Agency retracted")
    assert fresh(proposal).status == ProposalStatus.SUPERSEDED
    assert not EditProposal.objects.waiting().exists()
    with pytest.raises(workflow.WorkflowError, match="no longer waiting"):
        workflow.approve_edit(proposal=proposal, user=editor)
    entry = fresh(published)
    assert entry.status == EntryStatus.WITHDRAWN and NEW_WORDS not in entry.body


def test_a_refusal_on_a_withdrawn_entry_leaves_returned_to_you(editor, journalist, published):
    workflow.refuse_edit(proposal=propose(published, journalist), user=editor, note="Source?")
    workflow.withdraw(entry=fresh(published), user=editor, reason="Agency retracted")
    assert not EditProposal.objects.returned_to(journalist).exists()


# --- Readers never see proposed words ---------------------------------------------------------------------


def test_no_public_surface_shows_the_proposed_words(journalist, published):
    propose(published, journalist, headline=f"Headline {NEW_WORDS}")
    live.announce(published.post_id)
    post = published.post
    client = Client()
    surfaces = {
        "page": reverse("liveupdates:post", args=[post.slug]),
        "permalink": published.get_absolute_url(),
        "api entry": f"/api/entries/{published.pk}",
        "api list": "/api/entries",
        "feed": reverse("liveupdates:feed_post", args=[post.slug]),
        "atom": reverse("liveupdates:feed_post_atom", args=[post.slug]),
        "poll": reverse("liveupdates:post_updates", args=[post.slug]) + "?after=0",
        "site feed": reverse("liveupdates:feed_site"),
    }
    for name, url in surfaces.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        text = response.content.decode()
        assert "Jets struck Sukayk at dawn" in text, f"the {name} does not show the published words"
        assert NEW_WORDS not in text, f"the {name} shows the proposed words"
    stream = json.dumps([payload for *_, payload in live.events_after(post.pk, 0)])
    assert "Jets struck Sukayk at dawn" in stream and NEW_WORDS not in stream


def test_a_journalist_with_no_newsroom_role_cannot_propose(db, published):
    outsider = UserFactory(username="outsider")  # staff, but no group: no permission to change entries
    Entry.objects.filter(pk=published.pk).update(created_by=outsider)
    with pytest.raises(workflow.WorkflowError, match="Only the entry's author"):
        propose(fresh(published), outsider)


# --- Through the admin, as a browser without JavaScript posts it -----------------------------------------


def propose_url(entry):
    return reverse("admin:liveupdates_entry_propose", args=[entry.pk])


def action_url(proposal, action):
    return reverse("admin:liveupdates_editproposal_action", args=[proposal.pk, action])


def desk_url(entry):
    return reverse("admin:liveupdates_livepost_desk", args=[entry.post_id])


def test_the_desk_offers_propose_an_edit_on_the_journalists_own_published_entry_only(
    client, journalist, other_journalist, published
):
    client.force_login(journalist)
    assert propose_url(published) in client.get(desk_url(published)).content.decode()
    client.force_login(other_journalist)
    assert propose_url(published) not in client.get(desk_url(published)).content.decode()


def test_the_author_proposes_through_the_plain_form(client, journalist, published):
    client.force_login(journalist)
    page = client.get(propose_url(published))
    assert page.status_code == 200 and "Jets struck Sukayk at dawn" in page.content.decode()
    response = client.post(propose_url(published), {"headline": "Strikes on Daraa", "body": f"<p>{NEW_WORDS} at noon.</p>"})
    assert response.status_code == 302 and response["Location"] == desk_url(published)
    assert EditProposal.objects.get().body == f"<p>{NEW_WORDS} at noon.</p>"
    assert NEW_WORDS not in fresh(published).body
    assert "Your edit proposed at" in client.get(propose_url(published)).content.decode()


def test_a_refused_proposal_comes_back_to_the_form_with_its_reason_and_nothing_saved(client, journalist, published):
    client.force_login(journalist)
    response = client.post(propose_url(published), {"headline": "", "body": "<p> </p>"})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode() or "The proposed text is empty" in response.content.decode()
    response = client.post(propose_url(published), {"headline": "Strikes on Daraa", "body": "<p>Jets struck Sukayk at dawn.</p>"})
    assert response.status_code == 200 and "the same as the published entry" in response.content.decode()
    assert not EditProposal.objects.exists()


@pytest.mark.parametrize("who", ["other_journalist", "editor"])
def test_only_the_author_opens_or_posts_the_proposal_form(request, client, published, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(propose_url(published)).status_code == 403
    assert client.post(propose_url(published), {"headline": "x", "body": f"<p>{NEW_WORDS}</p>"}).status_code == 403
    assert not EditProposal.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in_and_nothing_changes(client, journalist, published):
    proposal = propose(published, journalist)
    for url in (propose_url(published), action_url(proposal, "approve"), action_url(proposal, "withdraw")):
        response = client.post(url, {"headline": "x", "body": "<p>y</p>"})
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert fresh(proposal).status == ProposalStatus.WAITING and NEW_WORDS not in fresh(published).body


def test_the_review_queue_shows_the_words_changed_and_both_versions(client, editor, journalist, published):
    propose(published, journalist, headline="Strikes on Daraa at noon")
    client.force_login(editor)
    page = client.get(reverse("admin:liveupdates_entry_review")).content.decode()
    assert '<del><span class="nl-sr">deleted: </span>dawn.</del>' in page
    assert f'<ins><span class="nl-sr">inserted: </span>noon, {NEW_WORDS}' in page
    assert "Published now" in page and "Proposed" in page
    assert "Approve and publish the edit" in page and "Refuse the edit" in page


def test_the_review_queue_shows_a_link_address_or_a_photo_the_proposal_changes_where_the_words_do_not(
    client, editor, journalist, post
):
    entry = PublishedEntryFactory(
        post=post, created_by=journalist, body='<p>Read <a href="https://www.reuters.com/world/daraa">the Reuters report</a>.</p>'
    )
    propose(
        entry,
        journalist,
        headline=entry.headline,
        body='<p>Read <a href="https://smear.example/fake">the Reuters report</a>.</p>'
        '<p><img src="/media/uploads/crowd.jpg" alt="A crowd"></p>',
    )
    client.force_login(editor)
    page = client.get(reverse("admin:liveupdates_entry_review")).content.decode()
    diff = page.split('<dl class="nl-diff">', 1)[1].split("</dl>", 1)[0]
    assert "<del>" in diff and "https://www.reuters.com/world/daraa" in diff
    assert "<ins>" in diff and "https://smear.example/fake" in diff and "A crowd" in diff


def test_the_review_queue_says_a_stale_proposal_cannot_be_approved(client, editor, journalist, published):
    propose(published, journalist)
    Entry.objects.filter(pk=published.pk).update(version=published.version + 1)
    client.force_login(editor)
    page = client.get(reverse("admin:liveupdates_entry_review")).content.decode()
    assert "The entry changed after this edit was proposed" in page and "Approve and publish the edit" not in page


def test_the_review_queue_reads_a_fixed_number_of_queries_however_many_proposals_wait_and_still_sees_a_correction(
    client, editor, journalist, post
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def waiting(n):
        for i in range(n):
            entry = PublishedEntryFactory(post=post, created_by=journalist, headline=f"Strikes {i}", body="<p>Jets struck.</p>")
            live.announce_entry(entry.pk)
            propose(Entry.objects.get(pk=entry.pk), journalist, headline=f"Strikes {i}")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("admin:liveupdates_entry_review")).status_code == 200
        return len(captured)

    client.force_login(editor)
    waiting(1)
    one = queries()
    waiting(4)
    assert queries() == one  # a correction's check is read with the proposals, not once each
    corrected = Entry.objects.get(headline="Strikes 3")
    workflow.correct(entry=corrected, user=editor, text="The toll was 12, not 14.")
    page = client.get(reverse("admin:liveupdates_entry_review")).content.decode()
    assert page.count("The entry changed after this edit was proposed") == 1


def test_journalists_have_no_review_queue(client, journalist, published):
    propose(published, journalist)
    client.force_login(journalist)
    assert client.get(reverse("admin:liveupdates_entry_review")).status_code == 403


def test_an_editor_approves_with_the_button(client, editor, journalist, published):
    proposal = propose(published, journalist)
    client.force_login(editor)
    response = client.post(action_url(proposal, "approve"), {"next": reverse("admin:liveupdates_entry_review")}, follow=True)
    assert "is published" in response.content.decode()
    assert NEW_WORDS in fresh(published).body


def test_a_journalist_who_forges_the_approve_button_is_told_no_and_nothing_changes(client, journalist, published):
    proposal = propose(published, journalist)
    client.force_login(journalist)
    response = client.post(action_url(proposal, "approve"), follow=True)
    assert response.status_code == 200 and "Only editors can approve a proposed edit." in response.content.decode()
    assert fresh(proposal).status == ProposalStatus.WAITING and NEW_WORDS not in fresh(published).body


def test_a_refusal_without_a_note_is_refused_with_the_reason(client, editor, journalist, published):
    proposal = propose(published, journalist)
    client.force_login(editor)
    response = client.post(action_url(proposal, "refuse"), {"note": ""}, follow=True)
    assert "Write a note telling the author why" in response.content.decode()
    response = client.post(action_url(proposal, "refuse"), {"note": "x" * 2001}, follow=True)
    assert "keep it under 2,000 characters" in response.content.decode()
    assert fresh(proposal).status == ProposalStatus.WAITING


def test_unknown_actions_and_gets_change_nothing(client, editor, journalist, published):
    proposal = propose(published, journalist)
    client.force_login(editor)
    assert client.post(action_url(proposal, "publish")).status_code == 403
    assert client.get(action_url(proposal, "approve")).status_code == 405
    assert client.post(reverse("admin:liveupdates_editproposal_action", args=[999999, "approve"])).status_code == 404
    assert fresh(proposal).status == ProposalStatus.WAITING


def test_a_refused_edit_is_returned_to_the_author_on_the_desk_its_feed_and_the_admin_index(client, editor, journalist, published):
    workflow.refuse_edit(proposal=propose(published, journalist), user=editor, note="Noon is not confirmed.")
    client.force_login(journalist)
    desk = client.get(desk_url(published)).content.decode()
    assert "Your edit of “Strikes on Daraa” was refused" in desk and "Noon is not confirmed." in desk
    feed = client.get(reverse("admin:liveupdates_livepost_desk_feed", args=[published.post_id]), {"after": 0}).json()
    assert [item["note"] for item in feed["returned"]] == ["Noon is not confirmed."]
    index = client.get(reverse("admin:index")).content.decode()
    assert "Returned to you: 1 entry" in index and "Noon is not confirmed." in index
    form = client.get(propose_url(published)).content.decode()
    assert "refused your last edit" in form and NEW_WORDS in form  # the refused words, ready to amend


def test_the_author_puts_the_refusal_away_and_it_leaves_the_desk(client, editor, journalist, published):
    proposal = workflow.refuse_edit(proposal=propose(published, journalist), user=editor, note="Noon is not confirmed.")
    client.force_login(journalist)
    client.post(action_url(proposal, "put_away"))
    assert "Noon is not confirmed." not in client.get(desk_url(published)).content.decode()
    assert "Returned to you" not in client.get(reverse("admin:index")).content.decode()


def test_the_author_withdraws_with_the_button(client, journalist, published):
    proposal = propose(published, journalist)
    client.force_login(journalist)
    response = client.post(action_url(proposal, "withdraw"), follow=True)
    assert "was withdrawn" in response.content.decode()
    assert fresh(proposal).status == ProposalStatus.WITHDRAWN


def test_the_editors_index_counts_proposed_edits_beside_the_queue(client, editor, journalist, published):
    propose(published, journalist)
    client.force_login(editor)
    assert "1 proposed edit" in client.get(reverse("admin:index")).content.decode()


def test_markup_in_a_proposal_or_a_note_is_shown_as_text_in_the_queue_and_on_the_desk(client, editor, journalist, published):
    proposal = propose(
        published,
        journalist,
        headline="<img src=x onerror=alert(1)>",
        body="<p>&lt;script&gt;alert(2)&lt;/script&gt; at noon</p>",
    )
    client.force_login(editor)
    page = client.get(reverse("admin:liveupdates_entry_review")).content.decode()
    assert "<img src=x onerror" not in page and "<script>alert(2)" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    workflow.refuse_edit(proposal=proposal, user=editor, note="<b onmouseover=alert(3)>no</b>")
    client.force_login(journalist)
    desk = client.get(desk_url(published)).content.decode()
    assert "<b onmouseover" not in desk and "&lt;b onmouseover=alert(3)&gt;no&lt;/b&gt;" in desk


def test_the_desk_row_says_an_edit_is_waiting_and_stops_once_it_is_decided(
    client, editor, journalist, other_journalist, published
):
    proposal = propose(published, journalist)
    for user in (journalist, other_journalist, editor):
        client.force_login(user)
        assert "Edit proposed, waiting for an editor" in client.get(desk_url(published)).content.decode()
    feed = client.get(reverse("admin:liveupdates_livepost_desk_feed", args=[published.post_id]), {"after": 0}).json()
    assert "Edit proposed, waiting for an editor" in feed["rows"][str(published.pk)]
    workflow.approve_edit(proposal=proposal, user=editor)
    assert "Edit proposed, waiting for an editor" not in client.get(desk_url(published)).content.decode()
