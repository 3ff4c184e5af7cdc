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
from django.utils.translation import gettext

from liveupdates.editorial import cards, workflow
from liveupdates.editorial.forms import ComposeForm, NoteForm, ScheduleForm
from liveupdates.models import Entry, LivePost

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
                return _compose(request, post, form)
        elif request.method == "POST":
            raise PermissionDenied
        entries = (
            Entry.objects.for_post(post)
            .for_display()
            .select_related("created_by")
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
        }
        return TemplateResponse(request, "admin/liveupdates/desk.html", context)

    return view


def _compose(request, post, form):
    # One transaction for the whole save (entry, relations, revision, workflow): one
    # commit to wait for instead of seven, and no half-saved entry if a step fails.
    with transaction.atomic():
        return _save_composed(request, post, form)


def _save_composed(request, post, form):
    entry = form.save(commit=False)
    entry.post = post
    entry.created_by = entry.updated_by = request.user
    # An explicit save: lone links and pasted embed code become cards (never on an autosave).
    entry.body, notes = cards.convert_body(entry.body, user=request.user)
    entry.save()
    form.save_m2m()
    form.save_citations(entry)
    cards.attach(entry, user=request.user)
    for note in notes:
        messages.warning(request, note)
    workflow.record_edit(entry=entry, user=request.user, created=True)
    intent = request.POST.get("intent", "draft")
    try:
        if intent == "submit":
            workflow.submit_for_review(entry=entry, user=request.user)
            messages.success(request, gettext("Your entry was sent to the editors for review."))
        elif intent == "publish":
            workflow.publish(entry=entry, user=request.user)
            messages.success(request, gettext("Your entry is published."))
        else:
            messages.success(request, gettext("Your draft was saved."))
    except workflow.WorkflowError as error:
        messages.error(request, gettext("Your entry was saved as a draft, but: %s") % error)
    return redirect("admin:liveupdates_livepost_desk", pk=post.pk)
