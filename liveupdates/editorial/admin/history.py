"""The admin's History button: every saved revision, what changed in it, and restore."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.views.decorators.http import require_POST
from reversion.models import Version

from liveupdates.editorial import revisions, workflow
from liveupdates.models import WorkflowEvent

HISTORY_SHOWN = 50


class RevisionHistoryMixin:
    """Replaces Django's history page (its LogEntry list) with the object's revisions and their differences."""

    history_template = "admin/liveupdates/history.html"
    events_field = None  # WorkflowEvent's foreign key to this model

    def can_restore(self, user, obj):
        raise NotImplementedError

    def restore_revision(self, obj, user, version):
        raise NotImplementedError

    def _url_name(self, suffix):
        return f"{self.opts.app_label}_{self.opts.model_name}_{suffix}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/history/<int:version_id>/restore/", wrap(self.restore_view), name=self._url_name("restore")),
        ] + super().get_urls()

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        events = WorkflowEvent.objects.filter(**{self.events_field: obj}).select_related("actor").order_by("-at")[:HISTORY_SHOWN]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("History: %s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "rows": revisions.history(obj, limit=HISTORY_SHOWN),
            "events": events,
            "can_restore": self.can_restore(request.user, obj),
            "restore_url_name": f"admin:{self._url_name('restore')}",
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.history_template, context)

    @method_decorator(require_POST)
    def restore_view(self, request, pk, version_id):
        obj = get_object_or_404(self.model, pk=pk)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        version = get_object_or_404(Version.objects.select_related("revision", "content_type"), pk=version_id)
        try:
            self.restore_revision(obj, request.user, version)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, gettext("The earlier version is back, saved as a new revision."))
        return redirect(f"admin:{self._url_name('history')}", obj.pk)
