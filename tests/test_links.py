"""The link recogniser: every network's URL forms and embed code become one card; anything else is refused with a sentence."""

import pytest

from liveupdates.links import NotRecognised, Provider, recognise

YT = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"

URLS = [
    # YouTube: watch, youtu.be, shorts, live, mobile, embed, with tracking parameters.
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", Provider.YOUTUBE, YT),
    ("https://youtube.com/watch?v=dQw4w9WgXcQ&feature=share&t=42s", Provider.YOUTUBE, YT),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&pp=ygU", Provider.YOUTUBE, YT),
    ("https://youtu.be/dQw4w9WgXcQ?si=AbCdEfGh12345678", Provider.YOUTUBE, YT),
    ("youtu.be/dQw4w9WgXcQ", Provider.YOUTUBE, YT),
    ("https://www.youtube.com/shorts/dQw4w9WgXcQ?feature=share", Provider.YOUTUBE, YT),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?si=x", Provider.YOUTUBE, YT),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", Provider.YOUTUBE, YT),
    # X / Twitter
    (
        "https://twitter.com/Qasioun_News/status/656880287469297664",
        Provider.X,
        "https://x.com/Qasioun_News/status/656880287469297664",
    ),
    (
        "https://x.com/Qasioun_News/status/656880287469297664?s=20&t=abcDEF",
        Provider.X,
        "https://x.com/Qasioun_News/status/656880287469297664",
    ),
    (
        "https://mobile.twitter.com/Qasioun_News/status/656880287469297664/photo/1",
        Provider.X,
        "https://x.com/Qasioun_News/status/656880287469297664",
    ),
    ("https://x.com/i/web/status/656880287469297664", Provider.X, "https://x.com/i/status/656880287469297664"),
    # Telegram public posts
    ("https://t.me/smartnewsagency/4512", Provider.TELEGRAM, "https://t.me/smartnewsagency/4512"),
    ("https://t.me/s/smartnewsagency/4512", Provider.TELEGRAM, "https://t.me/smartnewsagency/4512"),
    ("https://telegram.me/smartnewsagency/4512?single", Provider.TELEGRAM, "https://t.me/smartnewsagency/4512"),
    ("t.me/smartnewsagency/4512", Provider.TELEGRAM, "https://t.me/smartnewsagency/4512"),
    # Instagram
    ("https://www.instagram.com/p/CxYz12AbCdE/", Provider.INSTAGRAM, "https://www.instagram.com/p/CxYz12AbCdE/"),
    (
        "https://instagram.com/p/CxYz12AbCdE/?igsh=MWQ1ZGUxMzBkMA==",
        Provider.INSTAGRAM,
        "https://www.instagram.com/p/CxYz12AbCdE/",
    ),
    (
        "https://www.instagram.com/reel/CxYz12AbCdE/?utm_source=ig_web_copy_link",
        Provider.INSTAGRAM,
        "https://www.instagram.com/reel/CxYz12AbCdE/",
    ),
    ("https://www.instagram.com/syriainstitute/p/CxYz12AbCdE/", Provider.INSTAGRAM, "https://www.instagram.com/p/CxYz12AbCdE/"),
    # Facebook posts and videos
    (
        "https://www.facebook.com/LCCSy/posts/pfbid02AbCdEf12345?__cft__[0]=x",
        Provider.FACEBOOK,
        "https://www.facebook.com/LCCSy/posts/pfbid02AbCdEf12345",
    ),
    (
        "https://www.facebook.com/LCCSy/videos/1234567890123/?fbclid=IwAR0",
        Provider.FACEBOOK,
        "https://www.facebook.com/LCCSy/videos/1234567890123",
    ),
    (
        "https://www.facebook.com/watch/?v=1234567890123&ref=sharing",
        Provider.FACEBOOK,
        "https://www.facebook.com/watch/?v=1234567890123",
    ),
    (
        "https://m.facebook.com/permalink.php?story_fbid=1234567890&id=100064",
        Provider.FACEBOOK,
        "https://www.facebook.com/permalink.php?story_fbid=1234567890&id=100064",
    ),
    ("https://fb.watch/abcDEF123/", Provider.FACEBOOK, "https://fb.watch/abcDEF123/"),
    # TikTok
    (
        "https://www.tiktok.com/@smartnews/video/7291234567890123456",
        Provider.TIKTOK,
        "https://www.tiktok.com/@smartnews/video/7291234567890123456",
    ),
    (
        "https://www.tiktok.com/@smartnews/video/7291234567890123456?is_from_webapp=1&sender_device=pc",
        Provider.TIKTOK,
        "https://www.tiktok.com/@smartnews/video/7291234567890123456",
    ),
    ("https://vm.tiktok.com/ZMabc123/", Provider.TIKTOK, "https://vm.tiktok.com/ZMabc123/"),
    # Vimeo
    ("https://vimeo.com/143123456", Provider.VIMEO, "https://vimeo.com/143123456"),
    ("https://vimeo.com/channels/staffpicks/143123456?share=copy", Provider.VIMEO, "https://vimeo.com/143123456"),
    ("https://player.vimeo.com/video/143123456?h=abc123def0", Provider.VIMEO, "https://vimeo.com/143123456"),
    # Bluesky
    (
        "https://bsky.app/profile/syriainstitute.org/post/3kxyzabc2de2f",
        Provider.BLUESKY,
        "https://bsky.app/profile/syriainstitute.org/post/3kxyzabc2de2f",
    ),
    (
        "https://bsky.app/profile/syriainstitute.org/post/3kxyzabc2de2f?ref_src=embed",
        Provider.BLUESKY,
        "https://bsky.app/profile/syriainstitute.org/post/3kxyzabc2de2f",
    ),
    (
        "https://bsky.app/profile/did:plc:abc123xyz/post/3kxyzabc2de2f",
        Provider.BLUESKY,
        "https://bsky.app/profile/did:plc:abc123xyz/post/3kxyzabc2de2f",
    ),
    # Mastodon (any server)
    ("https://mastodon.social/@isw/111222333444555666", Provider.MASTODON, "https://mastodon.social/@isw/111222333444555666"),
    (
        "https://journa.host/@isw/111222333444555666?utm_source=x",
        Provider.MASTODON,
        "https://journa.host/@isw/111222333444555666",
    ),
    (
        "https://mastodon.social/users/isw/statuses/111222333444555666",
        Provider.MASTODON,
        "https://mastodon.social/@isw/111222333444555666",
    ),
    # Any article
    (
        "https://now.mmedia.me/lb/en/NewsReports/566123?utm_source=twitter&utm_medium=social",
        Provider.ARTICLE,
        "https://now.mmedia.me/lb/en/NewsReports/566123",
    ),
    (
        "https://www.understandingwar.org/backgrounder/russian-airstrikes-syria?fbclid=abc&page=2",
        Provider.ARTICLE,
        "https://www.understandingwar.org/backgrounder/russian-airstrikes-syria?page=2",
    ),
    (
        "http://www.alaraby.co.uk/politics/2015/10/21/russia-asks-lebanon",
        Provider.ARTICLE,
        "http://www.alaraby.co.uk/politics/2015/10/21/russia-asks-lebanon",
    ),
]


@pytest.mark.parametrize(("text", "provider", "url"), URLS)
def test_a_pasted_url_is_recognised_with_its_network_and_its_own_address(text, provider, url):
    link = recognise(text)
    assert (link.provider, link.url) == (provider, url)


def test_each_network_has_at_least_three_url_forms_in_the_table():
    for provider in (
        Provider.YOUTUBE,
        Provider.X,
        Provider.TELEGRAM,
        Provider.INSTAGRAM,
        Provider.FACEBOOK,
        Provider.TIKTOK,
        Provider.VIMEO,
        Provider.BLUESKY,
        Provider.MASTODON,
        Provider.ARTICLE,
    ):
        assert sum(1 for _text, found, _url in URLS if found == provider) >= 3, provider


EMBEDS = [
    (
        '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Russian strikes on al-Harra <a href="https://t.co/x">pic.twitter.com/x</a></p>'
        '&mdash; Qasioun (@Qasioun_News) <a href="https://twitter.com/Qasioun_News/status/656880287469297664?ref_src=twsrc%5Etfw">October 21, 2015</a></blockquote>'
        ' <script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>',
        Provider.X,
        "https://x.com/Qasioun_News/status/656880287469297664",
    ),
    (
        '<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-post="smartnewsagency/4512" data-width="100%"></script>',
        Provider.TELEGRAM,
        "https://t.me/smartnewsagency/4512",
    ),
    (
        '<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-permalink="https://www.instagram.com/p/CxYz12AbCdE/?utm_source=ig_embed&amp;utm_campaign=loading" data-instgrm-version="14"><div><a href="https://www.instagram.com/p/CxYz12AbCdE/?utm_source=ig_embed">View this post</a></div></blockquote> <script async src="//www.instagram.com/embed.js"></script>',
        Provider.INSTAGRAM,
        "https://www.instagram.com/p/CxYz12AbCdE/",
    ),
    (
        '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ?si=abc" title="YouTube video player" frameborder="0" allowfullscreen></iframe>',
        Provider.YOUTUBE,
        YT,
    ),
    (
        '<iframe src="https://www.facebook.com/plugins/video.php?height=314&href=https%3A%2F%2Fwww.facebook.com%2FLCCSy%2Fvideos%2F1234567890123%2F&show_text=false" width="560" height="314"></iframe>',
        Provider.FACEBOOK,
        "https://www.facebook.com/LCCSy/videos/1234567890123",
    ),
    (
        '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@smartnews/video/7291234567890123456" data-video-id="7291234567890123456"><section></section></blockquote> <script async src="https://www.tiktok.com/embed.js"></script>',
        Provider.TIKTOK,
        "https://www.tiktok.com/@smartnews/video/7291234567890123456",
    ),
    (
        '<iframe src="https://player.vimeo.com/video/143123456?h=abc123def0&badge=0" width="640" height="360" allow="autoplay; fullscreen"></iframe>',
        Provider.VIMEO,
        "https://vimeo.com/143123456",
    ),
    (
        '<blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:abc123xyz/app.bsky.feed.post/3kxyzabc2de2f" data-bluesky-cid="bafy"><p lang="en">Cluster munitions</p>&mdash; Syria Institute (<a href="https://bsky.app/profile/did:plc:abc123xyz?ref_src=embed">@syriainstitute.org</a>)</blockquote><script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>',
        Provider.BLUESKY,
        "https://bsky.app/profile/did:plc:abc123xyz/post/3kxyzabc2de2f",
    ),
    (
        '<iframe src="https://mastodon.social/@isw/111222333444555666/embed" class="mastodon-embed" style="max-width: 100%; border: 0" width="400" allowfullscreen="allowfullscreen"></iframe><script src="https://mastodon.social/embed.js" async="async"></script>',
        Provider.MASTODON,
        "https://mastodon.social/@isw/111222333444555666",
    ),
]


@pytest.mark.parametrize(("code", "provider", "url"), EMBEDS)
def test_pasted_embed_code_becomes_the_same_card_as_the_posts_link(code, provider, url):
    link = recognise(code)
    assert (link.provider, link.url) == (provider, url)


REFUSED = [
    ("", "Paste a link"),
    ("javascript:alert(1)", "Only web addresses"),
    ("ftp://example.org/file", "Only web addresses"),
    ("https://user:secret@example.org/", "user name or password"),
    ("the army entered Sukayk", "spaces"),
    ("https://www.youtube.com/feed/trending", "not a single video"),
    ("https://www.youtube.com/watch?v=short", "not a single video"),
    ("https://x.com/Qasioun_News", "not a single post"),
    ("https://t.me/smartnewsagency", "not a public channel's post"),
    ("https://www.instagram.com/syriainstitute/", "not a post or reel"),
    ("https://www.facebook.com/LCCSy", "not a single post or video"),
    ("https://www.tiktok.com/@smartnews", "not a single video"),
    ("https://vimeo.com/staffpicks", "not a single video"),
    ("https://bsky.app/profile/syriainstitute.org", "not a single post"),
    ('<blockquote class="something-else"><p>hello</p></blockquote>', "names no post from a network we know"),
    ('<script src="https://platform.twitter.com/widgets.js"></script>', "names no post from a network we know"),
    ('<iframe src="https://evil.example/embed"></iframe>', "names no post from a network we know"),
    ("https://" + "a" * 5000, "too long"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_anything_not_understood_is_refused_with_a_sentence_saying_why(text, reason):
    with pytest.raises(NotRecognised) as refused:
        recognise(text)
    assert reason in str(refused.value)
    assert str(refused.value).endswith(".")


def test_the_handle_comes_from_the_address_where_the_network_puts_it_there():
    assert recognise("https://t.me/smartnewsagency/4512").handle == "@smartnewsagency"
    assert recognise("https://x.com/Qasioun_News/status/656880287469297664").handle == "@Qasioun_News"
    assert recognise("https://mastodon.social/@isw/111222333444555666").handle == "@isw@mastodon.social"


def test_videos_are_marked_as_videos_and_posts_are_not():
    assert recognise(YT).is_video
    assert recognise("https://vimeo.com/143123456").is_video
    assert not recognise("https://t.me/smartnewsagency/4512").is_video


@pytest.mark.parametrize(
    "text",
    [
        "http://[",
        "https://[::1/post",
        "https://example.org]/",
        '<iframe src="https://[/embed"></iframe>',
        "https://www.facebook.com/plugins/post.php?href=https://[",
    ],
)
def test_a_malformed_address_is_refused_with_a_sentence_never_an_error_page(text):
    with pytest.raises(NotRecognised) as refused:
        recognise(text)
    assert str(refused.value).endswith(".")
