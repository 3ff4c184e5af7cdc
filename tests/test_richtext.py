"""Stored rich text is reduced to the allowlist on every save, whoever sent it."""

import pytest

from liveupdates import richtext
from liveupdates.models import Entry

from .factories import EntryFactory

pytestmark = pytest.mark.django_db

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src="/media/x.jpg" onerror="alert(1)" alt="x">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<svg onload="alert(1)"></svg>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<iframe src="https://evil.example/embed/x"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<object data="javascript:alert(1)"></object>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_dangerous_markup_is_removed_on_save(attack):
    entry = EntryFactory(body=f"<p>Before</p>{attack}<p>After</p>")
    stored = Entry.objects.get(pk=entry.pk).body
    lowered = stored.lower()
    for bad in ("<script", "onerror", "onload", "javascript:", "<svg", "style=", "srcdoc", "<object", "<form", "data:text"):
        assert bad not in lowered, (attack, stored)
    assert "Before" in stored  # the editorial text around an attack survives


def test_editorial_markup_survives():
    html = (
        '<p><strong>Bold</strong> <em>it</em> <a href="https://example.org/x" title="t">link</a></p>'
        "<blockquote><p>Quote</p></blockquote><ul><li>one</li></ul>"
        '<figure><img src="/media/uploads/a.jpg" alt="Smoke" width="10" height="10"><figcaption>Credit</figcaption></figure>'
    )
    cleaned = richtext.sanitize(html)
    for kept in (
        "<strong>Bold</strong>",
        "<em>it</em>",
        'href="https://example.org/x"',
        "<blockquote>",
        "<li>one</li>",
        'src="/media/uploads/a.jpg"',
        'alt="Smoke"',
        "<figcaption>Credit</figcaption>",
    ):
        assert kept in cleaned
    assert 'rel="noopener noreferrer nofollow"' in cleaned


def test_youtube_embeds_are_rewritten_to_the_privacy_enhanced_player():
    cleaned = richtext.sanitize('<iframe src="https://www.youtube.com/embed/abcDEF12345" title="Su-34"></iframe>')
    assert 'src="https://www.youtube-nocookie.com/embed/abcDEF12345"' in cleaned


@pytest.mark.parametrize(
    "src",
    [
        "https://evil.example/embed/abcdef",
        "http://www.youtube.com/embed/abcDEF12345",
        "https://www.youtube.com/watch?v=abc",
        "//www.youtube.com/embed/abcDEF12345",
    ],
)
def test_other_embeds_are_dropped_entirely(src):
    assert "<iframe" not in richtext.sanitize(f'<p>x</p><iframe src="{src}"></iframe>')


@pytest.mark.parametrize("src", ["https://tracker.example/pixel.gif", "http://example.org/a.jpg", "/media/../etc/passwd"])
def test_images_from_outside_our_uploads_are_dropped(src):
    assert "<img" not in richtext.sanitize(f'<img src="{src}" alt="x">')


def test_images_without_alt_are_found():
    assert richtext.images_without_alt(
        '<img src="/media/a.jpg"><img src="/media/b.jpg" alt=" "><img src="/media/c.jpg" alt="ok">'
    ) == [
        '<img src="/media/a.jpg">',
        '<img src="/media/b.jpg" alt=" ">',
    ]


def test_excerpt_is_plain_text():
    assert richtext.excerpt("<p>Russian <b>jets</b> &amp; artillery</p>", words=3) == "Russian jets &…"


def test_videos_render_as_click_to_load_facades_with_no_third_party_request():
    html = richtext.render(
        '<p>Watch:</p><iframe src="https://www.youtube.com/embed/abcDEF12345" title="Su-34 over al-Harra"></iframe>'
    )
    assert "<iframe" not in html
    assert 'data-embed="https://www.youtube-nocookie.com/embed/abcDEF12345?autoplay=1"' in html
    assert '<a class="video-facade__link" href="https://www.youtube-nocookie.com/embed/abcDEF12345"' in html
    assert "Su-34 over al-Harra" in html


def test_a_video_title_cannot_inject_markup_into_the_facade():
    html = richtext.render(
        '<iframe src="https://www.youtube.com/embed/abcDEF12345" title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>'
    )
    assert "<script" not in html
