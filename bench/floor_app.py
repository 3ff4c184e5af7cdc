"""Settings for bench/pages.py's floor rows: what Django costs before a page does any work.

Two views behind the project's full middleware stack, both answering the
live page's bytes from memory: one with no query, one after the single
query any fresh page needs (the post's latest live event). A page that must
ask the database what is current can be no faster than the second.

    DJANGO_SETTINGS_MODULE=floor_app PYTHONPATH=bench  (set by bench/pages.py; the views are in floor_urls.py)
"""

from newsroom.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
