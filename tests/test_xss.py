"""An XSS corpus (tests/xss/payloads.txt, 150 payloads) pushed through every rich-text and
plain-text field, then looked for in every public page, feed, API response and the live stream.

The fields are written through the ORM, skipping form validation, as an attacker
with a stolen journalist account or a bug in a form would: what readers get must
be safe whatever is stored.
"""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from liveupdates.delivery import live
from liveupdates.editorial import workflow
from liveupdates.models import Author, Card, Citation, Column, Entry, LiveEvent, LivePost, Place, Source

from .xss.checker import PAYLOADS, problems_in

pytestmark = pytest.mark.django_db


def test_the_corpus_has_at_least_100_payloads_and_the_checker_catches_them_raw():
    assert len(PAYLOADS) >= 100
    # The checker itself: every payload that is markup at all is reported when left unescaped.
    caught = [payload for payload in PAYLOADS if problems_in(payload)]
    assert len(caught) >= 100, set(PAYLOADS) - set(caught)


def test_the_checker_passes_plain_safe_html():
    assert problems_in('<p>Douma <a href="/places/douma/">link</a> <img src="/media/uploads/a.jpg" alt="x"></p>') == []


@pytest.fixture
def poisoned(editor, django_capture_on_commit_callbacks):
    """A published live post whose every text field, entry by entry, carries one payload."""
    column = Column.objects.create(name=PAYLOADS[0][:100], slug="poisoned", description=PAYLOADS[1])
    post = LivePost.objects.create(
        column=column,
        headline=PAYLOADS[2][:200],
        slug="poisoned-post",
        summary=PAYLOADS[3],
        coverage_start=timezone.now() - timedelta(hours=5),
        created_by=editor,
    )
    workflow.publish_post(post=post, user=editor, at=timezone.now() - timedelta(hours=5))
    entries = []
    with django_capture_on_commit_callbacks(execute=True):
        for index, payload in enumerate(PAYLOADS):
            author = Author.objects.create(name=payload[:120], slug=f"author-{index}", bio=payload)
            place = Place.objects.create(
                name=payload[:120], slug=f"place-{index}", kind="town", alternative_names=payload[:200], reviewed=True
            )
            source = Source.objects.create(
                name=payload[:120],
                slug=f"source-{index}",
                kind="news_agency",
                reviewed=True,
                description=payload,
                homepage="https://example.org/" if index % 2 else "javascript:alert(1)",
            )
            entry = Entry.objects.create(
                post=post, headline=payload[:200], body=f"<p>Update {index}</p>{payload}", created_by=editor
            )
            entry.authors.add(author)
            entry.places.add(place)
            Citation.objects.create(
                entry=entry, source=source, url=payload if index % 2 else "javascript:alert(1)", citing=source
            )
            # A card (issue 14) whose every field carries the payload, placed in the entry's text.
            card = Card.objects.create(
                entry=entry,
                provider="youtube" if index % 3 == 0 else "x",
                url=payload[:2000] if index % 2 else "javascript:alert(1)",
                canonical_id=payload[:300],
                is_video=index % 3 == 0,
                title=payload[:300],
                author_name=payload[:200],
                author_handle=payload[:200],
                author_url="javascript:alert(1)" if index % 2 else payload[:2000],
                text=payload,
                image_alt=payload[:300],
                verification="verified",
                verification_method="geolocated",
                verification_note=payload[:300],
                archived_at=timezone.now(),
                source=source,
            )
            Entry.objects.filter(pk=entry.pk).update(
                body=f'{entry.body}<figure data-card="{card.pk}"><a href="https://example.org/">x</a></figure>',
                verification="disputed",
                verification_note=payload[:300],
            )
            entry.refresh_from_db()
            entry.tags.add(Tag.objects.create(name=payload[:100], slug=f"tag-{index}"))
            at = timezone.now() - timedelta(minutes=len(PAYLOADS) - index)
            try:
                workflow.publish(entry=entry, user=editor, at=at)
            except workflow.WorkflowError:
                # An <img> without alt text is refused by the workflow; force it out anyway.
                Entry.objects.filter(pk=entry.pk).update(status="published", published_at=at)
                entry.refresh_from_db()
            workflow.correct(entry=entry, user=editor, text=payload, kind="correction")
            entries.append(entry)
        # Edits after publication travel through the stream as updates.
        for entry in entries[:20]:
            Entry.objects.filter(pk=entry.pk).update(body=entry.body + PAYLOADS[-1])
            workflow.record_edit(entry=Entry.objects.get(pk=entry.pk), user=editor, created=False)
        live.announce_due()
        withdrawn = Entry.objects.get(pk=entries[-1].pk)
        workflow.withdraw(entry=withdrawn, user=editor, reason="test", public_note=PAYLOADS[5])
    return post, entries


# A whole page has a head (meta, link) and the search box (input, button); the checker
# still inspects their attributes. The SVG is the server-drawn place map.
PAGE_ELEMENTS = {"svg", "meta", "link", "input", "button", "select"}


def assert_clean(label, html, allowed=()):
    problems = problems_in(html, allowed)
    assert not problems, f"{label}: {problems[:5]}"


def _pages(client, url):
    """Every page of a keyset-paginated list, following its 'older' links."""
    pages, seen = [], set()
    while url and url not in seen:
        seen.add(url)
        html = client.get(url).content.decode()
        pages.append(html)
        marker = 'rel="next" href="'
        url = html.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&") if marker in html else None
    return pages


def test_no_payload_survives_into_any_public_page(client, poisoned):
    post, entries = poisoned
    urls = ["/", reverse("liveupdates:column", args=["poisoned"]), reverse("liveupdates:search") + "?q=alert"]
    for html in _pages(client, post.get_absolute_url()):
        assert_clean(post.get_absolute_url(), html, allowed=PAGE_ELEMENTS)
    for index, entry in enumerate(entries[:-1]):
        urls += [entry.get_absolute_url()]
    for index in range(0, len(PAYLOADS), 7):
        urls += [
            reverse("liveupdates:author", args=[f"author-{index}"]),
            reverse("liveupdates:place", args=[f"place-{index}"]),
            reverse("liveupdates:source", args=[f"source-{index}"]),
            reverse("liveupdates:tag", args=[f"tag-{index}"]),
        ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_clean(url, response.content.decode(), allowed=PAGE_ELEMENTS)


def test_no_payload_survives_into_any_feed(client, poisoned):
    post, entries = poisoned
    feeds = [
        reverse("liveupdates:feed_site"),
        reverse("liveupdates:feed_site_atom"),
        reverse("liveupdates:feed_post", args=[post.slug]),
        reverse("liveupdates:feed_column", args=["poisoned"]),
        reverse("liveupdates:feed_author", args=["author-3"]),
        reverse("liveupdates:feed_tag", args=["tag-8"]),
    ]
    for url in feeds:
        response = client.get(url)
        assert response.status_code == 200, url
        root = ET.fromstring(response.content)  # well-formed XML whatever the payload
        for element in root.iter():
            name = element.tag.rsplit("}", 1)[-1]
            if name in ("description", "content", "summary") and element.text:
                # Feed readers render these as HTML.
                assert_clean(f"{url} <{name}>", element.text)


def test_no_payload_survives_into_the_api(client, poisoned):
    post, entries = poisoned
    url = f"/api/entries?post={post.slug}"
    seen = 0
    while url:
        data = client.get(url).json()
        for item in data["items"]:
            assert_clean(f"api entry {item['id']}", item["body_html"])
            seen += 1
        url = f"/api/entries?post={post.slug}&cursor={data['next_cursor']}" if data.get("next_cursor") else None
    assert seen == len(entries) - 1


def test_no_payload_survives_into_the_live_stream(client, poisoned):
    post, entries = poisoned
    stored = LiveEvent.objects.filter(post=post).values_list("payload", flat=True)
    assert len(stored) > len(entries)
    for payload in stored:
        if payload.get("html"):
            assert_clean(f"live event {payload['type']}", payload["html"])
    polled = client.get(reverse("liveupdates:post_updates", args=[post.slug]) + "?after=0").json()
    for event in polled["events"]:
        if event.get("html"):
            assert_clean(f"poll event {event['type']}", event["html"])


def test_cited_urls_that_are_not_web_addresses_are_not_links(client, poisoned):
    post, entries = poisoned
    html = client.get(entries[0].get_absolute_url()).content.decode()
    assert "javascript:alert" not in html


# Staff read what colleagues wrote: a hostile or hijacked journalist account must not reach an editor's session.
ADMIN_ELEMENTS = PAGE_ELEMENTS | {"textarea", "template", "noscript", "use"}  # admin icons: <use href="#icon">


def test_no_payload_runs_in_the_editors_admin_pages(client, poisoned, editor):
    post, entries = poisoned
    client.force_login(editor)
    draft = Entry.objects.create(post=post, headline=PAYLOADS[10], body=PAYLOADS[11], created_by=editor)
    workflow.submit_for_review(entry=draft, user=editor)
    workflow.record_edit(entry=entries[0], user=editor, created=False)
    urls = [
        reverse("admin:liveupdates_livepost_desk", args=[post.pk]),
        reverse("admin:liveupdates_entry_review"),
        reverse("admin:liveupdates_entry_history", args=[entries[0].pk]),
        reverse("admin:liveupdates_entry_changelist"),
        reverse("liveupdates:preview_entry", args=[draft.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_clean(url, response.content.decode(), allowed=ADMIN_ELEMENTS)
