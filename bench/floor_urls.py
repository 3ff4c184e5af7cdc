"""The floor views of bench/floor_app.py."""

import os

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path

PAGE = {}  # filled on first use from the file bench/pages.py wrote


def _page():
    if "body" not in PAGE:
        with open(os.environ["FLOOR_PAGE"], "rb") as page:
            PAGE["body"] = page.read()
    return PAGE["body"]


def no_query(request):
    return HttpResponse(_page())


def one_query(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM liveupdates_liveevent WHERE post_id = %s", [int(request.GET.get("post", 1))])
        cursor.fetchone()
    return HttpResponse(_page())


urlpatterns = [
    path("floor/no-query/", no_query),
    path("floor/one-query/", one_query),
    path("", include("newsroom.urls")),
]
