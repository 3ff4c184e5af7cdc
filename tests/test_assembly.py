"""A live post's first page is its frame, rendered once per post version, with the moving parts filled in."""

from datetime import timedelta

import pytest
from django.shortcuts import render
from django.test import RequestFactory
from django.utils import timezone

from liveupdates.editorial import workflow
from liveupdates.models import Column, Entry, LivePost, PostStatus
from liveupdates.site import assembly

from .factories import ColumnFactory, EntryFactory, LivePostFactory, PlaceFactory, PublishedEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_request_builds_the_page(settings):
    settings.NEWSROOM_PAGE_CACHE = False  # what a request right after a publish does


@pytest.fixture
def live_post(editor, django_capture_on_commit_callbacks):
    post = LivePostFactory(coverage_end=None)
    place = PlaceFactory(name="Daraa", latitude=32.62, longitude=36.10, kind="city")
    first = EntryFactory(post=post, headline="Jets strike Daraa", is_key_event=True)
    first.places.add(place)
    second = EntryFactory(post=post, headline="Agencies confirm", is_pinned=True)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=first, user=editor)
        workflow.publish(entry=second, user=editor)
    return post


def whole(post):
    """The same page rendered in one go from the full template, as older pages are."""
    from liveupdates.delivery import live
    from liveupdates.site.views import _post_context

    request = RequestFactory().get(post.get_absolute_url())
    entries = Entry.objects.published().for_post(post)
    context = _post_context(
        request,
        post,
        entries,
        listed=Entry.objects.on_page().for_post(post),
        live_cursor=live.latest_event_id(post),
        structured_data=True,
    )
    return render(request, "liveupdates/post.html", context).content.decode()


def test_the_assembled_page_is_the_page_the_full_template_renders(client, live_post):
    assembled = client.get(live_post.get_absolute_url()).content.decode()
    assert assembled == whole(live_post)
    assert "\x00" not in assembled
    for shown in ("Jets strike Daraa", "Agencies confirm", 'id="key-events"', 'class="place-map"', "application/ld+json"):
        assert shown in assembled


def test_a_publish_reuses_the_frame_and_adds_only_the_new_entry(
    client, live_post, editor, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client.get(live_post.get_absolute_url())
    frames = len(assembly._frames.items)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=EntryFactory(post=live_post, headline="Third strike"), user=editor)
    page = client.get(live_post.get_absolute_url()).content.decode()
    assert "Third strike" in page and page.index("Third strike") < page.index("Agencies confirm")
    assert len(assembly._frames.items) == frames  # no new frame: the post itself did not change


def test_a_new_headline_for_the_post_makes_a_new_frame(client, live_post):
    client.get(live_post.get_absolute_url())
    live_post.headline = "Russian jets strike Daraa for a second day"
    live_post.save()
    assert "for a second day" in client.get(live_post.get_absolute_url()).content.decode()


def test_a_renamed_column_reaches_the_frame(client, live_post):
    client.get(live_post.get_absolute_url())
    column = live_post.column
    column.name = "Putin in Syria: the air war"
    column.save()
    assert "Putin in Syria: the air war" in client.get(live_post.get_absolute_url()).content.decode()


def test_the_live_badge_goes_when_coverage_ends_with_nobody_acting(client, editor, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    # Sooner than any cache would expire by itself: the frame must know its own deadline.
    post = LivePostFactory(coverage_end=timezone.now() + timedelta(seconds=20))
    PublishedEntryFactory(post=post)
    assert "label--live" in client.get(post.get_absolute_url()).content.decode()
    time_machine.shift(timedelta(seconds=21))
    page = client.get(post.get_absolute_url()).content.decode()
    assert "label--live" not in page and "Coverage has ended." in page


def test_a_key_event_unmarked_leaves_the_panel(client, live_post, editor, django_capture_on_commit_callbacks):
    client.get(live_post.get_absolute_url())
    entry = Entry.objects.get(headline="Jets strike Daraa")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.set_key_event(entry=entry, user=editor, key_event=False)
    page = client.get(live_post.get_absolute_url()).content.decode()
    panel = page.split('id="key-events"', 1)[1].split("</ol>", 1)[0]
    assert "Jets strike Daraa" not in panel


def test_a_new_place_reaches_the_map(client, live_post, editor, django_capture_on_commit_callbacks):
    assert "Douma" not in client.get(live_post.get_absolute_url()).content.decode().split('class="place-map"', 1)[1]
    entry = EntryFactory(post=live_post, headline="Strikes near Damascus")
    entry.places.add(PlaceFactory(name="Douma", latitude=33.57, longitude=36.40, kind="city"))
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=entry, user=editor)
    assert "Douma" in client.get(live_post.get_absolute_url()).content.decode().split('class="place-map"', 1)[1]


def test_an_unpublished_post_has_no_page_and_leaves_no_frame_to_serve(client, live_post, editor):
    client.get(live_post.get_absolute_url())
    workflow.unpublish_post(post=live_post, user=editor)
    assert client.get(live_post.get_absolute_url()).status_code == 404


def test_saving_a_stale_post_never_publishes_it_again(client, live_post, editor):
    stale = LivePost.objects.get(pk=live_post.pk)  # an admin form opened before the unpublish
    workflow.unpublish_post(post=live_post, user=editor)
    stale.headline = "A new headline"
    stale.save()
    assert LivePost.objects.get(pk=live_post.pk).status == PostStatus.DRAFT
    assert client.get(live_post.get_absolute_url()).status_code == 404


def test_a_renamed_place_reaches_the_map(client, live_post):
    client.get(live_post.get_absolute_url())
    place = live_post.entries.get(headline="Jets strike Daraa").places.get()
    place.name = "Daraa al-Balad"
    place.save()
    assert "Daraa al-Balad" in client.get(live_post.get_absolute_url()).content.decode().split('class="place-map"', 1)[1]


def test_the_map_draws_only_the_places_of_the_latest_entries(client, editor, monkeypatch, django_capture_on_commit_callbacks):
    from liveupdates.site import maps

    monkeypatch.setattr(maps, "LATEST_ENTRIES", 2)
    post = LivePostFactory(coverage_end=None)
    for name, lat in (("Sukayk", 35.4), ("Douma", 33.57), ("Daraa", 32.62)):  # oldest first
        entry = EntryFactory(post=post, headline=f"News from {name}")
        entry.places.add(PlaceFactory(name=name, latitude=lat, longitude=36.4, kind="city"))
        with django_capture_on_commit_callbacks(execute=True):
            workflow.publish(entry=entry, user=editor)
    drawn = client.get(post.get_absolute_url()).content.decode().split('class="place-map"', 1)[1]
    assert "Douma" in drawn and "Daraa" in drawn and "Sukayk" not in drawn


def test_the_map_never_names_a_place_from_an_unpublished_entry(client, live_post, editor):
    draft = EntryFactory(post=live_post, headline="Unconfirmed")
    draft.places.add(PlaceFactory(name="Secret airbase", latitude=34.0, longitude=37.0, kind="city"))
    scheduled = EntryFactory(post=live_post, headline="Embargoed")
    scheduled.places.add(PlaceFactory(name="Embargoed town", latitude=33.0, longitude=36.9, kind="city"))
    workflow.publish(entry=scheduled, user=editor, at=timezone.now() + timedelta(hours=1))
    page = client.get(live_post.get_absolute_url()).content.decode()
    assert "Secret airbase" not in page and "Embargoed town" not in page


def test_a_published_entry_is_rendered_once_for_the_stream_and_the_page(
    client, live_post, editor, monkeypatch, django_capture_on_commit_callbacks
):
    from liveupdates.delivery import fragments

    client.get(live_post.get_absolute_url())  # every fragment of the page is kept
    rendered = []
    original = fragments._render
    monkeypatch.setattr(
        fragments, "_render", lambda entry, pinned_slot: rendered.append(entry.pk) or original(entry, pinned_slot)
    )
    entry = EntryFactory(post=live_post, headline="Rendered once")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=entry, user=editor)
    assert rendered == [entry.pk]  # the announcement rendered it for live readers...
    assert "Rendered once" in client.get(live_post.get_absolute_url()).content.decode()
    assert rendered == [entry.pk]  # ...and the page took that fragment


@pytest.fixture
def neighbour(live_post):
    """The post before `live_post` in its column, linked from its page (the frame is made and kept)."""
    older = LivePostFactory(
        column=live_post.column, coverage_start=live_post.coverage_start - timedelta(days=1), headline="Yesterday in Daraa"
    )
    return older


def linked(client, post):
    return client.get(post.get_absolute_url()).content.decode().split('class="post-nav"', 1)[-1]


def test_a_neighbour_renamed_is_linked_by_its_new_headline_at_once(client, live_post, neighbour):
    assert "Yesterday in Daraa" in linked(client, live_post)
    neighbour.headline = "The day before, in Daraa"
    neighbour.save()
    page = linked(client, live_post)
    assert "The day before, in Daraa" in page and "Yesterday in Daraa" not in page


def test_a_neighbour_moved_to_another_column_is_no_longer_linked(client, live_post, neighbour):
    elsewhere = ColumnFactory(name="An archive", is_active=False)  # not in the navigation: the column list is unchanged
    assert "Yesterday in Daraa" in linked(client, live_post)
    neighbour.column = elsewhere
    neighbour.save()
    assert "Yesterday in Daraa" not in linked(client, live_post)


def test_a_deleted_neighbour_is_no_longer_linked(client, live_post, neighbour):
    assert "Yesterday in Daraa" in linked(client, live_post)
    LivePost.objects.filter(pk=neighbour.pk).delete()  # as the admin's bulk delete does
    assert "Yesterday in Daraa" not in linked(client, live_post)


def test_a_post_published_in_the_column_is_linked_at_once(client, live_post, editor):
    assert "Tomorrow in Daraa" not in linked(client, live_post)
    later = LivePostFactory(
        column=live_post.column,
        coverage_start=live_post.coverage_start + timedelta(days=1),
        headline="Tomorrow in Daraa",
        status="draft",
        published_at=None,
    )
    assert "Tomorrow in Daraa" not in linked(client, live_post)
    workflow.publish_post(post=later, user=editor)
    assert "Tomorrow in Daraa" in linked(client, live_post)


def test_an_entry_scheduled_for_later_reaches_the_page_once_its_time_comes(
    client, live_post, editor, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(timezone.now(), tick=False)
    client.get(live_post.get_absolute_url())  # the page's queries are compiled now (site/prepared.py)
    scheduled = EntryFactory(post=live_post, headline="Embargoed for five minutes")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(entry=scheduled, user=editor, at=timezone.now() + timedelta(minutes=5))
    assert "Embargoed for five minutes" not in client.get(live_post.get_absolute_url()).content.decode()
    time_machine.shift(timedelta(minutes=6))
    assert "Embargoed for five minutes" in client.get(live_post.get_absolute_url()).content.decode()


def test_a_prepared_query_refuses_a_value_that_never_reaches_its_sql():
    from django.core.exceptions import ImproperlyConfigured

    from liveupdates.models import Column
    from liveupdates.site import prepared

    query = prepared.Prepared(lambda post_id: Column.objects.values_list("id"), post_id="id")
    with pytest.raises(ImproperlyConfigured, match="post_id"):
        query.rows(post_id=1)


def test_a_prepared_query_refuses_a_value_derived_from_its_time_which_its_sql_would_keep_for_ever():
    # A rule such as "published in the last hour" sends now - 1 h: compiled once, it would
    # stay the stand-in's hour on every request, and the page would show the wrong entries.
    from django.core.exceptions import ImproperlyConfigured

    from liveupdates.site import prepared

    query = prepared.Prepared(
        lambda now: Entry.objects.filter(published_at__lte=now, updated_at__gte=now - timedelta(hours=1)).values_list("id"),
        now="time",
    )
    with pytest.raises(ImproperlyConfigured, match="derived"):
        query.rows(now=timezone.now())


def test_a_pinned_entry_older_than_every_key_event_shown_stays_pinned(
    client, live_post, editor, monkeypatch, django_capture_on_commit_callbacks
):
    from liveupdates.delivery import live

    monkeypatch.setattr(live, "KEY_EVENTS_SHOWN", 1)  # before the page's queries are compiled
    for headline in ("A second key event", "A third key event"):  # both newer than the pinned entry
        entry = EntryFactory(post=live_post, headline=headline, is_key_event=True)
        with django_capture_on_commit_callbacks(execute=True):
            workflow.publish(entry=entry, user=editor)
    page = client.get(live_post.get_absolute_url()).content.decode()
    assert "Agencies confirm" in page.split('id="pinned"', 1)[1].split("</section>", 1)[0]
    assert page == whole(live_post)


# --- Prepared on the server (PostgreSQL) ------------------------------------------------------


def _needs_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (server-side prepared statements)")


def held_on_server():
    """The names of the statements this test's connection holds prepared on the server.

    The test connection outlives a test, and so do the statements earlier tests prepared
    (each test compiles anew, under new names): tests compare what a page adds.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'newsroom_prepared_%%'")
        return {name for (name,) in cursor.fetchall()}


def test_the_live_pages_queries_are_prepared_on_the_server_from_their_second_run_on_a_connection(client, live_post):
    _needs_postgresql()
    before = held_on_server()
    first = client.get(live_post.get_absolute_url()).content
    assert held_on_server() == before  # one page on a connection: plain SQL, nothing prepared
    second = client.get(live_post.get_absolute_url()).content
    assert len(held_on_server() - before) == 5  # the post, the entries, the featured, the map, the columns
    third = client.get(live_post.get_absolute_url()).content  # run from the prepared statements
    assert first == second == third == whole(live_post).encode()


def test_a_prepared_statement_follows_every_change_like_the_plain_sql(client, live_post, editor):
    _needs_postgresql()
    for _ in range(3):
        client.get(live_post.get_absolute_url())
    entry = Entry.objects.get(headline="Agencies confirm")
    workflow.withdraw(entry=entry, user=editor, reason="Legal")
    page = client.get(live_post.get_absolute_url()).content.decode()
    assert "Agencies confirm" not in page
    assert page == whole(live_post)


def a_page_prepared_on_the_server(client, headline):
    """A public post with one entry, its page built three times: its statements prepared. Returns (post, page)."""
    from .factories import UserFactory

    editor = UserFactory(username="prepared-editor", is_superuser=True)  # a transactional test has no groups
    post = LivePostFactory(coverage_end=None)
    workflow.publish(entry=EntryFactory(post=post, headline=headline), user=editor)
    for _ in range(3):
        page = client.get(post.get_absolute_url()).content
    return post, page


@pytest.mark.django_db(transaction=True)
def test_a_session_reset_under_the_page_costs_nothing_but_a_new_prepare(client):
    # A pooler that resets sessions (DISCARD ALL, DEALLOCATE) takes the statements away.
    from django.db import connection

    _needs_postgresql()
    post, page = a_page_prepared_on_the_server(client, "Still here after a reset")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200 and response.content == page
    client.get(post.get_absolute_url())
    assert len(held_on_server()) == 5  # prepared again (DEALLOCATE ALL took every earlier one)
    assert client.get(post.get_absolute_url()).content == page


def test_a_literal_percent_sign_in_a_prepared_querys_sql_survives_preparing():
    # Django's SQL doubles a literal % for the driver; the server's statement must hold one.
    from liveupdates.models import Column
    from liveupdates.site import prepared

    ColumnFactory(name="Growth", slug="rate-100")
    ColumnFactory(name="Other", slug="other")
    query = prepared.Prepared(
        lambda slug: Column.objects.filter(slug=slug).extra(where=["name LIKE 'Gr%%'"]).values_list("slug"),  # noqa: S610
        slug="text",
    )
    assert [query.rows(slug="rate-100") for _ in range(3)] == [[("rate-100",)]] * 3
    assert query.rows(slug="other") == []


def test_preparing_on_the_server_can_be_turned_off_for_a_pooler_that_shares_sessions(client, live_post, settings):
    _needs_postgresql()
    settings.NEWSROOM_PREPARE_ON_SERVER = False
    before = held_on_server()
    pages = {client.get(live_post.get_absolute_url()).content for _ in range(3)}
    assert held_on_server() == before
    assert pages == {whole(live_post).encode()}


@pytest.mark.django_db(transaction=True)
def test_a_page_survives_one_of_its_statements_going_missing_while_the_others_stay_prepared(client):
    # One statement gone alone (a DEALLOCATE by hand, or its PREPARE cancelled by a lock or
    # statement timeout after it was counted as prepared): the others are still on the server.
    from django.db import connection

    _needs_postgresql()
    post, page = a_page_prepared_on_the_server(client, "Still here with one statement gone")
    held = sorted(held_on_server(), key=lambda name: int(name.rsplit("_", 1)[1]))
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {held[-1]}")
    for _ in range(4):
        response = client.get(post.get_absolute_url())
        assert response.status_code == 200 and response.content == page


@pytest.mark.django_db(transaction=True)
def test_a_migration_that_changes_a_listed_columns_type_does_not_break_the_page_on_a_prepared_connection(client):
    # PostgreSQL refuses to EXECUTE a statement whose result type changed ("cached plan must not
    # change result type", 0A000): a migration widening a field, while the old processes still serve.
    from django.db import connection

    _needs_postgresql()
    post, page = a_page_prepared_on_the_server(client, "Still here during a migration")
    table = Column._meta.db_table
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN name TYPE varchar(121)")
        for _ in range(4):
            response = client.get(post.get_absolute_url())
            assert response.status_code == 200 and response.content == page
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN name TYPE varchar(120)")
