"""What readers and machines read: pages, feeds, the API, search, maps, sitemaps.

views.py (pages, previews, the poll endpoint), assembly.py (a live page from
its frame and moving parts), prepared.py (its queries, compiled to SQL once
per process), pagination.py, feeds.py, api.py, seo.py,
search.py, maps.py, sitemaps.py; embeds.py (embeds and teasers for other
sites, /embed.js, teasers.json), teasers.py, readers.py (oldest first and
filters), alerts.py (push subscriptions, the service worker), photos.py
(an entry's photo files, only while a public entry places them). Every public
surface starts from Entry.objects.published().

May import: liveupdates.models, richtext, images, delivery (fragments, the
log's cursor and replay) and editorial.workflow's can_* rules (who may
preview). Nothing imports site except the URL configuration.
"""
