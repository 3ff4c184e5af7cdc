"""What search engines read about one entry: its schema.org BlogPosting, built from published content only.

Kept with the entry's fragment (delivery.fragments), so a page lists its
entries' structured data without loading their authors again. The page-level
LiveBlogPosting is site.seo's.
"""

from django.conf import settings

from liveupdates import richtext


def absolute(path):
    """The public, absolute URL of a site path (NEWSROOM_SITE_URL, never the request's Host header)."""
    path = str(path)
    return path if "://" in path else settings.SITE_URL + path


def _person(author):
    return {"@type": "Person", "name": author.name, "url": absolute(author.get_absolute_url())}


def blog_posting(entry):
    data = {
        "@type": "BlogPosting",
        "@id": absolute(entry.get_absolute_url()),
        "url": absolute(entry.get_absolute_url()),
        "headline": (entry.headline or richtext.excerpt(entry.body, words=14))[:110],
        "datePublished": entry.published_at.isoformat(),
        "dateModified": entry.modified_at.isoformat(),
        "articleBody": richtext.plain_text(entry.body),
    }
    authors = [_person(author) for author in entry.authors.all()]
    data["author"] = authors or {"@type": "Organization", "name": settings.SITE_NAME}
    return data
