"""Every save is kept: who, when, what changed; earlier versions come back as new, recorded saves."""

import pytest
from django.urls import reverse
from reversion.models import Version
from taggit.utils import edit_string_for_tags

from liveupdates.editorial import revisions, workflow
from liveupdates.models import Citation, Entry, EntryStatus, LivePost, WorkflowEvent

from .factories import AuthorFactory, EntryFactory, PlaceFactory, SourceFactory

pytestmark = pytest.mark.django_db


def admin_save(client, entry, **changes):
    data = {
        "post": entry.post_id,
        "headline": entry.headline,
        "body": entry.body,
        "tags": edit_string_for_tags(list(entry.tags.all())),
        "authors": [a.pk for a in entry.authors.all()],
        "places": [p.pk for p in entry.places.all()],
        "citations-TOTAL_FORMS": "0",
        "citations-INITIAL_FORMS": "0",
        "corrections-TOTAL_FORMS": "0",
        "corrections-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "loaded_version": Entry.objects.get(pk=entry.pk).version,
        **changes,
    }
    return client.post(reverse("admin:liveupdates_entry_change", args=[entry.pk]), data)


@pytest.fixture
def edited_entry(client, editor, post):
    """An entry saved three times through the admin by an editor."""
    client.force_login(editor)
    author, place, source = AuthorFactory(name="Faisal Irshaid"), PlaceFactory(name="Douma"), SourceFactory(name="LCC")
    entry = EntryFactory(post=post, created_by=editor, headline="Strikes on Douma", body="<p>Seven strikes hit Douma.</p>")
    admin_save(
        client,
        entry,
        authors=[author.pk],
        places=[place.pk],
        tags='"air strikes"',
        **{"citations-TOTAL_FORMS": "1", "citations-0-source": source.pk, "citations-0-url": ""},
    )
    entry.refresh_from_db()
    citation = entry.citations.get()
    entry.refresh_from_db()
    kept_citation = {
        "citations-TOTAL_FORMS": "1",
        "citations-INITIAL_FORMS": "1",
        "citations-0-id": citation.pk,
        "citations-0-entry": entry.pk,
        "citations-0-source": source.pk,
        "citations-0-url": "",
    }
    admin_save(
        client, entry, headline="Fourteen killed in Douma", body="<p>Seven strikes hit Douma, killing 14.</p>", **kept_citation
    )
    entry.refresh_from_db()
    admin_save(
        client,
        entry,
        body="<p>Seven strikes hit Douma, killing 14 civilians and wounding 20.</p>",
        tags="casualties",
        **kept_citation,
    )
    entry.refresh_from_db()
    return entry


def test_every_admin_save_of_an_entry_is_kept_with_who_and_when(edited_entry, editor):
    versions = list(Version.objects.get_for_object(edited_entry))
    assert len(versions) == 3
    assert {v.revision.user for v in versions} == {editor}
    assert all(v.revision.date_created for v in versions)


def test_a_revision_holds_the_entrys_citations_and_tags_as_they_were(edited_entry):
    newest, middle, first = Version.objects.get_for_object(edited_entry)
    assert revisions.entry_snapshot(first)["sources"] == ["LCC"]
    assert revisions.entry_snapshot(middle)["tags"] == ["air strikes"]
    assert revisions.entry_snapshot(newest)["tags"] == ["casualties"]
    assert revisions.entry_snapshot(newest)["authors"] == ["Faisal Irshaid"]


def test_the_history_page_shows_each_change_as_a_readable_word_diff(client, edited_entry):
    response = client.get(reverse("admin:liveupdates_entry_history", args=[edited_entry.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<del>Strikes on</del>" in page and "<ins>Fourteen killed in</ins>" in page
    assert "civilians and wounding 20.</ins>" in page
    assert "<del>air strikes</del> <ins>casualties</ins>" in page
    assert "Restore this version" in page


def test_a_diff_escapes_what_was_written(edited_entry, client):
    entry = edited_entry
    admin_save(client, entry, headline="<script>alert(1)</script> Douma")
    page = client.get(reverse("admin:liveupdates_entry_history", args=[entry.pk])).content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_restoring_brings_back_the_words_tags_and_citations_as_a_new_revision(client, edited_entry, editor):
    first = list(Version.objects.get_for_object(edited_entry))[-1]
    response = client.post(reverse("admin:liveupdates_entry_restore", args=[edited_entry.pk, first.pk]))
    assert response.status_code == 302
    entry = Entry.objects.get(pk=edited_entry.pk)
    assert entry.headline == "Strikes on Douma"
    assert entry.body == "<p>Seven strikes hit Douma.</p>"
    assert [t.name for t in entry.tags.all()] == ["air strikes"]
    assert [c.source.name for c in entry.citations.all()] == ["LCC"]
    assert entry.version == edited_entry.version + 1
    versions = list(Version.objects.get_for_object(entry))
    assert len(versions) == 4
    assert versions[0].revision.get_comment().startswith("Restored the version of")
    assert WorkflowEvent.objects.filter(entry=entry, action="edited", actor=editor).count() == 4


def test_restoring_keeps_the_editorial_state(client, edited_entry, editor):
    workflow.publish(entry=edited_entry, user=editor)
    first = list(Version.objects.get_for_object(edited_entry))[-1]
    client.post(reverse("admin:liveupdates_entry_restore", args=[edited_entry.pk, first.pk]))
    entry = Entry.objects.get(pk=edited_entry.pk)
    assert entry.status == EntryStatus.PUBLISHED
    assert entry.revised_at is not None  # readers are told the words changed


def test_restoring_a_published_entry_tells_live_readers(client, edited_entry, editor, django_capture_on_commit_callbacks):
    from liveupdates.models import LiveEvent

    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=edited_entry, user=editor)
    first = list(Version.objects.get_for_object(edited_entry))[-1]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:liveupdates_entry_restore", args=[edited_entry.pk, first.pk]))
    update = LiveEvent.objects.filter(entry=edited_entry, kind="update").latest("pk")
    assert "Seven strikes hit Douma." in update.payload["html"]


def test_a_restored_text_is_sanitised_again(edited_entry, editor):
    version = Version.objects.get_for_object(edited_entry).first()
    data = version.serialized_data.replace("Seven strikes", "<img src=x onerror=alert(1)>Seven strikes")
    Version.objects.filter(pk=version.pk).update(serialized_data=data)
    workflow.restore(entry=edited_entry, user=editor, version=Version.objects.get(pk=version.pk))
    assert "onerror" not in Entry.objects.get(pk=edited_entry.pk).body


def test_a_revision_of_another_entry_cannot_be_restored_onto_this_one(client, edited_entry, post, editor):
    other = EntryFactory(post=post, created_by=editor)
    workflow.record_edit(entry=other, user=editor, created=True)
    foreign = Version.objects.get_for_object(other).first()
    response = client.post(reverse("admin:liveupdates_entry_restore", args=[edited_entry.pk, foreign.pk]), follow=True)
    assert "belongs to another entry" in response.content.decode()
    assert Entry.objects.get(pk=edited_entry.pk).headline == edited_entry.headline


def test_a_withdrawn_entry_cannot_be_restored(edited_entry, editor):
    workflow.publish(entry=edited_entry, user=editor)
    workflow.withdraw(entry=edited_entry, user=editor, reason="Unverified")
    first = list(Version.objects.get_for_object(edited_entry))[-1]
    with pytest.raises(workflow.WorkflowError):
        workflow.restore(entry=edited_entry, user=editor, version=first)


def test_restore_refuses_get_requests(client, edited_entry):
    first = list(Version.objects.get_for_object(edited_entry))[-1]
    assert client.get(reverse("admin:liveupdates_entry_restore", args=[edited_entry.pk, first.pk])).status_code == 405


def test_an_unknown_revision_is_a_404_not_a_500(client, edited_entry):
    assert client.post(reverse("admin:liveupdates_entry_restore", args=[edited_entry.pk, 999999])).status_code == 404


def test_desk_compose_records_the_first_revision(client, journalist, post):
    client.force_login(journalist)
    client.post(
        reverse("admin:liveupdates_livepost_desk", args=[post.pk]),
        {"headline": "Jets over Sukayk", "body": "<p>Jets seen.</p>", "tags": "", "intent": "draft"},
    )
    entry = Entry.objects.get(headline="Jets over Sukayk")
    [version] = Version.objects.get_for_object(entry)
    assert version.revision.user == journalist


def test_live_post_saves_are_kept_and_restorable(client, editor, post):
    client.force_login(editor)
    url = reverse("admin:liveupdates_livepost_change", args=[post.pk])

    def save(headline):
        return client.post(
            url,
            {
                "column": post.column_id,
                "headline": headline,
                "slug": post.slug,
                "summary": post.summary,
                "coverage_start_0": "2026-11-25",
                "coverage_start_1": "08:00:00",
                "coverage_end_0": "",
                "coverage_end_1": "",
                "lead_image_alt": "",
                "lead_image_credit": "",
            },
        )

    assert save("Russia strikes the south").status_code == 302
    assert save("Russia strikes the south and Douma").status_code == 302
    history = client.get(reverse("admin:liveupdates_livepost_history", args=[post.pk])).content.decode()
    assert "<ins>and Douma</ins>" in history
    first = list(Version.objects.get_for_object(post))[-1]
    client.post(reverse("admin:liveupdates_livepost_restore", args=[post.pk, first.pk]))
    post.refresh_from_db()
    assert post.headline == "Russia strikes the south"
    assert post.status == "published"
    assert Version.objects.get_for_object(post).count() == 3


def test_a_post_revision_whose_address_is_now_taken_is_refused_with_a_reason(client, editor, post):
    from .factories import LivePostFactory

    workflow.record_post_edit(post=post, user=editor, created=True)
    old = Version.objects.get_for_object(post).first()
    original_slug = post.slug
    LivePost.objects.filter(pk=post.pk).update(slug="moved")
    LivePostFactory(slug=original_slug)
    post.refresh_from_db()
    with pytest.raises(workflow.WorkflowError, match="already exists"):
        workflow.restore_post(post=post, user=editor, version=old)
    assert LivePost.objects.get(pk=post.pk).slug == "moved"


@pytest.mark.parametrize(
    "role, can_restore", [("author", False), ("other_journalist", False), ("editor", True), ("superuser", True)]
)
def test_restoring_a_published_entry_by_role(client, journalist, other_journalist, editor, superuser, post, role, can_restore):
    users = {"author": journalist, "other_journalist": other_journalist, "editor": editor, "superuser": superuser}
    entry = EntryFactory(post=post, created_by=journalist, headline="First words")
    workflow.record_edit(entry=entry, user=journalist, created=True)
    Entry.objects.filter(pk=entry.pk).update(headline="Second words")
    workflow.publish(entry=entry, user=editor)
    first = Version.objects.get_for_object(entry).first()
    client.force_login(users[role])
    client.post(reverse("admin:liveupdates_entry_restore", args=[entry.pk, first.pk]))
    assert (Entry.objects.get(pk=entry.pk).headline == "First words") is can_restore


def test_a_journalist_restores_their_own_draft(client, journalist, post):
    entry = EntryFactory(post=post, created_by=journalist, headline="First words")
    workflow.record_edit(entry=entry, user=journalist, created=True)
    Entry.objects.filter(pk=entry.pk).update(headline="Second words")
    client.force_login(journalist)
    client.post(reverse("admin:liveupdates_entry_restore", args=[entry.pk, Version.objects.get_for_object(entry).first().pk]))
    assert Entry.objects.get(pk=entry.pk).headline == "First words"


def test_anonymous_visitors_see_no_history(client, edited_entry):
    client.logout()
    response = client.get(reverse("admin:liveupdates_entry_history", args=[edited_entry.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_restored_citations_replace_the_current_ones(edited_entry, editor):
    Citation.objects.create(entry=edited_entry, source=SourceFactory(name="Added later"))
    first = list(Version.objects.get_for_object(edited_entry))[-1]
    workflow.restore(entry=edited_entry, user=editor, version=first)
    assert [c.source.name for c in Citation.objects.filter(entry=edited_entry)] == ["LCC"]


def test_the_history_page_makes_a_fixed_number_of_queries_however_many_versions(client, edited_entry, editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:liveupdates_entry_history", args=[edited_entry.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(6):
        Entry.objects.filter(pk=edited_entry.pk).update(headline=f"Version {n}")
        workflow.record_edit(entry=Entry.objects.get(pk=edited_entry.pk), user=editor, created=False)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert "Version 5" in page
    assert len(many) == len(few)


@pytest.mark.parametrize("gone", ["author", "place", "source"])
def test_restoring_a_version_that_names_something_deleted_since_is_refused_with_a_sentence(client, edited_entry, editor, gone):
    from liveupdates.models import Author, Place, Source

    first = list(Version.objects.get_for_object(edited_entry))[-1]
    entry = Entry.objects.get(pk=edited_entry.pk)
    model = {"author": Author, "place": Place, "source": Source}[gone]
    named = {"author": entry.authors, "place": entry.places}.get(gone)
    victim = named.get() if named is not None else entry.citations.get().source
    # The current version no longer names it, so it can be deleted; the first version still does.
    admin_save(client, entry, headline="Changed", authors=[], places=[], **{"citations-TOTAL_FORMS": "0"})
    Citation.objects.filter(entry=entry).delete()
    model.objects.filter(pk=victim.pk).delete()
    before = Entry.objects.get(pk=entry.pk)
    response = client.post(reverse("admin:liveupdates_entry_restore", args=[entry.pk, first.pk]), follow=True)
    assert response.status_code == 200
    assert f"{gone} #{victim.pk}" in response.content.decode()
    assert "deleted since" in response.content.decode()
    after = Entry.objects.get(pk=entry.pk)
    assert (after.headline, after.version) == (before.headline, before.version)


def test_restoring_after_the_revisions_author_was_deleted_works(client, edited_entry, editor, journalist):
    from liveupdates.models import Author

    first = list(Version.objects.get_for_object(edited_entry))[-1]
    first.revision.user = journalist
    first.revision.save()
    journalist.delete()
    history = client.get(reverse("admin:liveupdates_entry_history", args=[edited_entry.pk]))
    assert history.status_code == 200
    Author.objects.all().delete()  # the byline's author too: the version can no longer come back whole
    response = client.post(reverse("admin:liveupdates_entry_restore", args=[edited_entry.pk, first.pk]), follow=True)
    assert response.status_code == 200 and "deleted since" in response.content.decode()


# --- Diffs stay quick whatever the length (review queue, edit conflicts) ----------------


def _record_matchers(monkeypatch):
    """The lengths of every pair of sequences difflib is asked to match."""
    sizes = []
    real = revisions.difflib.SequenceMatcher

    def recording(isjunk, a, b, **kwargs):
        sizes.append((len(a), len(b)))
        return real(isjunk, a, b, **kwargs)

    monkeypatch.setattr(revisions.difflib, "SequenceMatcher", recording)
    return sizes


def _paragraphs(*texts):
    return "".join(f"<p>{text}</p>" for text in texts)


def test_a_conflict_between_two_long_texts_is_compared_paragraph_by_paragraph(monkeypatch):
    sizes = _record_matchers(monkeypatch)
    same = " ".join(f"word{n}" for n in range(2000))
    theirs = _paragraphs(same, "the strikes killed 14 " * 500, same)
    mine = _paragraphs(same, "the strikes killed 12 " * 500, same)

    diff = revisions.side_by_side(theirs, mine)

    assert max(a * b for a, b in sizes) <= revisions.WORD_DIFF_LIMIT  # never every word against every word
    assert len(diff.theirs) == len(diff.mine) == 3
    assert "<del>" not in diff.theirs[0] and "<del>" not in diff.theirs[2]
    assert diff.theirs[1].startswith("<del>the strikes killed 14") and diff.mine[1].startswith("<ins>the strikes killed 12")


def test_a_short_conflict_is_still_compared_word_by_word(monkeypatch):
    sizes = _record_matchers(monkeypatch)
    diff = revisions.side_by_side(_paragraphs("Seven strikes hit Idlib."), _paragraphs("Eight strikes hit Idlib."))

    assert sizes == [(4, 4)]
    assert diff.theirs == ["<del>Seven</del> strikes hit Idlib."]


def test_a_long_proposed_edit_shows_the_old_and_new_text_without_comparing_every_word(monkeypatch):
    sizes = _record_matchers(monkeypatch)
    old, new = "a b " * 1500, "a c " * 1500

    html = str(revisions.inline_diff(old, new))

    assert max(a * b for a, b in sizes) <= revisions.WORD_DIFF_LIMIT
    assert html.startswith("<del>a b") and "<ins>a c" in html
