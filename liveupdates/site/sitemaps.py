from datetime import timedelta

from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.utils import timezone

from liveupdates.models import Author, Column, Entry, LivePost, Place, Source


class PostSitemap(Sitemap):
    changefreq = "always"
    priority = 0.9
    limit = 5000

    def items(self):
        return LivePost.objects.published().annotate(last_entry=Max("entries__published_at")).order_by("-coverage_start", "-pk")

    def lastmod(self, post):
        return max(filter(None, [post.last_entry, post.published_at, post.updated_at]))


class _ListSitemap(Sitemap):
    changefreq = "hourly"
    priority = 0.5
    limit = 5000
    model = None

    def items(self):
        return self.model.objects.order_by("pk")


class ColumnSitemap(_ListSitemap):
    model = Column


class AuthorSitemap(_ListSitemap):
    model = Author


class PlaceSitemap(_ListSitemap):
    def items(self):
        return Place.objects.public().order_by("pk")


class SourceSitemap(_ListSitemap):
    def items(self):
        return Source.objects.public().order_by("pk")


SITEMAPS = {
    "posts": PostSitemap,
    "columns": ColumnSitemap,
    "authors": AuthorSitemap,
    "places": PlaceSitemap,
    "sources": SourceSitemap,
}


def news_posts(now=None):
    """Posts for the Google News sitemap: published in the last 48 hours, or updated in them."""
    now = now or timezone.now()
    since = now - timedelta(hours=48)
    recent = Entry.objects.published(now).filter(published_at__gte=since).values("post_id")
    return (
        (LivePost.objects.published(now).filter(published_at__gte=since) | LivePost.objects.published(now).filter(pk__in=recent))
        .select_related("column")
        .distinct()
        .order_by("-coverage_start")[:1000]
    )
