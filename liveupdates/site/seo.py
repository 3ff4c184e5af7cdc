"""What search engines and social networks read of a page: its LiveBlogPosting and the JSON-LD block.

One entry's BlogPosting is delivery.structured's (it is cached with the entry's fragment).
"""

from django.conf import settings
from django.utils.safestring import mark_safe

from liveupdates.delivery.structured import absolute, script_json

# Where the entries' BlogPostings go in a page's LiveBlogPosting, as JSON encodes it (NUL never reaches a page).
_UPDATES = "\x00liveBlogUpdate\x00"
_UPDATES_ENCODED = script_json(_UPDATES)


def live_blog_json_ld(post, entries):
    """A live page's LiveBlogPosting as a JSON-LD block, with `entries` as its updates.

    Each entry carries its BlogPosting already encoded (`entry.ld`, kept with its
    fragment): it is spliced in as it is, not decoded and encoded again on every page.
    """
    text = script_json(_live_blog_posting(post, entries))
    return mark_safe(text.replace(_UPDATES_ENCODED, "[" + ",".join(entry.ld for entry in entries) + "]", 1))  # noqa: S308 - both parts escaped by script_json


def _live_blog_posting(post, entries):
    """The live page's LiveBlogPosting, with a marker where the entries' BlogPostings go."""
    data = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "@id": absolute(post.get_absolute_url()),
        "url": absolute(post.get_absolute_url()),
        "headline": post.headline[:110],
        "description": post.summary or post.headline,
        "datePublished": post.published_at.isoformat() if post.published_at else post.coverage_start.isoformat(),
        "dateModified": max([post.updated_at, *[e.modified_at for e in entries]]).isoformat(),
        "coverageStartTime": post.coverage_start.isoformat(),
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": settings.SITE_URL + "/"},
        "liveBlogUpdate": _UPDATES,
    }
    points = post.known_points
    if points:
        data["abstract"] = "\n".join(points)  # "What we know", one point a line
    if not post.is_live and post.coverage_end:
        data["coverageEndTime"] = post.coverage_end.isoformat()
    if post.lead_image:
        data["image"] = absolute(post.lead_image.url)
    return data


def json_ld(data):
    """Serialise for a <script type="application/ld+json"> block: no way out of the script element."""
    return mark_safe(script_json(data))  # noqa: S308 - every character that could close the element is escaped
