"""The live page on other sites: the embed, the embeddable teaser, and the host page's script.

An embed is our own page in the host's iframe: entries rendered on the server
first (readable without JavaScript), then the same stream or poll as the live
page (live.js), and embed-frame.js telling the host its height. The host's
`/embed.js` sizes each iframe from those messages, accepting them only from
our origin and only from its own iframes.

What sets these responses apart, and only these:

* framable(): `frame-ancestors` names NEWSROOM_EMBED_ORIGINS (and ourselves) and
  X-Frame-Options is not sent; every other response keeps `frame-ancestors 'none'`;
* no cookies: no session is read, no CSRF token is made, so nothing can follow
  a reader from one host site to another; nothing third-party is loaded;
* links open on our site (`<base target="_blank">`, with rel="noopener" implied by
  browsers and written on our own links).

Every embed starts from the published() querysets, like the live page: a
withdrawn entry is absent from the next answer, and an open embed loses it
through the stream.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from liveupdates.delivery import fragments
from liveupdates.models import Entry, LivePost
from liveupdates.site import teasers
from liveupdates.site.pagination import page_of
from liveupdates.site.views import PAGE_MAX_AGE, POLL_MAX_AGE, conditional, public_post_with_cursor

EMBED_ENTRIES = 20  # the newest entries an embed shows; the rest are a link away
THEMES = ("light", "dark", "auto")
EMBED_MAX_AGE = 1  # as a live page: the stream carries what happens after
SCRIPT_MAX_AGE = 60 * 60
TEASERS_MAX = 30  # teasers one teasers.json answer covers


def framable(response):
    """Let the listed sites (NEWSROOM_EMBED_ORIGINS) frame this response, and nobody else."""
    response._csp_config = {  # read by Django's ContentSecurityPolicyMiddleware on the way out
        **settings.SECURE_CSP,
        "frame-ancestors": [CSP.SELF, *settings.NEWSROOM_EMBED_ORIGINS],
    }
    return response


def theme_of(request):
    theme = request.GET.get("theme", "auto")
    return theme if theme in THEMES else "auto"


@require_safe
@xframe_options_exempt
def post_embed(request, slug):
    """A live post for another site's iframe: its newest entries, then live updates."""
    post = public_post_with_cursor(slug)
    page = page_of(Entry.objects.on_page().for_post(post).only(*fragments.LISTED_FIELDS), size=EMBED_ENTRIES)
    fragments.attach_html(page.entries)
    html = render_to_string(
        "liveupdates/embed.html",
        {"post": post, "entries": page.entries, "more": page.older_cursor is not None, "theme": theme_of(request)},
        request,
    )
    return framable(conditional(request, HttpResponse(html), max_age=min(EMBED_MAX_AGE, PAGE_MAX_AGE)))


@require_safe
@xframe_options_exempt
def teaser_embed(request, slug):
    """A live post's teaser (its latest three entries, "What we know") for another site's iframe."""
    post = get_object_or_404(LivePost.objects.published().select_related("column"), slug=slug)
    teasers.attach([post])
    html = render_to_string(
        "liveupdates/teaser_embed.html",
        {"post": post, "theme": theme_of(request), "poll_seconds": settings.NEWSROOM_TEASER_POLL_SECONDS},
        request,
    )
    return framable(conditional(request, HttpResponse(html), max_age=EMBED_MAX_AGE))


@require_safe
def host_script(request):
    """/embed.js: the host page's script that sizes our iframes to their content."""
    response = HttpResponse(render_to_string("liveupdates/embed.js"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"  # a script any page may load; it holds nothing private
    return response


@require_safe
def teasers_json(request):
    """/teasers.json?posts=<slug>,<slug>: the current teaser of each public post named, as HTML by slug.

    A slug that is absent from `teasers` is not public now: the page removes its teaser.
    """
    slugs = [slug for slug in request.GET.get("posts", "").split(",") if slug][:TEASERS_MAX]
    if not slugs:
        return JsonResponse({"error": _("Name the live posts as ?posts=<slug>,<slug>.")}, status=400)
    posts = teasers.attach(
        list(LivePost.objects.published().filter(slug__in=slugs).only("pk", "slug", "headline", "what_we_know"))
    )
    response = JsonResponse({"teasers": {post.slug: teasers.render(post) for post in posts}})
    return conditional(request, response, max_age=POLL_MAX_AGE)
