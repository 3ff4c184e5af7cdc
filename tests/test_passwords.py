"""Staff accounts need strong passwords: the admin's password forms refuse weak ones with the reason."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def change_password(client, user, new):
    client.force_login(user)
    return client.post(
        reverse("admin:password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": new,
            "new_password2": new,
        },
    )


@pytest.mark.parametrize(
    "weak, reason",
    [
        ("Syria2015", "at least 12 characters"),
        ("password1234", "too common"),
        ("193847561029", "entirely numeric"),
        ("journalistjo1", "too similar"),
    ],
)
def test_a_weak_password_is_refused_with_the_reason(client, journalist, weak, reason):
    journalist.set_password("correct horse battery staple")
    journalist.email = "journalistjo1@example.org"
    journalist.save()
    response = change_password(client, journalist, weak)
    assert response.status_code == 200
    assert reason in response.content.decode()
    journalist.refresh_from_db()
    assert journalist.check_password("correct horse battery staple")


def test_a_strong_password_is_accepted(client, editor):
    editor.set_password("correct horse battery staple")
    editor.save()
    response = change_password(client, editor, "violet tundra lantern 42")
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.check_password("violet tundra lantern 42")
