"""Forms, workflow actions and public query parameters under random input (hypothesis).

Whatever arrives: no 500, a refusal is a page or message saying why, and what
was already saved is still there, unchanged, unless the input was accepted.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveupdates.models import Correction, Entry, EntryStatus

from .factories import EntryFactory, PublishedEntryFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Text as attackers and tired journalists type it: any code point, NUL included, sometimes huge.
any_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50).map(lambda s: s * 200),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "<script>alert(1)</script>",
            "-1",
            "9" * 40,
            "2026-13-45T25:61",
            "null",
            "[]",
            "{}",
            "%00",
            "../../etc/passwd",
        ]
    ),
)
ids = st.one_of(st.integers(min_value=-(2**63), max_value=2**63), any_text)


def snapshot(entry):
    entry = Entry.objects.get(pk=entry.pk)
    return (
        entry.headline,
        entry.body,
        entry.status,
        entry.version,
        list(entry.tags.names()),
        list(entry.places.values_list("pk", flat=True)),
    )


@FUZZ
@given(headline=any_text, body=any_text, tags=any_text, places=st.lists(ids, max_size=3), intent=any_text)
def test_the_desk_compose_box_never_fails_on_any_input(client, journalist, post, headline, body, tags, places, intent):
    client.force_login(journalist)
    before = Entry.objects.count()
    response = client.post(
        reverse("admin:liveupdates_livepost_desk", args=[post.pk]),
        {"headline": headline, "body": body, "tags": tags, "places": places, "intent": intent},
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:  # refused: the form is shown again with its errors, nothing saved
        assert Entry.objects.count() == before
        assert "errorlist" in response.content.decode() or not (headline or body)


@FUZZ
@given(headline=any_text, body=any_text, tags=any_text, loaded_version=any_text)
def test_the_admin_entry_form_never_fails_and_never_loses_the_saved_entry(
    client, editor, post, headline, body, tags, loaded_version
):
    client.force_login(editor)
    entry = EntryFactory(post=post, created_by=editor, headline="Saved headline", body="<p>Saved words.</p>")
    saved = snapshot(entry)
    response = client.post(
        reverse("admin:liveupdates_entry_change", args=[entry.pk]),
        {
            "post": post.pk,
            "headline": headline,
            "body": body,
            "tags": tags,
            "loaded_version": loaded_version,
            "citations-TOTAL_FORMS": "0",
            "citations-INITIAL_FORMS": "0",
            "corrections-TOTAL_FORMS": "0",
            "corrections-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert snapshot(entry) == saved
        assert "errornote" in response.content.decode() or "errorlist" in response.content.decode()


@FUZZ
@given(
    action=st.sampled_from(["submit", "publish", "return", "withdraw", "correct", "pin", "key"]),
    note=any_text,
    at=any_text,
    text=any_text,
    kind=any_text,
    public_note=any_text,
)
def test_workflow_actions_never_fail_on_any_input(client, editor, journalist, post, action, note, at, text, kind, public_note):
    client.force_login(editor)
    entry = EntryFactory(post=post, created_by=journalist, status=EntryStatus.IN_REVIEW)
    published = PublishedEntryFactory(post=post, announced_at=timezone.now())
    for target in (entry, published):
        response = client.post(
            reverse("admin:liveupdates_entry_workflow", args=[target.pk, action]),
            {"note": note, "at": at, "text": text, "kind": kind, "public_note": public_note},
        )
        assert response.status_code == 302
        # The entry is in a state the workflow allows, with its words intact.
        after = Entry.objects.get(pk=target.pk)
        assert after.status in EntryStatus.values
        assert after.body == target.body
        if after.status == EntryStatus.PUBLISHED:
            assert after.published_at is not None
    for correction in Correction.objects.all():
        assert correction.text.strip() and len(correction.text) <= 1000


@FUZZ
@given(
    value=any_text,
    param=st.sampled_from(["before", "q", "after", "page", "column", "place", "source", "author", "cursor", "post"]),
)
def test_public_query_parameters_never_cause_a_500(client, post, value, param):
    PublishedEntryFactory(post=post, published_at=timezone.now() - timedelta(minutes=1))
    for url in (
        post.get_absolute_url(),
        reverse("liveupdates:search"),
        reverse("liveupdates:post_updates", args=[post.slug]),
        reverse("liveupdates:column", args=[post.column.slug]),
        "/api/entries",
        "/api/posts",
    ):
        response = client.get(url, {param: value})
        assert response.status_code < 500, (url, param, value)


@pytest.mark.parametrize(
    "url_name, field",
    [
        ("admin:liveupdates_entry_add", "places"),
        ("admin:liveupdates_entry_add", "post"),
        ("admin:liveupdates_livepost_add", "column"),
        ("admin:liveupdates_place_add", "parent"),
        ("admin:liveupdates_author_add", "user"),
    ],
)
@pytest.mark.parametrize("forged", [":", str(2**63), "-1", "１"])
def test_a_forged_id_in_an_autocomplete_field_is_a_form_error_not_a_500(client, editor, url_name, field, forged):
    # Found by the fuzzer above: Django's autocomplete widget looked the forged id up and raised,
    # and an id beyond the database's integers overflowed in the driver.
    client.force_login(editor)
    response = client.post(reverse(url_name), {field: forged, "citations-TOTAL_FORMS": "0", "citations-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


@pytest.mark.parametrize("forged", [str(2**63), str(-(2**63) - 1), ":"])
def test_a_forged_id_on_the_desk_is_a_form_error_not_a_500(client, journalist, post, forged):
    client.force_login(journalist)
    for field in ("authors", "places", "sources"):
        response = client.post(
            reverse("admin:liveupdates_livepost_desk", args=[post.pk]),
            {"headline": "Strikes", "body": "<p>Strikes.</p>", field: forged, "intent": "draft"},
        )
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
    assert not Entry.objects.exists()


def test_a_tag_longer_than_the_database_keeps_is_refused_with_a_reason(client, journalist, post):
    # Found by the fuzzer on PostgreSQL (SQLite does not enforce the length): a 500, now a form error.
    client.force_login(journalist)
    response = client.post(
        reverse("admin:liveupdates_livepost_desk", args=[post.pk]),
        {"headline": "Strikes", "body": "<p>Strikes.</p>", "tags": "x" * 101, "intent": "draft"},
    )
    assert response.status_code == 200
    assert "A tag can be at most 100 characters" in response.content.decode()
    assert not Entry.objects.exists()


@pytest.mark.parametrize("url", ["/api/entries?post=%00", "/search/?q=a%00b", "/live/x/updates.json?after=%00"])
def test_a_nul_character_in_a_parameter_is_a_400_not_a_500(client, url):
    # Found by the fuzzer on PostgreSQL, which cannot compare text containing NUL.
    response = client.get(url)
    assert response.status_code == 400
