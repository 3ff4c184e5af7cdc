"""RSS 2.0 and Atom feeds: the whole site, and each post, column, author, place, source and tag.

Every feed starts from Entry.objects.published(); bodies are sanitised again on the way out.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, format_html
from django.utils.translation import gettext as _

from liveupdates import richtext
from liveupdates.models import Author, Column, Entry, LivePost, Place, Source, public_tags

FEED_LENGTH = 50


class EntryFeed(Feed):
    """The site's newest entries; subclasses narrow it to one subject."""

    description_template = None

    def get_object(self, request, slug=None):
        return None

    def entries(self, obj):
        return Entry.objects.published()

    def title(self, obj):

        return settings.SITE_NAME

    def link(self, obj):
        return obj.get_absolute_url() if obj is not None else "/"

    def summary_text(self, obj):
        return _("Live coverage, updated as it happens.")

    def description(self, obj):
        # RSS readers render a channel description as HTML: plain text is escaped into it.
        # (Atom says type="text" itself; its subtitle gets the text as it is.)
        return escape(self.summary_text(obj))

    def items(self, obj):
        return list(self.entries(obj).for_display().newest_first()[:FEED_LENGTH])

    def item_title(self, entry):
        return entry.headline or richtext.excerpt(entry.body, words=14)

    def item_description(self, entry):
        # Corrections travel with the words they correct; the feed framework escapes the whole description.
        notes = "".join(
            format_html(
                "<p><strong>{}, {}:</strong> {}</p>",
                c.get_kind_display(),
                timezone.localtime(c.created_at).strftime("%H:%M"),
                c.text,
            )
            for c in entry.corrections.all()
        )
        label = (
            format_html("<p><strong>{}</strong> {}</p>", entry.verification_label, entry.verification_note)
            if entry.verification
            else ""
        )
        return label + richtext.sanitize(entry.body) + notes

    def item_link(self, entry):
        return entry.get_absolute_url()

    def item_guid(self, entry):
        return f"entry-{entry.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, entry):
        return entry.published_at

    def item_updateddate(self, entry):
        return entry.modified_at

    def item_author_name(self, entry):
        return ", ".join(author.name for author in entry.authors.all()) or None

    def item_categories(self, entry):
        return [tag.name for tag in entry.tags.all()]


class _SubjectFeed(EntryFeed):
    model = None

    def get_object(self, request, slug=None):
        return get_object_or_404(self.queryset(), slug=slug)

    def queryset(self):
        return self.model.objects.all()

    def title(self, obj):

        return f"{obj} · {settings.SITE_NAME}"

    def summary_text(self, obj):
        return _("The newest updates about %(subject)s.") % {"subject": obj}


class PostFeed(_SubjectFeed):
    def queryset(self):
        return LivePost.objects.published()

    def entries(self, post):
        return Entry.objects.published().for_post(post)

    def summary_text(self, post):
        text = post.summary or post.headline
        if post.known_points:  # "What we know", as plain text (escaped by the feed)
            text += "\n" + _("What we know:") + "\n" + "\n".join(f"• {point}" for point in post.known_points)
        return text


class ColumnFeed(_SubjectFeed):
    model = Column

    def entries(self, column):
        return Entry.objects.published().filter(post__column=column)


class AuthorFeed(_SubjectFeed):
    model = Author

    def entries(self, author):
        return Entry.objects.published().by_author(author)


class PlaceFeed(_SubjectFeed):
    def queryset(self):
        return Place.objects.public()

    def entries(self, place):
        return Entry.objects.published().in_place(place)


class SourceFeed(_SubjectFeed):
    def queryset(self):
        return Source.objects.public()

    def entries(self, source):
        return Entry.objects.published().citing(source)


class TagFeed(_SubjectFeed):
    def queryset(self):
        return public_tags()

    def link(self, tag):

        return reverse("liveupdates:tag", args=[tag.slug])

    def entries(self, tag):
        return Entry.objects.published().tagged(tag)


def atom(feed_class):
    return type(f"Atom{feed_class.__name__}", (feed_class,), {"feed_type": Atom1Feed, "subtitle": feed_class.summary_text})


FEEDS = {
    "site": EntryFeed,
    "post": PostFeed,
    "column": ColumnFeed,
    "author": AuthorFeed,
    "place": PlaceFeed,
    "source": SourceFeed,
    "tag": TagFeed,
}
