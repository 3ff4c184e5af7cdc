"""The live page stays light: its CSS and JavaScript fit in 40 KB compressed, all from this site."""

import gzip
import re

import pytest
from django.contrib.staticfiles import finders

from .factories import PublishedEntryFactory

pytestmark = pytest.mark.django_db
BUDGET = 40 * 1024


def test_the_live_page_ships_at_most_40_kb_of_css_and_js_compressed_all_from_this_site(client, post):
    PublishedEntryFactory(post=post)
    html = client.get(post.get_absolute_url()).content.decode()
    assets = (
        re.findall(r'<script[^>]+src="([^"]+)"', html)
        + re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
        + re.findall(r'<link[^>]+href="([^"]+)"[^>]+rel="stylesheet"', html)
    )
    assert assets, "the page should load its stylesheet and script"
    assert all(url.startswith("/static/") for url in assets), assets
    total = 0
    for url in assets:
        path = finders.find(url.removeprefix("/static/"))
        with open(path, "rb") as file:
            total += len(gzip.compress(file.read(), compresslevel=9))
    assert total <= BUDGET, f"{total} bytes of CSS+JS (gzip), budget {BUDGET}"
