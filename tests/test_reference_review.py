"""A place or source a journalist adds waits for an editor: until it is reviewed, readers see its name as plain text and nothing more."""

import json

import pytest
from django.urls import reverse

from liveupdates.models import Place, Source
from liveupdates.site.maps import latest_places

from .factories import CitationFactory, PlaceFactory, PublishedEntryFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreviewed(post):
    """A public entry naming a place and citing a source nobody has reviewed yet."""
    place = PlaceFactory(name="Tafas", slug="tafas", latitude=32.74, longitude=35.99, reviewed=False)
    source = SourceFactory(name="Horan Free League", slug="horan-free-league", reviewed=False)
    entry = PublishedEntryFactory(post=post, headline="Shelling reported in Tafas")
    entry.places.add(place)
    CitationFactory(entry=entry, source=source)
    return entry, place, source


def desk_client(client, user):
    client.force_login(user)
    return client


def test_a_place_or_source_a_journalist_adds_is_not_reviewed(client, journalist):
    desk_client(client, journalist)
    client.post(reverse("admin:liveupdates_place_add"), {"name": "Nawa", "slug": "nawa", "kind": "town", "reviewed": "on"})
    client.post(
        reverse("admin:liveupdates_source_add"),
        {"name": "Nabaa", "slug": "nabaa", "kind": "news_site", "reviewed": "on", **ACCOUNTS},
    )
    assert Place.objects.get(slug="nawa").reviewed is False  # the box is not theirs to tick: ignored
    assert Source.objects.get(slug="nabaa").reviewed is False


ACCOUNTS = {"accounts-TOTAL_FORMS": "0", "accounts-INITIAL_FORMS": "0"}


def test_an_unreviewed_place_and_source_have_no_page_feed_or_sitemap_entry(client, unreviewed):
    _entry, place, source = unreviewed
    for url in (
        place.get_absolute_url(),
        source.get_absolute_url(),
        reverse("liveupdates:feed_place", args=[place.slug]),
        reverse("liveupdates:feed_source", args=[source.slug]),
    ):
        assert client.get(url).status_code == 404, url
    sitemap = client.get("/sitemap.xml").content.decode()
    assert place.slug not in sitemap and source.slug not in sitemap


def test_an_unreviewed_place_is_not_on_the_map_or_in_the_filters(client, post, unreviewed):
    _entry, place, _source = unreviewed
    assert place not in latest_places(post.entries.all())
    assert client.get(post.get_absolute_url() + "?place=tafas").status_code == 404
    assert client.get(f"/api/entries?place={place.slug}").status_code == 404
    assert place.slug not in json.dumps(client.get("/api/places").json())
    assert client.get("/search/?q=Tafas&place=tafas").status_code in (200, 400)
    assert "horan-free-league" not in json.dumps(client.get("/api/sources").json())


def test_a_public_entry_names_an_unreviewed_place_and_source_without_linking_them(client, unreviewed):
    entry, place, source = unreviewed
    page = client.get(entry.get_absolute_url()).content.decode()
    facts = page.split('class="entry__facts"', 1)[1].split("</dl>", 1)[0]
    assert "Tafas" in facts and "Horan Free League" in facts
    assert place.get_absolute_url() not in page and source.get_absolute_url() not in page
    answer = client.get(f"/api/entries/{entry.pk}").json()
    assert answer["places"] == [{"name": "Tafas", "slug": "tafas", "url": None}]
    assert answer["sources"][0]["url"] is None


def test_an_editor_marks_them_reviewed_and_readers_get_their_pages_and_links(client, editor, unreviewed):
    entry, place, source = unreviewed
    client.get(entry.get_absolute_url())  # the entry's fragment is drawn (and kept) without links
    desk_client(client, editor)
    for model, obj in (("place", place), ("source", source)):
        response = client.post(
            reverse(f"admin:liveupdates_{model}_changelist"),
            {"action": "mark_reviewed", "_selected_action": [obj.pk]},
            follow=True,
        )
        assert "1 marked as reviewed" in response.content.decode()
    client.logout()
    assert Place.objects.get(pk=place.pk).reviewed and Source.objects.get(pk=source.pk).reviewed
    assert client.get(place.get_absolute_url()).status_code == 200
    assert client.get(source.get_absolute_url()).status_code == 200
    page = client.get(entry.get_absolute_url()).content.decode()
    assert f'href="{place.get_absolute_url()}"' in page and f'href="{source.get_absolute_url()}"' in page
    assert place.slug in client.get("/sitemap.xml").content.decode()


def test_a_journalist_has_no_mark_as_reviewed_action_and_cannot_force_it(client, journalist, unreviewed):
    _entry, place, _source = unreviewed
    desk_client(client, journalist)
    listing = client.get(reverse("admin:liveupdates_place_changelist")).content.decode()
    assert "mark_reviewed" not in listing
    client.post(reverse("admin:liveupdates_place_changelist"), {"action": "mark_reviewed", "_selected_action": [place.pk]})
    assert Place.objects.get(pk=place.pk).reviewed is False


def test_the_demo_places_and_sources_are_reviewed(settings, capsys):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("load_demo")
    assert Place.objects.exists() and not Place.objects.filter(reviewed=False).exists()
    assert Source.objects.exists() and not Source.objects.filter(reviewed=False).exists()


def test_a_card_from_an_unreviewed_source_names_it_without_a_link(client, post):
    from liveupdates.delivery.cards import render_card
    from liveupdates.models import Card

    source = SourceFactory(name="Nabaa", slug="nabaa", reviewed=False)
    card = Card.objects.create(url="https://t.me/nabaa/1", provider="telegram", text="words", source=source)
    html = render_card(card)
    assert "Nabaa" in html and source.get_absolute_url() not in html
