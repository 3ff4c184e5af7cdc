"""Cards: a pasted link becomes the newsroom's own archived copy, shown with our HTML and our image,
kept when the original is deleted, and gone from every public surface when its entry is withdrawn.

The networks are played by a local fixture server (tests/card_server.py); no internet.
"""

import io
import json
import re

import pytest
from django.urls import reverse
from PIL import Image

from liveupdates import richtext
from liveupdates.delivery import live
from liveupdates.editorial import cards, workflow
from liveupdates.models import Card, Citation, Entry, LiveEvent, Source, SourceAccount

from .card_server import page, redirect
from .factories import EntryFactory, SourceFactory

pytestmark = pytest.mark.django_db

YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=tracking"


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


def published_with_card(act, editor, post, card):
    entry = EntryFactory(post=post, body=f"<p>Fighters move on Sukayk.</p>{cards.placeholder(card)}", created_by=editor)
    cards.attach(entry, user=editor)
    act(workflow.publish, entry=entry, user=editor)
    return Entry.objects.select_related("post").get(pk=entry.pk)


# --- Archiving each network, from its public endpoint -------------------------------------


def test_a_youtube_link_is_archived_with_author_title_and_our_own_reencoded_poster(card_server, journalist):
    card = cards.archive(YOUTUBE, user=journalist)
    assert card.provider == "youtube" and card.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert card.author_name == "SMART News Agency" and card.author_handle == "@SMARTNewsAgency"
    assert card.title.startswith("Sham Corps fighters") and card.archived_at and not card.fetch_error
    with card.image.open("rb") as file, Image.open(file) as image:
        assert image.format == "JPEG"
        assert not image.getexif()  # the fixture's GPS tag never reaches the archive
    asked = [path for path, _headers in card_server.requests]
    assert any(path.startswith("/oembed/youtube?") for path in asked)


@pytest.mark.parametrize(
    ("text", "author", "words"),
    [
        ("https://x.com/Qasioun_News/status/656880287469297664?s=20", "Qasioun News", "al-Harra and Tell Mutawwaq"),
        ("https://t.me/smartnewsagency/4512", "", "moving on Sukayk"),
        ("https://www.instagram.com/p/CxYz12AbCdE/?igsh=abc", "", "al-Myassar"),
        ("https://www.facebook.com/LCCSy/posts/pfbid02AbCdEf12345", "", "Douma"),
        ("https://www.tiktok.com/@smartnews/video/7291234567890123456", "SMART News", "Su-34"),
        ("https://vimeo.com/143123456", "Douma Media Centre", "Smoke over Douma"),
        ("https://bsky.app/profile/syriainstitute.org/post/3kxyzabc2de2f", "Syria Institute", "Submunitions"),
    ],
)
def test_each_network_is_archived_from_its_public_endpoint(card_server, journalist, text, author, words):
    card = cards.archive(text, user=journalist)
    assert not card.fetch_error, card.fetch_error
    assert card.archived_at is not None
    assert words in f"{card.title} {card.text}"
    if author:
        assert card.author_name == author


def test_a_mastodon_post_and_an_article_are_read_from_their_pages_and_oembed_discovery(card_server, journalist):
    toot = cards.archive(f"{card_server.base}/@isw/111222333444555666", user=journalist)
    assert toot.provider == "mastodon" and toot.author_name == "Institute for the Study of War"
    assert "Aleppo offensive stalls" in toot.text
    article = cards.archive(f"{card_server.base}/page/article/russia-asks-lebanon?utm_source=x", user=journalist)
    assert article.provider == "article" and "utm_source" not in article.url
    assert article.author_name == "NOW Lebanon" and "Alaraby Aljadeed" in article.text
    assert article.published_at.isoformat().startswith("2015-10-21T09:30")
    assert article.image  # the relative og:image was resolved against the page and fetched


def test_a_post_already_deleted_makes_a_card_from_the_link_with_the_reason(card_server, journalist):
    card_server.gone.add("https://x.com/Qasioun_News/status/1")
    card = cards.archive("https://x.com/Qasioun_News/status/1", user=journalist)
    assert card.pk and card.archived_at is None
    assert "404" in card.fetch_error and card.author_handle == "@Qasioun_News"


def test_when_the_network_is_unreachable_the_card_is_made_from_the_link_for_the_journalist_to_complete(settings, journalist):
    settings.NEWSROOM_CARD_ENDPOINTS = {"youtube": "http://127.0.0.1:9/oembed"}  # nothing listens; not allowed either
    card = cards.archive(YOUTUBE, user=journalist)
    assert card.fetch_error and card.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


def test_a_card_suggests_the_matching_source_by_account_and_cites_it(card_server, journalist, editor, post, act):
    smart = SourceFactory(name="SMART News Agency")
    SourceAccount.objects.create(source=smart, address="https://www.youtube.com/@SMARTNewsAgency")
    card = cards.archive(YOUTUBE, user=journalist)
    assert card.source == smart
    entry = published_with_card(act, editor, post, card)
    assert Citation.objects.filter(entry=entry, source=smart, url=card.url).exists()


def test_a_card_suggests_a_source_by_its_site_for_articles(card_server, journalist):
    now = SourceFactory(name="NOW Lebanon")
    SourceAccount.objects.create(source=now, address=f"127.0.0.1:{card_server.port}")
    assert cards.archive(f"{card_server.base}/page/article/x", user=journalist).source == now


# --- Readers get our HTML and our image -------------------------------------------------------


def test_readers_get_the_card_as_our_html_with_a_click_to_load_nocookie_facade_and_no_third_party_request(
    settings, client, card_server, journalist, editor, post, act
):
    entry = published_with_card(act, editor, post, cards.archive(YOUTUBE, user=journalist))
    html = client.get(entry.get_absolute_url()).content.decode()
    assert 'class="card card--youtube card--video"' in html
    assert 'data-embed="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"' in html
    assert "SMART News Agency" in html and "archived at" in html
    # Nothing on the page loads from a third party before a click: no script, iframe or image from elsewhere.
    assert "<iframe" not in html
    for tag in re.findall(r"<(?:img|script|link|iframe|source)\b[^>]*>", html):
        for url in re.findall(r'(?:src|href|srcset)="([^"]+)"', tag):
            assert url.startswith(("/", "data:", settings.SITE_URL)), tag
    image = re.search(r'<img class="card__image" src="([^"]+)"', html).group(1)
    response = client.get(image)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_a_card_stays_readable_when_the_original_is_deleted_after_archiving(client, card_server, journalist, editor, post, act):
    card = cards.archive("https://x.com/Qasioun_News/status/656880287469297664", user=journalist)
    card_server.gone.add("https://x.com/Qasioun_News/status/656880287469297664")
    card_server.stop()  # and the network is down
    html = client.get(published_with_card(act, editor, post, card).get_absolute_url()).content.decode()
    assert "al-Harra and Tell Mutawwaq" in html
    assert "archived at" in html and 'href="https://x.com/Qasioun_News/status/656880287469297664"' in html


def test_a_placeholder_naming_another_entrys_card_draws_only_a_link(client, editor, post, act):
    other = Card.objects.create(url="https://t.me/smartnewsagency/1", provider="telegram", text="Secret draft words")
    entry = EntryFactory(post=post, body=f'<p>x</p><figure data-card="{other.pk}"><a href="https://t.me/a/1">l</a></figure>')
    act(workflow.publish, entry=entry, user=editor)  # never attached: the card is not this entry's
    html = client.get(entry.get_absolute_url()).content.decode()
    assert "Secret draft words" not in html


def test_attaching_a_card_placed_by_another_entry_copies_it(editor, post):
    card = Card.objects.create(url="https://t.me/smartnewsagency/1", provider="telegram", text="words")
    first = EntryFactory(post=post, body=cards.placeholder(card))
    cards.attach(first)
    second = EntryFactory(post=post, body=cards.placeholder(card))
    cards.attach(second)
    second.refresh_from_db()
    assert Card.objects.get(pk=card.pk).entry == first
    copy = second.cards.get()
    assert copy.pk != card.pk and f'data-card="{copy.pk}"' in second.body


# --- The sanitiser keeps only our placeholder -------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "kept"),
    [
        ('<figure data-card="12"><a href="https://x.com/a">x</a></figure>', 'data-card="12"'),
        ('<figure data-card="12 onload=alert(1)">x</figure>', "<figure>"),
        ('<figure data-card="javascript:alert(1)">x</figure>', "<figure>"),
        ('<figure data-card="12" onclick="alert(1)" class="x">x</figure>', '<figure data-card="12">'),
        ('<div data-card="12">x</div>', "x"),
    ],
)
def test_the_sanitiser_lets_through_a_card_placeholder_with_a_numeric_id_only(stored, kept):
    clean = richtext.sanitize(stored)
    assert kept in clean
    assert "alert" not in clean.replace('href="https://x.com/a"', "") and "onclick" not in clean


# --- Cards come from an explicit save, never from an autosave -----------------------------


def test_a_lone_link_in_the_text_becomes_a_card_on_an_explicit_save(card_server, journalist):
    body, notes = cards.convert_body(
        f"<p>Video:</p><p>{YOUTUBE}</p><p>See https://example.org/ in a sentence.</p>", user=journalist
    )
    card = Card.objects.get()
    assert f'<figure data-card="{card.pk}">' in body and notes == []
    assert "See https://example.org/ in a sentence." in body


def test_pasted_embed_code_becomes_a_card_and_unknown_embed_code_is_refused_with_a_sentence(card_server, journalist):
    tweet = (
        '&lt;blockquote class="twitter-tweet"&gt;&lt;a href="https://twitter.com/Qasioun_News/status/656880287469297664"&gt;'
        "Oct&lt;/a&gt;&lt;/blockquote&gt;"
    )
    body, notes = cards.convert_body(
        f'<p>{tweet}</p><p>&lt;iframe src="https://evil.example/x"&gt;&lt;/iframe&gt;</p>', user=journalist
    )
    assert Card.objects.get().provider == "x"
    assert "data-card=" in body
    assert len(notes) == 1 and "names no post from a network we know" in notes[0]
    assert "Embed code removed" in body  # said in the text too, never silently dropped


def test_saving_an_entry_without_the_explicit_step_makes_no_card(post, journalist):
    # What an autosave does (issue 13): it saves the text; cards are made only by convert_body.
    EntryFactory(post=post, body=f"<p>{YOUTUBE}</p>", created_by=journalist)
    assert not Card.objects.exists()


def test_the_desk_turns_a_pasted_link_into_a_card_when_the_entry_is_saved(client, card_server, journalist, post):
    client.force_login(journalist)
    response = client.post(
        reverse("admin:liveupdates_livepost_desk", args=[post.pk]),
        {"headline": "", "body": f"<p>{YOUTUBE}</p>", "intent": "draft"},
    )
    assert response.status_code == 302
    entry = Entry.objects.get()
    card = entry.cards.get()
    assert f'data-card="{card.pk}"' in entry.body


def test_the_desk_preview_answers_the_card_for_a_pasted_link(client, card_server, journalist):
    client.force_login(journalist)
    response = client.post(reverse("admin:liveupdates_card_preview"), {"text": YOUTUBE})
    data = response.json()
    assert data["ok"] and "SMART News Agency" in data["html"] and f'data-card="{data["id"]}"' in data["placeholder"]


def test_the_desk_preview_refuses_what_it_cannot_understand_with_a_sentence(client, journalist):
    client.force_login(journalist)
    response = client.post(reverse("admin:liveupdates_card_preview"), {"text": "javascript:alert(1)"})
    assert response.status_code == 400 and "Only web addresses" in response.json()["error"]


def test_a_reader_or_anonymous_visitor_cannot_make_cards(client, reader):
    assert client.post(reverse("admin:liveupdates_card_preview"), {"text": YOUTUBE}).status_code == 302
    client.force_login(reader)
    assert client.post(reverse("admin:liveupdates_card_preview"), {"text": YOUTUBE}).status_code in (302, 403)
    assert not Card.objects.exists()


def test_a_journalist_completes_a_card_by_hand_when_the_fetch_failed(client, journalist, settings):
    settings.NEWSROOM_CARD_ENDPOINTS = {}
    settings.NEWSROOM_FETCH_TIMEOUT = 0.5
    card = cards.archive("https://t.me/smartnewsagency/4512", user=journalist)
    client.force_login(journalist)
    url = reverse("admin:liveupdates_card_change", args=[card.pk])
    form = {
        "url": card.url,
        "provider": "telegram",
        "author_name": "SMART News Agency",
        "author_handle": "@smartnewsagency",
        "author_url": "",
        "title": "",
        "text": "Sham Corps fighters moving on Sukayk",
        "published_at_0": "",
        "published_at_1": "",
        "image_alt": "",
        "archived_at_0": "",
        "archived_at_1": "",
        "source": "",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    card.refresh_from_db()
    assert card.text == "Sham Corps fighters moving on Sukayk"


def test_a_journalist_cannot_edit_the_card_of_a_published_entry(client, journalist, editor, post, act):
    card = Card.objects.create(url="https://t.me/smartnewsagency/1", provider="telegram", text="words", created_by=journalist)
    published_with_card(act, editor, post, card)
    client.force_login(journalist)
    response = client.post(reverse("admin:liveupdates_card_change", args=[card.pk]), {"url": card.url, "text": "changed"})
    assert response.status_code == 403
    assert Card.objects.get(pk=card.pk).text == "words"


# --- A withdrawal takes the card off every public surface ----------------------------------


def test_a_withdrawn_entry_takes_its_card_off_the_page_permalink_api_feeds_stream_and_image(
    client, card_server, journalist, editor, post, act
):
    card = cards.archive(YOUTUBE, user=journalist)
    Card.objects.filter(pk=card.pk).update(text="Archived words of the cited video")
    entry = published_with_card(act, editor, post, card)
    image_url = Card.objects.get(pk=card.pk).image_url()
    surfaces = [
        post.get_absolute_url(),
        entry.get_absolute_url(),
        f"/api/entries?post={post.slug}",
        f"/api/entries/{entry.pk}",
        reverse("liveupdates:feed_post", args=[post.slug]),
        reverse("liveupdates:feed_site_atom"),
        reverse("liveupdates:post_updates", args=[post.slug]) + "?after=0",
    ]
    before = {url: client.get(url).content.decode() for url in surfaces}
    assert "Archived words" in before[post.get_absolute_url()] and "Archived words" in before[f"/api/entries/{entry.pk}"]
    assert client.get(image_url).status_code == 200

    act(workflow.withdraw, entry=entry, user=editor, reason="the video was misattributed")
    live.announce_due()
    for url in surfaces:
        response = client.get(url)
        body = response.content.decode()
        assert "Archived words" not in body and f"/cards/{card.pk}/" not in body, url
    assert client.get(image_url).status_code == 404
    for payload in LiveEvent.objects.filter(post=post).order_by("-pk").values_list("payload", flat=True)[:1]:
        assert "Archived words" not in json.dumps(payload)


def test_a_draft_entrys_card_and_image_are_never_public(client, card_server, journalist, post):
    card = cards.archive(YOUTUBE, user=journalist)
    entry = EntryFactory(post=post, body=cards.placeholder(card), created_by=journalist)
    cards.attach(entry)
    card.refresh_from_db()
    assert client.get(card.image_url()).status_code == 404
    assert client.get(f"/api/entries/{entry.pk}").status_code == 404


def test_a_card_edited_by_hand_moves_its_entry_so_pages_show_the_new_words(client, editor, post, act):
    card = Card.objects.create(url="https://t.me/smartnewsagency/1", provider="telegram", text="First words")
    entry = published_with_card(act, editor, post, card)
    assert "First words" in client.get(post.get_absolute_url()).content.decode()
    card = Card.objects.get(pk=card.pk)  # as the admin loads it
    card.text = "Corrected words"
    card.save()
    html = client.get(post.get_absolute_url()).content.decode()
    assert "Corrected words" in html and "First words" not in html
    assert entry.pk


def test_the_api_gives_the_cards_as_data_with_our_own_image_address(client, card_server, journalist, editor, post, act):
    entry = published_with_card(act, editor, post, cards.archive(YOUTUBE, user=journalist))
    data = client.get(f"/api/entries/{entry.pk}").json()
    (card,) = data["cards"]
    assert card["network"] == "youtube" and card["author_name"] == "SMART News Agency"
    assert card["image"].startswith("/cards/") and card["archived_at"]


def test_source_with_only_its_name_is_not_suggested_without_an_account(card_server, journalist):
    Source.objects.create(name="SMART News Agency", slug="smart")
    assert cards.archive(YOUTUBE, user=journalist).source is None


def test_images_that_are_not_images_are_not_kept(card_server, journalist):
    card_server.routes["/images/poster.jpg"] = lambda h: h._send(200, b"<html><script>alert(1)</script>", "image/jpeg")
    card = cards.archive(YOUTUBE, user=journalist)
    assert not card.image and card.archived_at


def test_placeholders_nested_by_the_editor_each_draw_their_card(editor, post, act, client):
    first = Card.objects.create(url="https://t.me/smartnewsagency/1", provider="telegram", text="First card words")
    second = Card.objects.create(url="https://t.me/smartnewsagency/2", provider="telegram", text="Second card words")
    body = f'<figure data-card="{first.pk}"><a href="{first.url}">{first.url}</a>{cards.placeholder(second)}</figure>'
    entry = EntryFactory(post=post, body=body)
    cards.attach(entry)
    act(workflow.publish, entry=entry, user=editor)
    html = client.get(post.get_absolute_url()).content.decode()
    assert "First card words" in html and "Second card words" in html


# --- The archive export ---------------------------------------------------------------------


def test_an_editor_downloads_a_posts_cited_material_as_a_zip_without_withdrawn_entries_cards(
    client, card_server, journalist, editor, post, act
):
    import zipfile

    kept = published_with_card(act, editor, post, cards.archive(YOUTUBE, user=journalist))
    gone = published_with_card(act, editor, post, cards.archive("https://t.me/smartnewsagency/4512", user=journalist))
    act(workflow.withdraw, entry=gone, user=editor, reason="misattributed")
    client.force_login(editor)
    response = client.get(reverse("admin:liveupdates_livepost_cards_export", args=[post.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("cards.json"))
    assert [item["entry"]["id"] for item in manifest["cards"]] == [kept.pk]
    (item,) = manifest["cards"]
    assert item["author_name"] == "SMART News Agency" and item["image"] in archive.namelist()
    with Image.open(io.BytesIO(archive.read(item["image"]))) as image:
        assert image.format == "JPEG"


def test_a_journalist_cannot_download_the_archive(client, journalist, post):
    client.force_login(journalist)
    assert client.get(reverse("admin:liveupdates_livepost_cards_export", args=[post.pk])).status_code == 403


def test_the_desk_shows_a_drafts_card_image_from_the_staff_only_address(client, card_server, journalist, post):
    client.force_login(journalist)
    client.post(
        reverse("admin:liveupdates_livepost_desk", args=[post.pk]),
        {"headline": "", "body": f"<p>{YOUTUBE}</p>", "intent": "draft"},
    )
    card = Card.objects.get()
    staff_image = reverse("admin:liveupdates_card_image", args=[card.pk])
    assert staff_image in client.get(reverse("admin:liveupdates_livepost_desk", args=[post.pk])).content.decode()
    assert client.get(staff_image).status_code == 200
    client.logout()
    assert client.get(staff_image).status_code == 302  # to the login page
    assert client.get(card.image_url()).status_code == 404  # and never from the public address while a draft


def test_a_cited_page_whose_image_address_is_malformed_still_becomes_a_card_without_its_image(card_server, journalist):
    card_server.routes["/page/article/bad-image"] = lambda h: h._send(
        200, page("A page", "Its words", "http://[broken/"), "text/html; charset=utf-8"
    )
    card = cards.archive(f"{card_server.base}/page/article/bad-image", user=journalist)
    assert card.title == "A page" and not card.image


def test_a_cited_address_that_redirects_to_a_malformed_one_still_becomes_a_card_with_the_reason(card_server, journalist):
    card_server.routes["/page/article/bad-redirect"] = redirect("http://[broken/")
    card = cards.archive(f"{card_server.base}/page/article/bad-redirect", user=journalist)
    assert card.pk and card.fetch_error
