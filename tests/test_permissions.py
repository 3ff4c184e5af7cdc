"""Every role against every action, through the admin's own pages and by forged requests.

The server decides: a button hidden in the browser is a courtesy, not a control.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from liveupdates.models import Entry, EntryStatus

from .factories import EntryFactory
from .test_images import jpeg_with_gps, upload

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "author", "other_journalist", "editor", "superuser"]


@pytest.fixture
def as_role(client, journalist, other_journalist, editor, superuser):
    users = {"author": journalist, "other_journalist": other_journalist, "editor": editor, "superuser": superuser}

    def login(role):
        if role != "anonymous":
            client.force_login(users[role])
        return client

    return login


def make_entry(status, author, post):
    published_at = timezone.now() - timedelta(minutes=5) if status in (EntryStatus.PUBLISHED, EntryStatus.WITHDRAWN) else None
    return EntryFactory(status=status, created_by=author, post=post, published_at=published_at)


def workflow_post(client, entry, action, **data):
    return client.post(reverse("admin:liveupdates_entry_workflow", args=[entry.pk, action]), data)


# (action, starting status, data, field to check, value if allowed, roles allowed)
TRANSITIONS = [
    ("submit", EntryStatus.DRAFT, {}, "status", EntryStatus.IN_REVIEW, {"author", "editor", "superuser"}),
    ("publish", EntryStatus.IN_REVIEW, {}, "status", EntryStatus.PUBLISHED, {"editor", "superuser"}),
    ("publish", EntryStatus.DRAFT, {}, "status", EntryStatus.PUBLISHED, {"editor", "superuser"}),
    ("return", EntryStatus.IN_REVIEW, {"note": "Add the source"}, "status", EntryStatus.DRAFT, {"editor", "superuser"}),
    ("withdraw", EntryStatus.PUBLISHED, {"note": "Wrong video"}, "status", EntryStatus.WITHDRAWN, {"editor", "superuser"}),
    ("pin", EntryStatus.PUBLISHED, {}, "is_pinned", True, {"editor", "superuser"}),
    ("key", EntryStatus.PUBLISHED, {}, "is_key_event", True, {"editor", "superuser"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action, status, data, field, value, allowed", TRANSITIONS, ids=[f"{t[0]}-{t[1]}" for t in TRANSITIONS])
def test_workflow_actions_by_role_through_forged_posts(
    as_role, journalist, post, role, action, status, data, field, value, allowed
):
    entry = make_entry(status, journalist, post)
    before = getattr(entry, field)
    response = workflow_post(as_role(role), entry, action, **data)
    assert response.status_code == 302
    after = getattr(Entry.objects.get(pk=entry.pk), field)
    if role in allowed:
        assert after == value
    else:
        assert after == before
        if role == "anonymous":
            assert "/admin/login/" in response["Location"]


def test_a_refused_action_tells_the_user_why(as_role, journalist, post):
    entry = make_entry(EntryStatus.IN_REVIEW, journalist, post)
    client = as_role("author")
    response = workflow_post(client, entry, "publish")
    page = client.get(response["Location"])
    assert "You do not have permission to publish entries" in page.content.decode()


def test_workflow_actions_refuse_get_requests(as_role, journalist, post):
    entry = make_entry(EntryStatus.IN_REVIEW, journalist, post)
    response = as_role("editor").get(reverse("admin:liveupdates_entry_workflow", args=[entry.pk, "publish"]))
    assert response.status_code == 405
    assert Entry.objects.get(pk=entry.pk).status == EntryStatus.IN_REVIEW


def test_an_unknown_workflow_action_is_refused(as_role, journalist, post):
    entry = make_entry(EntryStatus.IN_REVIEW, journalist, post)
    assert workflow_post(as_role("editor"), entry, "delete_everything").status_code == 403


def test_workflow_redirects_only_to_this_site(as_role, journalist, post):
    entry = make_entry(EntryStatus.DRAFT, journalist, post)
    response = workflow_post(as_role("author"), entry, "submit", next="https://evil.example/")
    assert "evil.example" not in response["Location"]


EDIT_ALLOWED = {
    EntryStatus.DRAFT: {"author", "editor", "superuser"},
    EntryStatus.IN_REVIEW: {"editor", "superuser"},
    EntryStatus.PUBLISHED: {"editor", "superuser"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", list(EDIT_ALLOWED))
def test_editing_an_entry_in_the_admin_by_role(as_role, journalist, post, role, status):
    entry = make_entry(status, journalist, post)
    client = as_role(role)
    url = reverse("admin:liveupdates_entry_change", args=[entry.pk])
    data = {
        "post": post.pk,
        "headline": "Forged headline",
        "body": "<p>Forged</p>",
        "tags": "",
        "citations-TOTAL_FORMS": "0",
        "citations-INITIAL_FORMS": "0",
        "corrections-TOTAL_FORMS": "0",
        "corrections-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "loaded_version": entry.version,
    }
    response = client.post(url, data)
    entry.refresh_from_db()
    if role in EDIT_ALLOWED[status]:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert entry.headline == "Forged headline"
    else:
        assert entry.headline != "Forged headline"
        assert response.status_code in (302, 403)


@pytest.mark.parametrize(
    "role, expected", [("anonymous", 302), ("author", 200), ("other_journalist", 200), ("editor", 200), ("superuser", 200)]
)
def test_viewing_a_draft_in_the_admin_by_role(as_role, journalist, post, role, expected):
    entry = make_entry(EntryStatus.DRAFT, journalist, post)
    response = as_role(role).get(reverse("admin:liveupdates_entry_change", args=[entry.pk]))
    assert response.status_code == expected


@pytest.mark.parametrize(
    "role, expected", [("anonymous", 404), ("author", 200), ("other_journalist", 200), ("editor", 200), ("superuser", 200)]
)
def test_previewing_a_draft_by_role(as_role, journalist, post, role, expected):
    entry = make_entry(EntryStatus.DRAFT, journalist, post)
    assert as_role(role).get(reverse("liveupdates:preview_entry", args=[entry.pk])).status_code == expected


@pytest.mark.parametrize(
    "role, expected", [("anonymous", 403), ("author", 200), ("other_journalist", 200), ("editor", 200), ("superuser", 200)]
)
def test_uploading_an_image_by_role(as_role, role, expected):
    assert upload(as_role(role), "a.jpg", jpeg_with_gps()).status_code == expected


MANAGE = {
    "column": {"editor", "superuser"},
    "livepost": {"editor", "superuser"},
    "author": {"editor", "superuser"},
    "place": {"author", "other_journalist", "editor", "superuser"},
    "source": {"author", "other_journalist", "editor", "superuser"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", list(MANAGE))
def test_managing_reference_data_by_role(as_role, role, model):
    response = as_role(role).get(reverse(f"admin:liveupdates_{model}_add"))
    if role in MANAGE[model]:
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)


@pytest.mark.parametrize(
    "role, expected", [("anonymous", 302), ("author", 403), ("other_journalist", 403), ("editor", 200), ("superuser", 200)]
)
def test_the_review_queue_is_for_editors(as_role, role, expected):
    assert as_role(role).get(reverse("admin:liveupdates_entry_review")).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_publishing_a_live_post_by_role(as_role, role):
    from .factories import LivePostFactory

    post = LivePostFactory(status="draft", published_at=None)
    as_role(role).post(reverse("admin:liveupdates_livepost_workflow", args=[post.pk, "publish"]))
    post.refresh_from_db()
    assert (post.status == "published") is (role in {"editor", "superuser"})


def test_a_journalist_cannot_delete_a_published_entry_even_in_bulk(as_role, journalist, post):
    entry = make_entry(EntryStatus.PUBLISHED, journalist, post)
    client = as_role("editor")
    client.post(
        reverse("admin:liveupdates_entry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert Entry.objects.filter(pk=entry.pk).exists()
    assert client.get(reverse("admin:liveupdates_entry_delete", args=[entry.pk])).status_code == 403


FORGED_CREATE = {
    "column": {"name": "Forged column", "slug": "forged"},
    "author": {"name": "Forged author", "slug": "forged"},
    "place": {"name": "Forged place", "slug": "forged", "kind": "town", "alternative_names": ""},
    "source": {
        "name": "Forged source",
        "slug": "forged",
        "kind": "news_agency",
        "accounts-TOTAL_FORMS": "0",  # the accounts and sites inline
        "accounts-INITIAL_FORMS": "0",
    },
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", list(FORGED_CREATE))
def test_creating_reference_data_by_forged_post_by_role(as_role, role, model):
    from django.apps import apps

    response = as_role(role).post(reverse(f"admin:liveupdates_{model}_add"), FORGED_CREATE[model])
    created = apps.get_model("liveupdates", model).objects.filter(slug="forged").exists()
    assert created is (role in MANAGE[model]), response.content.decode()[:3000]


# Trust actions: corrections, history and restore (tests/test_revisions.py covers restore in depth).

CORRECT_ALLOWED = {"editor", "superuser"}


@pytest.mark.parametrize("role", ROLES)
def test_correcting_a_published_entry_by_role_through_a_forged_post(as_role, journalist, post, role):
    from liveupdates.models import Correction

    entry = make_entry(EntryStatus.PUBLISHED, journalist, post)
    workflow_post(as_role(role), entry, "correct", kind="correction", text="Forged correction")
    assert Correction.objects.filter(entry=entry).exists() is (role in CORRECT_ALLOWED)


@pytest.mark.parametrize("role", ROLES)
def test_withdrawing_with_a_public_note_by_role_through_a_forged_post(as_role, journalist, post, role):
    entry = make_entry(EntryStatus.PUBLISHED, journalist, post)
    Entry.objects.filter(pk=entry.pk).update(announced_at=timezone.now())
    workflow_post(as_role(role), entry, "withdraw", note="Forged", public_note="Forged note")
    entry.refresh_from_db()
    assert (entry.removal_note == "Forged note") is (role in {"editor", "superuser"})


@pytest.mark.parametrize(
    "role, expected", [("anonymous", 302), ("author", 200), ("other_journalist", 200), ("editor", 200), ("superuser", 200)]
)
def test_viewing_an_entrys_history_by_role(as_role, journalist, post, role, expected):
    entry = make_entry(EntryStatus.DRAFT, journalist, post)
    assert as_role(role).get(reverse("admin:liveupdates_entry_history", args=[entry.pk])).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_restoring_an_entry_by_role_through_a_forged_post(as_role, journalist, post, role):
    from reversion.models import Version

    from liveupdates.editorial import workflow

    entry = make_entry(EntryStatus.IN_REVIEW, journalist, post)
    Entry.objects.filter(pk=entry.pk).update(headline="Original")
    entry.refresh_from_db()
    workflow.record_edit(entry=entry, user=journalist, created=True)
    Entry.objects.filter(pk=entry.pk).update(headline="Changed")
    version = Version.objects.get_for_object(entry).first()
    as_role(role).post(reverse("admin:liveupdates_entry_restore", args=[entry.pk, version.pk]))
    # In review, only editors may change the entry, so only they may restore it.
    assert (Entry.objects.get(pk=entry.pk).headline == "Original") is (role in {"editor", "superuser"})


@pytest.mark.parametrize("role", ROLES)
def test_restoring_a_live_post_by_role_through_a_forged_post(as_role, editor, post, role):
    from reversion.models import Version

    from liveupdates.editorial import workflow
    from liveupdates.models import LivePost

    workflow.record_post_edit(post=post, user=editor, created=True)
    LivePost.objects.filter(pk=post.pk).update(headline="Changed")
    version = Version.objects.get_for_object(post).first()
    as_role(role).post(reverse("admin:liveupdates_livepost_restore", args=[post.pk, version.pk]))
    assert (LivePost.objects.get(pk=post.pk).headline != "Changed") is (role in {"editor", "superuser"})
