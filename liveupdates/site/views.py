import hashlib
from itertools import groupby

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotModified, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from liveupdates.delivery import fragments, live, polling
from liveupdates.delivery.structured import blog_posting
from liveupdates.editorial import workflow
from liveupdates.models import Author, Column, Entry, LivePost, Place, Source, public_tags
from liveupdates.site import assembly, pagination, prepared, readers, seo, teasers
from liveupdates.site.pagination import page_of
from liveupdates.site.search import SearchForm, run_search
from liveupdates.site.sitemaps import news_posts

POLL_MAX_AGE = 1  # seconds a CDN may serve one poll response to every reader (plus 1 s while revalidating)
PAGE_MAX_AGE = 1  # seconds a CDN may serve a live page (plus 1 s while revalidating); the stream carries what happens after
POSTS_PER_COLUMN_ON_HOME = 4


def home(request):
    now = timezone.now()
    live = list(LivePost.objects.live(now).select_related("column").newest_first()[:10])
    live_ids = {post.pk for post in live}
    recent = [
        post
        for post in LivePost.objects.published(now)
        .select_related("column")
        .order_by("column__name", "-coverage_start", "-pk")[:200]
        if post.pk not in live_ids
    ]
    by_column = []
    for column, posts in groupby(recent, key=lambda post: post.column):
        by_column.append((column, list(posts)[:POSTS_PER_COLUMN_ON_HOME]))
    teasers.attach(live)  # each live post's latest entries: one query for all
    context = {"live_posts": live, "columns": by_column, "teaser_poll_seconds": settings.NEWSROOM_TEASER_POLL_SECONDS}
    return render(request, "liveupdates/home.html", context)


def column_detail(request, slug):
    column = get_object_or_404(Column, slug=slug)
    posts = LivePost.objects.published().filter(column=column).newest_first()
    page = Paginator(posts, 20).get_page(request.GET.get("page"))
    teasers.attach([post for post in page.object_list if post.is_live])
    context = {"column": column, "page": page, "teaser_poll_seconds": settings.NEWSROOM_TEASER_POLL_SECONDS}
    return render(request, "liveupdates/column.html", context)


def _post_context(request, post, entries, listed=None, live_cursor=0, structured_data=False):
    """`entries` are those readers may see; `listed` (default: the same) what the page lists, removal notes included."""
    parts, page = assembly.parts(
        post,
        entries,
        entries if listed is None else listed,
        before=request.GET.get("before"),
        live_cursor=live_cursor,
        structured_data=structured_data,
    )
    return {
        "post": post,
        "page": page,
        "parts": parts,
        **dict(zip(("previous_post", "next_post"), post.neighbours(), strict=True)),
    }


def _public_posts_with_cursor(now, slug):
    posts = LivePost.objects.published(now).annotate(live_cursor=live.latest_event_id_of_post())
    return posts.filter(slug=slug).values_list(*POST_FIELDS, *(f"column__{name}" for name in COLUMN_FIELDS), "live_cursor")


POST_FIELDS = [field.attname for field in LivePost._meta.concrete_fields]
COLUMN_FIELDS = [field.attname for field in Column._meta.concrete_fields]
_PUBLIC_POST = prepared.Prepared(_public_posts_with_cursor, now="time", slug="text")


def public_post_with_cursor(slug, now=None):
    """The public post at `slug` (else 404), with its column and `live_cursor`: the latest live event it has.

    The cursor is read with the post, before the entries: an event appended in between is
    then replayed to the page (and applied idempotently) rather than lost. The live page and
    the embed both start from here, one query compiled once (site/prepared.py).
    """
    rows = _PUBLIC_POST.rows(now=now or timezone.now(), slug=slug)
    if not rows:
        raise Http404
    row = rows[0]
    post = LivePost.from_db(None, POST_FIELDS, row[: len(POST_FIELDS)])
    post.column = Column.from_db(None, COLUMN_FIELDS, row[len(POST_FIELDS) : -1])
    post.live_cursor = row[-1]
    return post


def post_detail(request, slug):
    """A live post: built from the database on every request, from fragments and parts whose keys it reads.

    No whole-page copy is kept: behind nginx's one-second micro-cache a page is
    built about once a second whatever the traffic (docs/benchmarks.md), and a
    page built now can never show an entry withdrawn before now. The page
    names the live event it shows (its cursor), so whatever happens after it
    reaches the reader through the stream or the poll.
    """
    now = timezone.now()
    post = public_post_with_cursor(slug, now)
    controls = readers.from_request(request)
    if controls is not None:  # oldest first, or filtered: built in full, noindex (site/readers.py)
        return conditional(request, readers.page(request, post, controls, post.live_cursor), max_age=PAGE_MAX_AGE)
    before = request.GET.get("before")
    if before:
        before = pagination.canonical_cursor(before)  # one spelling per page: no cache entry per spelling
    live_cursor = post.live_cursor
    if before:
        entries = Entry.objects.published(now).for_post(post)
        listed = Entry.objects.on_page(now).for_post(post)
        context = _post_context(request, post, entries, listed=listed, live_cursor=live_cursor, structured_data=True)
        content = render(request, "liveupdates/post.html", context).content
    else:
        content = assembly.first_page(request, post, live_cursor, now).encode()
    return conditional(request, HttpResponse(content), max_age=PAGE_MAX_AGE)


def conditional(request, response, max_age):
    """A public answer with a strong ETag of its bytes (304 when the reader has them) and a short life.

    The ETag is the content's own hash: it changes exactly when the bytes do,
    so no draft, no cache key and nothing but what readers see can move it.
    """
    etag = '"' + hashlib.blake2b(response.content, digest_size=12).hexdigest() + '"'
    return answer_conditionally(request, etag, public_for(max_age), lambda: response)


def public_for(max_age):
    """Cache-Control for what any cache may keep `max_age` seconds.

    `stale-while-revalidate=1` lets nginx's micro-cache (and a CDN or browser)
    answer from a copy at most one second past its age while it fetches the
    next one, never longer: an unbounded stale copy would keep withdrawn words
    (or a withdrawn entry's photo) on screen (docs/benchmarks.md measures both).
    """
    return f"public, max-age={max_age}, stale-while-revalidate=1"


def answer_conditionally(request, etag, cache_control, respond):
    """`respond()`, or a 304 when the reader holds `etag` already, with `cache_control`."""
    held = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]
    response = HttpResponseNotModified() if etag in held else respond()
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def entry_detail(request, post_slug, pk):
    entry = get_object_or_404(Entry.objects.published().for_display(), pk=pk, post__slug=post_slug)
    json_ld = seo.json_ld({"@context": "https://schema.org", **blog_posting(entry)})
    return render(request, "liveupdates/entry.html", {"entry": entry, "post": entry.post, "json_ld": json_ld})


def _entry_list(request, template, queryset, context):
    page = page_of(queryset.only(*fragments.LISTED_FIELDS), before=request.GET.get("before"))
    fragments.attach_html(page.entries)
    return render(request, template, {**context, "page": page})


def author_detail(request, slug):
    author = get_object_or_404(Author, slug=slug)
    return _entry_list(request, "liveupdates/author.html", Entry.objects.published().by_author(author), {"author": author})


def place_detail(request, slug):
    place = get_object_or_404(Place.objects.public(), slug=slug)
    # A place's page includes everything reported from places inside it.
    entries = Entry.objects.published().in_place(place)
    children = place.children.public().order_by("name")
    return _entry_list(
        request,
        "liveupdates/place.html",
        entries,
        {"place": place, "ancestors": [above for above in place.ancestors() if above.reviewed], "children": children},
    )


def source_detail(request, slug):
    source = get_object_or_404(Source.objects.public(), slug=slug)
    entries = Entry.objects.published().citing(source)
    return _entry_list(request, "liveupdates/source.html", entries, {"source": source})


def tag_detail(request, slug):
    tag = get_object_or_404(public_tags(), slug=slug)
    return _entry_list(request, "liveupdates/tag.html", Entry.objects.published().tagged(tag), {"tag": tag})


def _staff_only(request):
    """Previews answer anyone outside the newsroom with the same 404, whether the id exists or not:
    a 403 for an existing draft and a 404 otherwise would tell readers which drafts exist."""
    if not workflow.can_preview(request.user):
        raise Http404


@never_cache
def preview_entry(request, pk):
    """An entry in any state, as readers would see it; staff only, never cached."""
    _staff_only(request)
    entry = get_object_or_404(Entry.objects.for_display(), pk=pk)
    if not workflow.can_view(request.user, entry):
        raise PermissionDenied
    return render(request, "liveupdates/entry.html", {"entry": entry, "post": entry.post, "preview": True})


@never_cache
def preview_post(request, pk):
    """A live post in any state, with the entries that are or will be public; staff only."""
    _staff_only(request)
    post = get_object_or_404(LivePost.objects.select_related("column"), pk=pk)
    if not workflow.can_preview_post(request.user):
        raise PermissionDenied
    entries = Entry.objects.for_post(post).approved()
    context = _post_context(request, post, entries)
    return render(request, "liveupdates/post.html", {**context, "preview": True})


def post_updates(request, slug):
    """The polling fallback: events of a post after ?after=<event id>, as JSON.

    Readers who are up to date all ask for the same URL (their cursor is the
    latest event id), so one response cached by a CDN for a couple of seconds
    serves them all; the ETag lets it answer 304. `last` is the id of the last
    event read, kept or not: the reader's next cursor.
    """
    known = polling.head(slug)  # a readers' copy of at most 1 s (delivery/polling.py)
    if known is None:
        raise Http404("No such live post.")
    after = live.parse_cursor(request.GET.get("after"))
    if after is None:
        return JsonResponse(
            {"error": _("Give the id of the last event you have as ?after=<number> (0 for everything).")}, status=400
        )
    if request.META.get("QUERY_STRING") != f"after={after}":
        # One URL per answer ("007", "7&x=1" and "7" are one cursor): every other spelling would
        # be a copy of its own in nginx and the CDN, and a way to flood them.
        return HttpResponsePermanentRedirect(f"{request.path}?after={after}")
    if after >= known.last:
        # Up to date (every reader but those who just woke up): no query at all.
        events, last = [], after
    else:
        events, last = live.read_after(known.post_id, after, limit=100)
    response = JsonResponse(
        {
            "events": [{"id": event_id, **payload} for event_id, _, _, payload in events],
            "last": last,
            "live": known.is_live,
            "public": True,
        }
    )
    return conditional(request, response, max_age=POLL_MAX_AGE)


def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /preview/",
        "Disallow: /search/",
        f"Sitemap: {settings.SITE_URL}{reverse('liveupdates:sitemap')}",
        f"Sitemap: {settings.SITE_URL}{reverse('liveupdates:news_sitemap')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def news_sitemap(request):
    response = render(
        request,
        "liveupdates/news_sitemap.xml",
        {"posts": news_posts(), "SITE_URL": settings.SITE_URL},
        content_type="application/xml; charset=utf-8",
    )
    return response


def search(request):
    form = SearchForm(request.GET or None)
    results, query = [], ""
    if form.is_valid() and form.cleaned_data["q"]:
        query = form.cleaned_data["q"]
        results = run_search(form.cleaned_data)
    return render(request, "liveupdates/search.html", {"form": form, "results": results, "query": query})
