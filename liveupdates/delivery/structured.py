"""What search engines read about one entry: its schema.org BlogPosting, built from published content only.

Kept with the entry's fragment (delivery.fragments), so a page lists its
entries' structured data without loading their authors again. The page-level
LiveBlogPosting is site.seo's.
"""

import json

from django.conf import settings
from django.urls import reverse

from liveupdates import richtext


def absolute(path):
    """The public, absolute URL of a site path (NEWSROOM_SITE_URL, never the request's Host header)."""
    path = str(path)
    return path if "://" in path else settings.SITE_URL + path


def script_json(data):
    """`data` as JSON for a <script type="application/ld+json"> block: no character that could close the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


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
    if entry.verification:
        data["creativeWorkStatus"] = entry.verification_label
        data["publishingPrinciples"] = absolute(reverse("liveupdates:verification"))
    citations = [_citation(citation) for citation in entry.citations.all()]
    if citations:
        data["citation"] = citations
    based_on = [_card(card) for card in entry.cards.all()]
    if based_on:
        data["isBasedOn"] = based_on
    return data


def _organisation(source):
    if not source.reviewed:  # no page until an editor reviews it (SourceQuerySet.public): named only
        return {"@type": "Organization", "name": source.name}
    return {"@type": "Organization", "name": source.name, "url": absolute(source.get_absolute_url())}


def _citation(citation):
    """A cited source as a CreativeWork it published; "NOW Lebanon, citing Alaraby Aljadeed" nests the second in isBasedOn."""
    work: dict[str, object] = {"@type": "CreativeWork", "publisher": _organisation(citation.source)}
    if citation.public_url:
        work["url"] = citation.public_url
    if citation.citing_id:
        work["isBasedOn"] = {"@type": "CreativeWork", "publisher": _organisation(citation.citing)}
    return work


def _card(card):
    """An archived post the entry cites: the original's address, who posted it, when, and our label."""
    work: dict[str, object] = {
        "@type": "VideoObject" if card.is_video else "SocialMediaPosting" if card.provider != "article" else "Article"
    }
    if card.public_url:
        work["url"] = card.public_url
    if card.title or card.text:
        work["headline"] = (card.title or card.text)[:110]
    if card.author_name:
        work["author"] = {"@type": "Person" if card.provider != "article" else "Organization", "name": card.author_name}
    if card.published_at:
        work["datePublished"] = card.published_at.isoformat()
    if card.verification:
        work["creativeWorkStatus"] = card.verification_label
    return work
