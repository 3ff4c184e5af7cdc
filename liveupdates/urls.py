from django.urls import path

from . import stream, views

app_name = "liveupdates"

urlpatterns = [
    path("", views.home, name="home"),
    path("columns/<slug:slug>/", views.column_detail, name="column"),
    path("live/<slug:slug>/", views.post_detail, name="post"),
    path("live/<slug:slug>/stream/", stream.stream_view, name="post_stream"),
    path("live/<slug:slug>/updates.json", views.post_updates, name="post_updates"),
    path("live/<slug:post_slug>/entries/<int:pk>/", views.entry_detail, name="entry"),
    path("authors/<slug:slug>/", views.author_detail, name="author"),
    path("places/<slug:slug>/", views.place_detail, name="place"),
    path("sources/<slug:slug>/", views.source_detail, name="source"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag"),
    path("preview/entries/<int:pk>/", views.preview_entry, name="preview_entry"),
    path("preview/posts/<int:pk>/", views.preview_post, name="preview_post"),
]
