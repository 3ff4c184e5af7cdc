"""One URL per answer: a cursor spelled another way is sent to its one spelling or refused, never a new cache copy."""

import pytest
from django.urls import reverse

from .factories import PublishedEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(post, editor):
    return [PublishedEntryFactory(post=post, created_by=editor) for _ in range(25)]


@pytest.mark.parametrize("query", ["after=007", "after=7&x=1", "x=1&after=7", "after=7&after=7", "after=7&"])
def test_the_poll_endpoint_sends_other_spellings_of_a_cursor_to_its_one_spelling(client, post, query):
    url = reverse("liveupdates:post_updates", args=[post.slug])
    response = client.get(f"{url}?{query}")
    assert response.status_code == 301 and response["Location"] == f"{url}?after=7"


@pytest.mark.parametrize("query", ["after=%2B7", "after=7x", "after=-1", "after=", "after=%EF%BC%97", "x=1"])
def test_the_poll_endpoint_refuses_a_cursor_that_is_not_a_number(client, post, query):
    response = client.get(f"{reverse('liveupdates:post_updates', args=[post.slug])}?{query}")
    assert response.status_code == 400 and "after=" in response.json()["error"]


def test_the_poll_endpoint_answers_its_canonical_url(client, post):
    response = client.get(f"{reverse('liveupdates:post_updates', args=[post.slug])}?after=0")
    assert response.status_code == 200 and response.json()["public"] is True


def older_link(client, post):
    html = client.get(post.get_absolute_url()).content.decode()
    return html.split("?before=", 1)[1].split('"', 1)[0]


def test_the_older_entries_link_is_served_as_given(client, post, entries):
    cursor = older_link(client, post)
    assert client.get(f"{post.get_absolute_url()}?before={cursor}").status_code == 200


@pytest.mark.parametrize("respell", [lambda c: "00" + c, lambda c: "+" + c, lambda c: c + "x", lambda c: c.replace("-", "-0")])
def test_an_older_entries_cursor_spelled_another_way_is_refused_not_rendered(client, post, entries, respell):
    cursor = older_link(client, post)
    response = client.get(f"{post.get_absolute_url()}?before={respell(cursor).replace('+', '%2B')}")
    assert response.status_code == 400
