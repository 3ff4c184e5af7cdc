from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, register_converter

from liveupdates.delivery import stream
from liveupdates.site import alerts, cards, embeds, feeds, views
from liveupdates.site.sitemaps import SITEMAPS

app_name = "liveupdates"


class UnicodeSlugConverter:
    """A slug in any script: django-taggit slugifies "حلب" or "Путин" as they are, and `slug:` is ASCII-only."""

    regex = r"[-\w]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(UnicodeSlugConverter, "uslug")

urlpatterns = [
    path("", views.home, name="home"),
    path("columns/<slug:slug>/", views.column_detail, name="column"),
    path("live/<slug:slug>/", views.post_detail, name="post"),
    path("live/<slug:slug>/stream/", stream.stream_view, name="post_stream"),
    path("live/<slug:slug>/updates.json", views.post_updates, name="post_updates"),
    path("live/<slug:post_slug>/entries/<int:pk>/", views.entry_detail, name="entry"),
    # The live page everywhere (site/embeds.py): embeds, teasers, the host page's script.
    path("live/<slug:slug>/embed/", embeds.post_embed, name="post_embed"),
    path("live/<slug:slug>/teaser/", embeds.teaser_embed, name="post_teaser"),
    path("teasers.json", embeds.teasers_json, name="teasers"),
    path("embed.js", embeds.host_script, name="embed_script"),
    path("live/<slug:slug>/alerts/", alerts.subscribe, name="post_alerts"),
    path("live/<slug:slug>/alerts/stop/", alerts.unsubscribe, name="post_alerts_stop"),
    path("sw.js", alerts.service_worker, name="service_worker"),
    path("authors/<slug:slug>/", views.author_detail, name="author"),
    path("places/<slug:slug>/", views.place_detail, name="place"),
    path("sources/<slug:slug>/", views.source_detail, name="source"),
    path("tags/<uslug:slug>/", views.tag_detail, name="tag"),
    path("preview/entries/<int:pk>/", views.preview_entry, name="preview_entry"),
    path("preview/posts/<int:pk>/", views.preview_post, name="preview_post"),
    path("search/", views.search, name="search"),
    path("cards/<int:pk>/image/<int:stamp>/", cards.card_image, name="card_image"),
    path("verification/", cards.verification, name="verification"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("sitemap.xml", sitemap_views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("news-sitemap.xml", views.news_sitemap, name="news_sitemap"),
    path("feed/", feeds.EntryFeed(), name="feed_site"),
    path("feed/atom/", feeds.atom(feeds.EntryFeed)(), name="feed_site_atom"),
]

# /<prefix>/<slug>/feed/ (RSS 2.0) and /<prefix>/<slug>/feed/atom/ for every kind of page that lists entries.
for prefix, kind in [
    ("live", "post"),
    ("columns", "column"),
    ("authors", "author"),
    ("places", "place"),
    ("sources", "source"),
    ("tags", "tag"),
]:
    feed = feeds.FEEDS[kind]
    converter = "uslug" if kind == "tag" else "slug"
    urlpatterns += [
        path(f"{prefix}/<{converter}:slug>/feed/", feed(), name=f"feed_{kind}"),
        path(f"{prefix}/<{converter}:slug>/feed/atom/", feeds.atom(feed)(), name=f"feed_{kind}_atom"),
    ]
