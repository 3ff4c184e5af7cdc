"""The live desk: compose at the top, the post's entries below, newest first.

One page per live post (admin:liveupdates_livepost_desk), wrapped in the admin
site's admin_view by LivePostAdmin.get_urls. Every change of state goes
through editorial.workflow; the desk only saves what was typed.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from liveupdates.editorial import cards, feed, workflow
from liveupdates.editorial.forms import ComposeForm, NoteForm, ScheduleForm
from liveupdates.models import Autosave, Entry, LivePost

# The desk is reloaded after every save, often on a phone: 60 entries weighed 200 KB and
# took 97 ms to render (each row carries its action forms); 30 cover the last hours of a
# busy live page, and "All entries of this post" lists the rest.
DESK_ENTRIES = 30


def desk_view(model_admin):
    """The desk as a view of the live posts' admin (its site's context and autocomplete, its media)."""
    admin_site = model_admin.admin_site

    def view(request, pk):
        """The live desk: compose at the top, the post's entries below, newest first."""
        post = get_object_or_404(LivePost.objects.select_related("column"), pk=pk)
        user = request.user
        if not workflow.can_see_desk(user):
            raise PermissionDenied
        can_compose = workflow.can_compose(user)
        form = None
        if can_compose:
            initial = {}
            author = getattr(user, "author", None) if request.method != "POST" else None  # a POST brings its own byline
            if author is not None:
                initial["authors"] = [author.pk]
            form = ComposeForm(request.POST or None, initial=initial, admin_site=admin_site)
            if request.method == "POST" and form.is_valid():
                at, problem, _past = scheduled_time(request)
                if not problem:
                    return _compose(request, post, form, at)
                form.add_error(None, problem)
        elif request.method == "POST":
            raise PermissionDenied
        entries = (
            Entry.objects.for_post(post)
            .for_desk()
            .order_by(F("published_at").desc(nulls_first=True), "-created_at", "-pk")[:DESK_ENTRIES]
        )
        rows = [(entry, workflow.allowed_actions(user, entry)) for entry in entries]
        context = {
            **admin_site.each_context(request),
            "title": gettext("Live desk: %s") % post.headline,
            "post": post,
            "form": form,
            "media": model_admin.media + form.media if form else model_admin.media,
            "rows": rows,
            "can_publish": workflow.can_publish(user),
            "note_form": NoteForm(),
            "schedule_form": ScheduleForm(),
            "opts": LivePost._meta,
            "more_url": reverse("admin:liveupdates_entry_changelist") + f"?post__id__exact={post.pk}",
            "cursor": feed.cursor(),
            "returned": list(feed.returned_to(user)[:20]),
            "refused_edits": list(feed.refused_proposals(user)[:20]),
        }
        return TemplateResponse(request, "admin/liveupdates/desk.html", context)

    return view


def scheduled_time(request):
    """(at, problem, past) for a compose form's "Schedule": the time in the zone it was typed in, or why not.

    `past` says the problem is a time that has passed: the desk asks "publish now?".
    """
    if request.POST.get("intent") != "schedule":
        return None, "", False
    schedule = ScheduleForm(request.POST)
    if not schedule.is_valid():
        problem = " ".join(error for errors in schedule.errors.values() for error in errors)
        return None, problem, schedule.has_error("__all__", "past")
    if schedule.cleaned_data["at"] is None and not schedule.cleaned_data["confirm_past"]:
        return None, gettext("Choose the time to publish at, or press Publish now."), False
    return schedule.cleaned_data["at"], "", False


def _compose(request, post, form, at=None):
    intent = request.POST.get("intent", "draft")
    entry, problem, notes = save_composed(post=post, form=form, user=request.user, intent=intent, at=at)
    for note in notes:
        messages.warning(request, note)
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, success_message(entry, intent))
    return redirect("admin:liveupdates_livepost_desk", pk=post.pk)


def success_message(entry, intent):
    if intent == "submit":
        return gettext("Your entry was sent to the editors for review.")
    if intent in ("publish", "schedule") and entry.is_scheduled:
        return gettext("Your entry is scheduled for %(at)s.") % {
            "at": timezone.localtime(entry.published_at).strftime("%d %b %H:%M %Z")
        }
    if intent in ("publish", "schedule"):
        return gettext("Your entry is published.")
    return gettext("Your draft was saved.")


def save_composed(*, post, form, user, intent, at=None, token=""):
    """Save a valid compose form as a new entry of `post`, then submit, publish or schedule it as `intent` says.

    Returns (entry, problem, notes): the entry is always saved (as a draft at least);
    `problem` is the workflow's refusal, a full sentence, or ""; `notes` are the
    sentences about links and embed code that could not become cards. One transaction
    for the whole save (entry, relations, revision, workflow): one commit to wait
    for instead of seven, and no half-saved entry if a step fails. The writer's
    autosave of the compose box goes with it.
    """
    entry = form.save(commit=False)
    entry.compose_token = token
    # An explicit save: lone links and pasted embed code become cards (never on an autosave).
    # Their fetches run before the transaction, which must never wait on another site.
    entry.body, notes = cards.convert_body(entry.body, user=user)
    with transaction.atomic():
        entry.post = post
        entry.created_by = entry.updated_by = user
        entry.save()
        form.save_m2m_of_new_entry()
        form.save_citations(entry)
        if cards.cards_in(entry.body):  # a new entry has no cards to detach, only placed ones to bind
            cards.attach(entry, user=user)
        workflow.record_edit(entry=entry, user=user, created=True)
        Autosave.objects.filter(user=user, key=compose_key(post)).delete()
        try:
            if intent == "submit":
                workflow.submit_for_review(entry=entry, user=user)
            elif intent in ("publish", "schedule"):
                workflow.publish(entry=entry, user=user, at=at)
        except workflow.WorkflowError as error:
            return entry, gettext("Your entry was saved as a draft, but: %s") % error, notes
    return entry, "", notes


def compose_key(post):
    """The autosave box of a desk's compose form."""
    return f"post-{post.pk}"
