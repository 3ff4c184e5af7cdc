"""Proposed edits in the admin: the journalist's form, the editor's review, the buttons that call the workflow.

Wired into EntryAdmin.get_urls (entries.py) and the review queue. Nothing here
changes an entry: propose, approve, refuse, withdraw and put away are
editorial.workflow's, so the rules hold whatever the page or script sends.
"""

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from liveupdates import richtext
from liveupdates.editorial import revisions, workflow
from liveupdates.models import EditProposal, Entry


class ProposalForm(forms.ModelForm):
    """New words for a published entry: headline and text only (bylines, places, sources, tags stay the editor's)."""

    class Meta:
        model = EditProposal
        fields = ["headline", "body"]


class RefuseForm(forms.Form):
    note = forms.CharField(max_length=2000, required=False)


def propose_view(model_admin):
    admin_site = model_admin.admin_site

    def view(request, pk):
        """The author's form: the live words below, the proposal above; readers see nothing of it until approved."""
        entry = get_object_or_404(Entry.objects.select_related("post"), pk=pk)
        if not workflow.can_propose_edit(request.user, entry):
            raise PermissionDenied
        waiting = EditProposal.objects.waiting().filter(entry=entry).first()
        refused = EditProposal.objects.returned_to(request.user).filter(entry=entry).order_by("-decided_at", "-pk").first()
        # The form starts from the words the author sent last, so answering a refusal is an amendment, not a retype.
        start = waiting or refused or entry
        form = ProposalForm(request.POST or None, initial={"headline": start.headline, "body": start.body})
        if request.method == "POST" and form.is_valid():
            try:
                workflow.propose_edit(
                    entry=entry, user=request.user, headline=form.cleaned_data["headline"], body=form.cleaned_data["body"]
                )
            except workflow.WorkflowError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Your edit of “%s” was sent to the editors. Readers see the published words until one approves it.")
                    % entry,
                )
                return redirect("admin:liveupdates_livepost_desk", pk=entry.post_id)
        context = {
            **admin_site.each_context(request),
            "title": _("Propose an edit"),
            "entry": entry,
            "form": form,
            "waiting": waiting,
            "refused": refused,
            "media": model_admin.media + form.media,
            "opts": Entry._meta,
        }
        return TemplateResponse(request, "admin/liveupdates/entry/propose.html", context)

    return view


_LINK = re.compile(r'<a\b[^>]*?\shref="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
_MEDIA = re.compile(r"<(?:img|iframe)\b[^>]*>")
_ATTRIBUTE = re.compile(r'\s(src|alt)="([^"]*)"')


def reviewed_text(html):
    """The words of a text as the review diffs them: each link with its address, each photo and video named.

    Plain text alone hides where a link points and what a photo is: a proposal that
    only sent "the Reuters report" to another address, or added a photo, showed
    no change to the editor deciding on it.
    """

    def media(match):
        attributes = dict(_ATTRIBUTE.findall(match.group(0)))
        return f" [{attributes.get('alt', '')} {attributes.get('src', '')}] "

    html = _LINK.sub(lambda match: f"{match.group(2)} ({match.group(1)})", richtext.sanitize(html))
    return richtext.plain_text(_MEDIA.sub(media, html))


def review_rows(proposals):
    """Each waiting proposal with what would change: word diffs (spoken to screen readers) and whether it is stale."""
    rows = []
    for proposal in proposals:
        entry = proposal.entry
        rows.append(
            {
                "proposal": proposal,
                "entry": entry,
                "stale": workflow.proposal_is_stale(proposal, entry),
                "headline_diff": revisions.inline_diff(entry.headline, proposal.headline, spoken=True)
                if entry.headline != proposal.headline
                else None,
                "body_diff": revisions.inline_diff(reviewed_text(entry.body), reviewed_text(proposal.body), spoken=True),
            }
        )
    return rows


def _back(request, default):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def _refuse(proposal, user, request):
    form = RefuseForm(request.POST)
    if not form.is_valid():
        raise workflow.WorkflowError(_("The note is too long: keep it under 2,000 characters."))
    return workflow.refuse_edit(proposal=proposal, user=user, note=form.cleaned_data["note"])


ACTIONS = {
    "approve": (lambda p, u, r: workflow.approve_edit(proposal=p, user=u), gettext_lazy("The edit of “%s” is published.")),
    "refuse": (_refuse, gettext_lazy("The edit of “%s” was refused; its author has your note.")),
    "withdraw": (
        lambda p, u, r: workflow.withdraw_proposal(proposal=p, user=u),
        gettext_lazy("Your proposed edit of “%s” was withdrawn."),
    ),
    "put_away": (
        lambda p, u, r: workflow.put_away_refusal(proposal=p, user=u),
        gettext_lazy("The refusal of your edit of “%s” was put away."),
    ),
}


@require_POST
def proposal_action(request, pk, action):
    if action not in ACTIONS:
        raise PermissionDenied
    proposal = get_object_or_404(EditProposal.objects.select_related("entry"), pk=pk)
    if not workflow.can_view(request.user, proposal.entry):
        raise PermissionDenied
    perform, success = ACTIONS[action]
    try:
        perform(proposal, request.user, request)
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success % proposal.entry)
    return _back(request, reverse("admin:liveupdates_livepost_desk", args=[proposal.entry.post_id]))
