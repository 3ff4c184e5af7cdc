"""What a pasted link or embed code cites: the network, the post's own address and its id.

Pure functions, no network: `recognise(text)` reads a URL or a network's embed
code (X's blockquote + script, Telegram's widget script, Instagram's and
TikTok's blockquotes, YouTube, Vimeo and Facebook iframes, Bluesky's and
Mastodon's embeds) and returns one `Link`, or raises `NotRecognised` with a
sentence saying why, so nothing pasted is ever dropped without a word.
Tracking parameters (utm_*, si, s, t, igsh, fbclid...) never reach the
canonical address, so one post pasted twice is one post.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from django.utils.translation import gettext as _

MAX_LENGTH = 4000


class Provider:
    YOUTUBE = "youtube"
    X = "x"
    TELEGRAM = "telegram"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    TIKTOK = "tiktok"
    VIMEO = "vimeo"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    ARTICLE = "article"


NAMES = {
    Provider.YOUTUBE: "YouTube",
    Provider.X: "X",
    Provider.TELEGRAM: "Telegram",
    Provider.INSTAGRAM: "Instagram",
    Provider.FACEBOOK: "Facebook",
    Provider.TIKTOK: "TikTok",
    Provider.VIMEO: "Vimeo",
    Provider.BLUESKY: "Bluesky",
    Provider.MASTODON: "Mastodon",
    Provider.ARTICLE: "Web page",
}


class NotRecognised(ValueError):
    """The text is not a link or embed code we can turn into a card; the message says why."""


@dataclass(frozen=True)
class Link:
    provider: str
    url: str  # the post's own address, without tracking parameters
    canonical_id: str  # the network's id of the post ("dQw4w9WgXcQ", "SMARTNewsAgency/123")
    is_video: bool = False
    handle: str = ""  # the account, when the address names it ("@SMARTNewsAgency")

    @property
    def provider_name(self) -> str:
        return NAMES[self.provider]


def _host(parts):
    return (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.").removeprefix("mobile.")


_YT_ID = r"[A-Za-z0-9_-]{11}"
_YT_PATH = re.compile(rf"^/(?:shorts|live|embed|v|e)/({_YT_ID})(?:[/?#]|$)")
_X_PATH = re.compile(r"^/([A-Za-z0-9_]{1,15})/status(?:es)?/(\d{1,25})(?:/|$)")
_X_WEB_PATH = re.compile(r"^/i/(?:web/)?status/(\d{1,25})(?:/|$)")
_TG_PATH = re.compile(r"^/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})/(\d{1,12})/?$")
_IG_PATH = re.compile(r"^/(?:[A-Za-z0-9_.]{1,30}/)?(p|reel|reels|tv)/([A-Za-z0-9_-]{5,40})(?:/|$)")
_FB_POST = re.compile(r"^/([A-Za-z0-9.\-]{1,80})/(posts|videos|photos)/(?:[^/]+/)?([A-Za-z0-9]{5,40})/?$")
_FB_REEL = re.compile(r"^/(?:reel|share/[prv])/([A-Za-z0-9]{5,40})/?$")
_TT_PATH = re.compile(r"^/@([A-Za-z0-9_.]{1,40})/(video|photo)/(\d{5,25})/?$")
_TT_EMBED = re.compile(r"^/embed(?:/v2)?/(\d{5,25})/?$")
_TT_SHORT = re.compile(r"^/(?:t/)?([A-Za-z0-9]{5,20})/?$")
_VIMEO_PATH = re.compile(r"^/(?:channels/[\w-]+/|groups/[\w-]+/videos/|video/)?(\d{4,12})(?:/[0-9a-f]{6,20})?/?$")
_BSKY_PATH = re.compile(r"^/profile/([A-Za-z0-9.:-]{3,253})/post/([a-z0-9]{5,20})/?$")
_MASTO_PATH = re.compile(r"^/@([A-Za-z0-9_]{1,30})(?:@[A-Za-z0-9.-]+)?/(\d{1,25})(?:/embed)?/?$")
_MASTO_USERS = re.compile(r"^/users/([A-Za-z0-9_]{1,30})/statuses/(\d{1,25})/?$")

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|mc_[ce]id|igsh|igshid|si|ref|ref_src|ref_url|__cft__.*|__tn__)$", re.I)


def _youtube(parts, host):
    if host == "youtu.be":
        match = re.match(rf"^/({_YT_ID})/?$", parts.path)
        return match and match.group(1)
    if host in ("youtube.com", "music.youtube.com", "youtube-nocookie.com"):
        if parts.path in ("/watch", "/watch/"):
            found = parse_qs(parts.query).get("v", [""])[0]
            return found if re.fullmatch(_YT_ID, found) else None
        match = _YT_PATH.match(parts.path)
        return match and match.group(1)
    return None


def _clean_query(parts, keep=()):
    pairs = [(k, v) for k, values in parse_qs(parts.query).items() for v in values if k in keep]
    return ("?" + urlencode(pairs)) if pairs else ""


def _url_link(text: str) -> Link:
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise NotRecognised(_("Only web addresses (starting with https://) can become a card; this is not one."))
    if parts.username or parts.password:
        raise NotRecognised(_("This address carries a user name or password; paste the post's public address instead."))
    host = _host(parts)
    if not host or "." not in host and host != "localhost" and not host.replace(".", "").isdigit():
        raise NotRecognised(_("This address has no site name in it; copy the whole address from the browser."))
    path = unquote(parts.path) or "/"

    youtube_hosts = ("youtube.com", "youtu.be", "music.youtube.com", "youtube-nocookie.com")
    if host in youtube_hosts:
        video = _youtube(parts, host)
        if not video:
            raise NotRecognised(
                _("This YouTube address is not a single video; open the video and copy its address (…/watch?v=…).")
            )
        return Link(Provider.YOUTUBE, f"https://www.youtube.com/watch?v={video}", video, is_video=True)

    if host in ("x.com", "twitter.com"):
        match = _X_PATH.match(path)
        if match:
            user, status = match.groups()
            return Link(Provider.X, f"https://x.com/{user}/status/{status}", status, handle=f"@{user}")
        match = _X_WEB_PATH.match(path)
        if match:
            return Link(Provider.X, f"https://x.com/i/status/{match.group(1)}", match.group(1))
        raise NotRecognised(_("This X address is not a single post; copy the post's own address (…/status/123…)."))

    if host in ("t.me", "telegram.me"):
        match = _TG_PATH.match(path)
        if not match:
            raise NotRecognised(_("This Telegram address is not a public channel's post; copy a post's link (t.me/channel/123)."))
        channel, number = match.groups()
        return Link(Provider.TELEGRAM, f"https://t.me/{channel}/{number}", f"{channel}/{number}", handle=f"@{channel}")

    if host in ("instagram.com", "instagr.am"):
        match = _IG_PATH.match(path)
        if not match:
            raise NotRecognised(_("This Instagram address is not a post or reel; copy the post's own link (…/p/…)."))
        kind, code = match.groups()
        kind = "reel" if kind == "reels" else kind
        return Link(Provider.INSTAGRAM, f"https://www.instagram.com/{kind}/{code}/", code, is_video=kind in ("reel", "tv"))

    if host in ("facebook.com", "fb.watch", "fb.com", "web.facebook.com"):
        return _facebook(parts, host, path)

    if host in ("tiktok.com", "vm.tiktok.com", "vt.tiktok.com"):
        match = _TT_PATH.match(path)
        if match and host == "tiktok.com":
            user, kind, number = match.groups()
            return Link(
                Provider.TIKTOK,
                f"https://www.tiktok.com/@{user}/{kind}/{number}",
                number,
                is_video=kind == "video",
                handle=f"@{user}",
            )
        match = _TT_EMBED.match(path)
        if match and host == "tiktok.com":
            return Link(Provider.TIKTOK, f"https://www.tiktok.com/embed/v2/{match.group(1)}", match.group(1), is_video=True)
        match = _TT_SHORT.match(path)
        if match and host != "tiktok.com":
            return Link(Provider.TIKTOK, f"https://{host}/{match.group(1)}/", match.group(1), is_video=True)
        raise NotRecognised(_("This TikTok address is not a single video; copy the video's share link."))

    if host in ("vimeo.com", "player.vimeo.com"):
        match = _VIMEO_PATH.match(path)
        if not match:
            raise NotRecognised(_("This Vimeo address is not a single video; copy the video's address (vimeo.com/123…)."))
        return Link(Provider.VIMEO, f"https://vimeo.com/{match.group(1)}", match.group(1), is_video=True)

    if host in ("bsky.app", "staging.bsky.app"):
        match = _BSKY_PATH.match(path)
        if not match:
            raise NotRecognised(_("This Bluesky address is not a single post; copy the post's link (…/post/…)."))
        actor, rkey = match.groups()
        handle = "" if actor.startswith("did:") else f"@{actor}"
        return Link(Provider.BLUESKY, f"https://bsky.app/profile/{actor}/post/{rkey}", f"{actor}/{rkey}", handle=handle)

    for pattern in (_MASTO_PATH, _MASTO_USERS):
        match = pattern.match(path)
        if match:
            user, number = match.groups()
            origin = f"{scheme}://{parts.netloc.lower()}"
            return Link(
                Provider.MASTODON, f"{origin}/@{user}/{number}", f"{parts.hostname}/{number}", handle=f"@{user}@{parts.hostname}"
            )

    query = _clean_query(parts, keep=[k for k in parse_qs(parts.query) if not _TRACKING.match(k)])
    url = f"{scheme}://{parts.netloc.lower()}{parts.path or '/'}{query}"
    return Link(Provider.ARTICLE, url, url)


def _facebook(parts, host, path):
    if host == "fb.watch":
        code = path.strip("/")
        if re.fullmatch(r"[A-Za-z0-9_-]{4,20}", code):
            return Link(Provider.FACEBOOK, f"https://fb.watch/{code}/", code, is_video=True)
    if path.rstrip("/") in ("/plugins/post.php", "/plugins/video.php"):
        inner = parse_qs(parts.query).get("href", [""])[0]
        if inner and _host(urlsplit(inner)) in ("facebook.com", "web.facebook.com"):
            return _facebook(urlsplit(inner), _host(urlsplit(inner)), unquote(urlsplit(inner).path))
    query = parse_qs(parts.query)
    if path.rstrip("/") == "/watch" and re.fullmatch(r"\d{5,25}", query.get("v", [""])[0]):
        video = query["v"][0]
        return Link(Provider.FACEBOOK, f"https://www.facebook.com/watch/?v={video}", video, is_video=True)
    if path.rstrip("/") in ("/permalink.php", "/story.php") and query.get("story_fbid") and query.get("id"):
        story, page = query["story_fbid"][0], query["id"][0]
        if re.fullmatch(r"[A-Za-z0-9]{5,40}", story) and re.fullmatch(r"\d{1,25}", page):
            return Link(
                Provider.FACEBOOK, f"https://www.facebook.com/permalink.php?story_fbid={story}&id={page}", f"{page}/{story}"
            )
    match = _FB_POST.match(path)
    if match:
        page, kind, number = match.groups()
        return Link(
            Provider.FACEBOOK,
            f"https://www.facebook.com/{page}/{kind}/{number}",
            f"{page}/{number}",
            is_video=kind == "videos",
            handle=page,
        )
    match = _FB_REEL.match(path)
    if match:
        return Link(Provider.FACEBOOK, f"https://www.facebook.com/reel/{match.group(1)}", match.group(1), is_video=True)
    raise NotRecognised(_("This Facebook address is not a single post or video; copy the post's own link (its time is one)."))


# --- Embed code -----------------------------------------------------------------------

_ATTRS = {
    "data-telegram-post": lambda value: f"https://t.me/{value}",
    "data-instgrm-permalink": lambda value: value,
    "cite": lambda value: value,
    "data-href": lambda value: value,
    "src": lambda value: value,
    "href": lambda value: value,
}
_ATTR = re.compile(
    r"""\s(data-telegram-post|data-instgrm-permalink|cite|data-href|src|href)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I
)
_AT_URI = re.compile(r"at://(did:[a-z0-9:.]+)/app\.bsky\.feed\.post/([a-z0-9]{5,20})")


def _from_embed(text: str) -> Link:
    candidates = []
    for name, double, single in _ATTR.findall(text):
        value = unescape(double or single).strip()
        if value.startswith("//"):
            value = "https:" + value
        candidates.append(_ATTRS[name.lower()](value))
    for did, rkey in _AT_URI.findall(text):
        candidates.append(f"https://bsky.app/profile/{did}/post/{rkey}")
    for candidate in candidates:
        if urlsplit(candidate).path.endswith(".js"):
            continue  # the network's script, not the post
        try:
            link = _url_link(candidate)
        except NotRecognised:
            continue
        if link.provider not in (Provider.ARTICLE,):
            return link
    raise NotRecognised(
        _(
            "This embed code names no post from a network we know (YouTube, X, Telegram, Instagram, Facebook, "
            "TikTok, Vimeo, Bluesky, Mastodon), so it was not used. Paste the post's own link instead."
        )
    )


def recognise(text: str) -> Link:
    """The post `text` (a URL, or a network's embed code) cites, or NotRecognised with the reason."""
    text = (text or "").strip()
    if not text:
        raise NotRecognised(_("Paste a link to a post, video or article."))
    if len(text) > MAX_LENGTH:
        raise NotRecognised(_("This is too long to be a link or an embed code; paste the post's own link."))
    try:
        if "<" in text:
            return _from_embed(text)
        if any(ch.isspace() for ch in text):
            raise NotRecognised(_("A card needs a link alone; this text has spaces in it. Paste just the address."))
        if "://" not in text and re.match(r"^(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)+/", text, re.I):
            text = "https://" + text  # "youtu.be/…" as people type it
        return _url_link(text)
    except NotRecognised:
        raise
    except ValueError as error:  # urlsplit: "http://[" and the like
        raise NotRecognised(_("This address is malformed; copy the whole address again from the browser.")) from error
