"""Settings for bench/pages.py's floor rows: what Django costs before a page does any work.

Two views behind the project's full middleware stack, both answering the
live page's bytes from memory: one with no query, one after a single
indexed query (the post's latest live event, the first of the queries every
page build makes). A page built from the database on each request can be no
faster than the second.

    DJANGO_SETTINGS_MODULE=floor_app PYTHONPATH=bench  (set by bench/pages.py; the views are in floor_urls.py)
"""

from newsroom.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
