"""The live desk's JSON endpoints: post in place, follow the desk, autosave, log in again.

The desk works without them (desk.py's plain form and the workflow buttons);
static/liveupdates/desk/*.js calls them to do the same without a reload. They
change nothing themselves: composing goes through desk.save_composed, every
change of state through editorial.workflow (actions.ENTRY_ACTIONS), so the
plain admin, the desk's script and scripts behave alike.

Every answer is JSON, refusals included, so a script never receives a login
page or a CSRF debug page in place of its answer and never drops what was
typed: 401 {"login": true} when the session has expired, 403 {"csrf": true}
when the page's CSRF token is stale (csrf_failure, settings.CSRF_FAILURE_VIEW),
and the desk's script logs in again through `session` and resends.
"""

import re
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.defaults import bad_request as django_bad_request

from liveupdates import richtext
from liveupdates.editorial import cards, feed, workflow
from liveupdates.editorial.admin import actions, desk
from liveupdates.editorial.forms import ComposeForm, ScheduleForm
from liveupdates.models import Autosave, Entry, EntryStatus, LivePost
from liveupdates.models.entries import shown_citations

# The header the desk's script sends with every request: how csrf_failure knows to answer JSON.
DESK_HEADER = "newsroom-desk"
# An autosave holds what one person typed: a long text is kept, a runaway one is refused with a reason.
AUTOSAVE_MAX_CHARS = 1_000_000
_KEY = re.compile(r"^(post|entry)-(\d{1,18})$")


def _error(message, status, **extra):
    return JsonResponse({"ok": False, "error": str(message), **extra}, status=status)


def endpoint(view):
    """Staff who may see the desk, answered in JSON: 401 to log in again, 403 for everyone else."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _error(
                _("Your session has expired. Log in again: what you typed is kept and sent once you are back."), 401, login=True
            )
        if not workflow.can_see_desk(request.user):
            return _error(_("Your account cannot use the live desk. Ask an editor for access."), 403)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            # A post or entry deleted meanwhile (a draft a colleague discarded): Django's HTML page
            # would read to the script as a server that did not answer, resent for ever.
            gone = {"removed": kwargs["entry_pk"]} if "entry_pk" in kwargs else {}
            return _error(_("This is no longer on the desk: it was deleted. Reload the page (your text is kept)."), 404, **gone)

    return never_cache(wrapped)


def render_row(request, entry):
    """The desk's row for `entry`, as the desk page renders it (its buttons are the user's own)."""
    context = {
        "entry": entry,
        "allowed": workflow.allowed_actions(request.user, entry),
        "back_url": reverse("admin:liveupdates_livepost_desk", args=[entry.post_id]),
    }
    return render_to_string("admin/liveupdates/_desk_entry.html", context, request=request)


def _displayed(pk):
    return Entry.objects.for_desk().get(pk=pk)


def _just_composed(entry, *, post, user, form):
    """The entry this request has just composed, ready for its desk row as `_displayed` would read it back.

    The compose answer is on every keypress's way to readers: reading the new row back
    through for_desk (the row and seven prefetches) cost 8 queries for what the request
    already holds. Its post, its author (the user), its byline and places (the form's,
    already read, in the models' order as a prefetch has them) and no waiting proposal
    are known; its citations (the form's sources and its cards') are read, and its cards
    only when the text places one. The entry's state is the instance's: the workflow
    sets it on the instance as it writes it.
    """
    entry.post, entry.created_by, entry.edit_waiting = post, user, False
    cache = entry.__dict__.setdefault("_prefetched_objects_cache", {})
    cache["authors"], cache["places"] = form.cleaned_data["authors"], form.cleaned_data["places"]
    lookups = [shown_citations()]
    if cards.cards_in(entry.body):
        lookups += ["cards", "cards__source"]
    prefetch_related_objects([entry], *lookups)
    return entry


def _form_errors(form):
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


@endpoint
@require_POST
def compose(request, pk):
    """Save the compose box as a new entry and submit, publish or schedule it (`intent`), as desk.py does for the plain form."""
    post = get_object_or_404(LivePost.objects.select_related("column"), pk=pk)
    if not workflow.can_compose(request.user):
        return _error(_("Your account can read the desk but not write entries."), 403)
    form = ComposeForm(request.POST, admin_site=admin.site)
    if not form.is_valid():
        return _error(_("The entry was not saved: check the fields marked below."), 400, errors=_form_errors(form))
    intent = request.POST.get("intent", "draft")
    token = request.POST.get("compose_token", "")
    if token and not COMPOSE_TOKEN.fullmatch(token):
        return _error(_("The desk sent a malformed token; reload the page (your text is kept)."), 400)
    sent_before = _composed_with(request.user, token)
    if sent_before is not None:
        return _composed_answer(request, sent_before, _("Already saved: the desk had sent this entry before."), intent)
    at, problem, past = desk.scheduled_time(request)
    if problem:
        return _error(problem, 409 if past else 400, confirm=past)
    try:
        entry, problem, notes = desk.save_composed(post=post, form=form, user=request.user, intent=intent, at=at, token=token)
    except IntegrityError:
        # The same save, resent while the first was still being stored: answer with the first.
        sent_before = _composed_with(request.user, token)
        if sent_before is None:
            raise
        return _composed_answer(request, sent_before, _("Already saved: the desk had sent this entry before."), intent)
    entry = _just_composed(entry, post=post, user=request.user, form=form)
    return JsonResponse(
        {
            "ok": not problem,
            "message": " ".join([problem or desk.success_message(entry, intent), *notes]),
            "entry": entry.pk,
            "row": render_row(request, entry),
        },
        status=200 if not problem else 409,
    )


COMPOSE_TOKEN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _composed_with(user, token):
    """The entry `user`'s desk already made from this compose token, if any."""
    return Entry.objects.filter(created_by=user, compose_token=token).first() if token else None


def _composed_answer(request, entry, message, intent="draft"):
    entry = _displayed(entry.pk)
    if intent in ("submit", "publish", "schedule") and entry.status == EntryStatus.DRAFT:
        # The first send was refused (no permission, a photo without alt text) and its answer lost:
        # a green "Already saved" would pass the draft off as sent or published.
        message = _(
            "Already saved, but only as a draft: it was neither submitted nor published. Check it, then use its buttons below."
        )
        return JsonResponse({"ok": False, "message": message, "entry": entry.pk, "row": render_row(request, entry)}, status=409)
    return JsonResponse({"ok": True, "message": message, "entry": entry.pk, "row": render_row(request, entry)})


@endpoint
@require_POST
def act(request, pk, entry_pk, action):
    """One workflow action on one entry of this post (the row's buttons), answered with the row as it now is."""
    if action not in actions.ENTRY_ACTIONS:
        return _error(_("There is no such action."), 404)
    entry = get_object_or_404(Entry.objects.select_related("post"), pk=entry_pk, post_id=pk)
    if not workflow.can_view(request.user, entry):
        return _error(_("Your account cannot change entries."), 403)
    if action == "publish":
        schedule = ScheduleForm(request.POST)
        if not schedule.is_valid() and schedule.has_error("__all__", "past"):
            return _error(" ".join(schedule.errors["__all__"]), 409, confirm=True, row=render_row(request, _displayed(entry.pk)))
    perform, _success = actions.ENTRY_ACTIONS[action]
    try:
        entry = perform(entry, request.user, request)
    except workflow.WorkflowError as error:
        still = Entry.objects.filter(pk=entry.pk).exists()
        return _error(error, 409, **({"row": render_row(request, _displayed(entry.pk))} if still else {"removed": entry.pk}))
    if action == "discard":
        return JsonResponse({"ok": True, "message": actions.success_text(action, entry), "removed": entry.pk})
    return JsonResponse(
        {"ok": True, "message": actions.success_text(action, entry), "row": render_row(request, _displayed(entry.pk))}
    )


def _int(value):
    value = str(value or "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else 0


@endpoint
@require_GET
def feed_view(request, pk):
    """What changed on this desk since event `after`: activity lines, fresh rows, who is editing, what came back to me."""
    post = get_object_or_404(LivePost, pk=pk)
    after = _int(request.GET.get("after"))
    seen = [_int(value) for value in request.GET.get("seen", "").split(",")[: feed.LOOKBACK_IDS] if value]
    events = feed.events_since(post, after, seen=seen)
    touched = {event.entry_id for event in events if event.entry_id}
    rows = {}
    if touched:
        for entry in Entry.objects.filter(pk__in=touched).for_desk():
            rows[str(entry.pk)] = render_row(request, entry)
    present = [
        {
            "key": autosave.key,
            "entry": autosave.entry_id,
            "who": feed.who(autosave.user),
            "since": timezone.localtime(autosave.started_at).strftime("%H:%M"),
        }
        for autosave in feed.presence(post)
        if autosave.user_id != request.user.pk
    ]
    returned = [
        {
            "id": entry.pk,
            "headline": str(entry),
            "note": entry.review_note,
            "url": reverse("admin:liveupdates_entry_change", args=[entry.pk]),
        }
        for entry in feed.returned_to(request.user).select_related("post")[:20]
    ] + [
        {
            "id": f"proposal-{proposal.pk}",
            "headline": _("Your edit of “%s” was refused") % proposal.entry,
            "note": proposal.editor_note,
            "url": reverse("admin:liveupdates_entry_propose", args=[proposal.entry_id]),
        }
        for proposal in feed.refused_proposals(request.user)[:20]
    ]
    removed = [int(event.note.split(":", 1)[0]) for event in events if event.action == "discarded" and event.note[:1].isdigit()]
    return JsonResponse(
        {
            "cursor": max([after, *(event.pk for event in events)]),
            "removed": removed,
            "activity": [
                {
                    "id": event.pk,
                    "entry": event.entry_id,
                    "text": feed.describe(event),
                    "time": timezone.localtime(event.at).strftime("%H:%M:%S"),
                    "mine": event.actor_id == request.user.pk,
                }
                for event in events
            ],
            "rows": rows,
            "presence": present,
            "returned": returned,
        }
    )


def _box(request, post, key):
    """The entry a box edits (None for the compose box), if `key` names a box this user may write in, else raise."""
    match = _KEY.match(key or "")
    if match is None:
        raise LookupError(_("This form cannot be autosaved."))
    kind, number = match.group(1), int(match.group(2))
    if kind == "post":
        if number != post.pk or not workflow.can_compose(request.user):
            raise LookupError(_("Your account cannot write entries on this desk."))
        return None
    entry = Entry.objects.filter(pk=number, post=post).first()
    if entry is None or not workflow.can_edit(request.user, entry):
        raise LookupError(_("You cannot edit this entry, so there is nothing to autosave."))
    return entry


@endpoint
@require_http_methods(["GET", "POST"])
def autosave(request, pk):
    """Keep what this user typed in one box (GET: what was kept; POST: keep this; POST discard=1: forget it).

    Never a revision and never seen by anyone else; colleagues learn only that
    the box is open ("<name> is editing since 14:03").
    """
    post = get_object_or_404(LivePost, pk=pk)
    key = request.GET.get("key") if request.method == "GET" else request.POST.get("key")
    try:
        entry = _box(request, post, key)
    except LookupError as error:
        return _error(error, 403)
    mine = Autosave.objects.filter(user=request.user, key=key)
    if request.method == "GET":
        kept = mine.kept().first()
        if kept is None:
            return JsonResponse({"ok": True, "autosave": None})
        return JsonResponse(
            {
                "ok": True,
                "autosave": {
                    "headline": kept.headline,
                    "body": kept.body,
                    "loaded_version": kept.loaded_version,
                    "saved_at": timezone.localtime(kept.saved_at).strftime("%d %b %H:%M:%S"),
                },
            }
        )
    if request.POST.get("discard"):
        mine.delete()
        return JsonResponse({"ok": True})
    body = request.POST.get("body", "")
    if len(body) > AUTOSAVE_MAX_CHARS:
        return _error(
            _(
                "This text is over %(max)s characters, too long to keep on the server; it is kept in this browser. Split it into several entries."
            )
            % {"max": f"{AUTOSAVE_MAX_CHARS:,}"},
            413,
        )
    values = {
        "headline": request.POST.get("headline", "")[:200],
        "body": richtext.sanitize(body),
        "loaded_version": _int(request.POST.get("loaded_version")) or None,
        "saved_at": timezone.now(),
    }
    if not mine.update(**values):
        try:
            with transaction.atomic():
                Autosave.objects.create(
                    user=request.user, key=key, post=post, entry=entry, started_at=values["saved_at"], **values
                )
        except IntegrityError:  # the same person's other tab created it a moment ago
            mine.update(**values)
    others = [
        {"who": feed.who(autosave.user), "since": timezone.localtime(autosave.started_at).strftime("%H:%M")}
        for autosave in feed.presence(post)
        if autosave.key == key and autosave.user_id != request.user.pk
    ]
    return JsonResponse({"ok": True, "saved_at": timezone.localtime(values["saved_at"]).strftime("%H:%M:%S"), "others": others})


@never_cache
@require_http_methods(["GET", "POST"])
def session(request):
    """GET: am I still logged in, and a fresh CSRF token. POST username/password: log in again, without leaving the page."""
    if request.method == "POST":
        form = AuthenticationForm(request, data=request.POST)
        if not form.is_valid():
            return _error(" ".join(form.non_field_errors()) or _("Enter your username and password."), 400)
        if not workflow.can_see_desk(form.get_user()):
            return _error(_("This account cannot use the live desk."), 403)
        login(request, form.get_user())
    user = request.user
    return JsonResponse(
        {
            "ok": True,
            "authenticated": bool(user.is_authenticated and workflow.can_see_desk(user)),
            "username": user.get_username() if user.is_authenticated else "",
            "csrf": get_token(request),
        }
    )


def wants_json(request):
    """A request from the desk's script (or another script asking for JSON): it must never get an HTML page.

    The one rule for csrf_failure and lockout: a page in place of JSON would
    look like a broken server to the script, which would retry or give up.
    """
    if request.headers.get("X-Requested-With") in (DESK_HEADER, "XMLHttpRequest"):
        return True
    accept = request.headers.get("Accept", "")
    return accept.startswith("application/json") and "text/html" not in accept


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: the desk's script gets JSON it can act on; every other form gets Django's page."""
    if wants_json(request):
        return _error(
            _("This page's security token is out of date (you may have logged in again in another tab). Sending again…"),
            403,
            csrf=True,
        )
    return django_csrf_failure(request, reason=reason)


def bad_request(request, exception=None):
    """handler400: a request Django could not read (too big, too many fields) is refused in JSON to the desk's script.

    Its HTML page is what the script takes for a server that did not answer: it
    resent the paste for ever, saying nothing of why. Every other page keeps Django's.
    """
    if not wants_json(request):
        return django_bad_request(request, exception)
    if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)):
        return _error(
            _(
                "This is too big to send: over %(mb)d MB, or too many fields. It is kept in this browser; "
                "split the text into several entries, or link to the full document."
            )
            % {"mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)},
            413,
        )
    if isinstance(exception, BadRequest):  # a view's own refusal: its sentence
        return _error(exception, 400)
    return _error(_("The server could not read this request. Reload the page (your text is kept)."), 400)


def lockout(request, *args, **kwargs):
    """settings.AXES_LOCKOUT_CALLABLE: too many wrong passwords for one account from one address.

    The desk's login dialog gets a JSON 429 in plain words, which it shows
    inline while the words wait in the box; the admin's login page gets the
    lockout page (settings.AXES_LOCKOUT_TEMPLATE). Axes passes the refused
    response and the credentials (positionally, and not always both); neither
    is needed here.
    """
    # axes takes hours, a timedelta or a callable here; its own helper reads all three.
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0
    if wants_json(request):
        return _error(
            ngettext(
                "Too many wrong passwords: this account cannot log in from here for %(minutes)d minute. "
                "What you typed stays here; wait, then log in again. If you forgot your password, ask an editor to reset it.",
                "Too many wrong passwords: this account cannot log in from here for %(minutes)d minutes. "
                "What you typed stays here; wait, then log in again. If you forgot your password, ask an editor to reset it.",
                minutes,
            )
            % {"minutes": minutes},
            429,
            locked=True,
        )
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, {"minutes": minutes}, status=429)
