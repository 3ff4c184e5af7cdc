"""The admin's one door to liveupdates.editorial.workflow: buttons post here, never change state themselves."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liveupdates.editorial import workflow
from liveupdates.editorial.forms import CorrectionForm, NoteForm, ScheduleForm, WithdrawForm
from liveupdates.models import Entry, LivePost


def _note(request):
    form = NoteForm(request.POST)
    return form.cleaned_data["note"] if form.is_valid() else ""


def _withdraw(entry, user, request):
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        raise workflow.WorkflowError(_("The note is too long: keep it under 1,000 characters."))
    return workflow.withdraw(
        entry=entry, user=user, reason=form.cleaned_data["note"], public_note=form.cleaned_data["public_note"]
    )


def _correct(entry, user, request):
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        raise workflow.WorkflowError(
            _("Write the correction (under 1,000 characters) and choose whether it is a correction or an update.")
        )
    return workflow.correct(entry=entry, user=user, text=form.cleaned_data["text"], kind=form.cleaned_data["kind"])


def _at(request):
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        if form.has_error("__all__", "past") or form.has_error("tz"):
            raise workflow.WorkflowError(" ".join(form.errors.get("__all__", []) + form.errors.get("tz", [])))
        raise workflow.WorkflowError(_("The publication time is not a valid date and time. Use the date picker."))
    return form.cleaned_data["at"]


def _verify(entry, user, request):
    """Editors set the label; anyone else who may propose one has it recorded for an editor."""
    state, method, note = (request.POST.get(name, "") for name in ("verification", "method", "note"))
    if workflow.can_verify(user):
        return workflow.set_verification(entry=entry, user=user, state=state, method=method, note=note)
    workflow.propose_verification(entry=entry, user=user, state=state, method=method, note=note)
    return entry


ENTRY_ACTIONS = {
    "submit": (lambda e, u, r: workflow.submit_for_review(entry=e, user=u), _("“%s” was submitted for review.")),
    "publish": (lambda e, u, r: workflow.publish(entry=e, user=u, at=_at(r)), _("“%s” was published.")),
    "return": (lambda e, u, r: workflow.return_to_author(entry=e, user=u, note=_note(r)), _("“%s” was returned to its author.")),
    "withdraw": (_withdraw, _("“%s” was withdrawn.")),
    "correct": (_correct, _("The note was added to “%s”; readers see it now.")),
    "pin": (lambda e, u, r: workflow.pin(entry=e, user=u), _("“%s” is now pinned.")),
    "unpin": (lambda e, u, r: workflow.unpin(entry=e, user=u), _("“%s” is no longer pinned.")),
    "key": (lambda e, u, r: workflow.set_key_event(entry=e, user=u, key_event=True), _("“%s” is now a key event.")),
    "verify": (_verify, _("The verification of “%s” was recorded.")),
    "key_alert": (
        lambda e, u, r: workflow.set_key_event(entry=e, user=u, key_event=True, alert=True),
        _("“%s” is now a key event; readers who asked are alerted."),
    ),
    "unkey": (lambda e, u, r: workflow.set_key_event(entry=e, user=u, key_event=False), _("“%s” is no longer a key event.")),
    "discard": (lambda e, u, r: workflow.discard_draft(entry=e, user=u), _("The draft “%s” was discarded.")),
}

POST_ACTIONS = {
    "publish": (lambda p, u: workflow.publish_post(post=p, user=u), _("“%s” is now public.")),
    "unpublish": (lambda p, u: workflow.unpublish_post(post=p, user=u), _("“%s” was taken off the public site.")),
}


def _report_delivery(request, entry):
    """The change committed; if live readers could not be told at once, say so (the stream's sweep retries)."""
    if settings.NEWSROOM_ANNOUNCE_IN_BACKGROUND:
        return  # announced off the request by design: a flag now says nothing
    if Entry.objects.filter(pk=entry.pk, live_pending=True).exists():
        messages.warning(
            request,
            _(
                "Your change is saved, but live readers could not be told yet. It is retried every second; "
                "readers who reload see it now."
            ),
        )


def _back(request, default):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def success_text(action, entry):
    """What a successful action on `entry` tells the person who did it."""
    if action == "publish" and entry.is_scheduled:
        return _("“%(entry)s” is scheduled for %(at)s.") % {
            "entry": entry,
            "at": timezone.localtime(entry.published_at).strftime("%d %b %Y %H:%M %Z"),
        }
    return ENTRY_ACTIONS[action][1] % entry


@require_POST
def entry_action(request, pk, action):
    if action not in ENTRY_ACTIONS:
        raise PermissionDenied
    entry = get_object_or_404(Entry.objects.select_related("post"), pk=pk)
    if not workflow.can_view(request.user, entry):
        raise PermissionDenied
    perform, success = ENTRY_ACTIONS[action]
    try:
        entry = perform(entry, request.user, request)
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success_text(action, entry))
        if action == "discard":
            return _back(request, reverse("admin:liveupdates_livepost_desk", args=[entry.post_id]))
        _report_delivery(request, entry)
    return _back(request, reverse("admin:liveupdates_entry_change", args=[entry.pk]))


@require_POST
def post_action(request, pk, action):
    if action not in POST_ACTIONS:
        raise PermissionDenied
    post = get_object_or_404(LivePost, pk=pk)
    perform, success = POST_ACTIONS[action]
    try:
        perform(post, request.user)
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success % post)
    return _back(request, reverse("admin:liveupdates_livepost_change", args=[post.pk]))
