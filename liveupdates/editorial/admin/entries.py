from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from liveupdates.editorial import cards, workflow
from liveupdates.editorial.admin import proposals
from liveupdates.editorial.admin.actions import entry_action
from liveupdates.editorial.admin.history import RevisionHistoryMixin
from liveupdates.editorial.forms import EntryAdminForm, NoteForm, ScheduleForm
from liveupdates.editorial.widgets import TolerantAutocompleteAdmin
from liveupdates.models import Autosave, Citation, Correction, EditProposal, Entry, EntryStatus, WorkflowEvent


class CitationInline(TolerantAutocompleteAdmin, admin.TabularInline):
    model = Citation
    extra = 1
    autocomplete_fields = ["source", "citing"]
    verbose_name = _("cited source")
    verbose_name_plural = _("cited sources")


class RecordInline(admin.TabularInline):
    """A record shown with its entry, written only by the workflow: never added, changed or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CorrectionInline(RecordInline):
    """Corrections readers see; added with the Correct button (liveupdates.editorial.workflow.correct)."""

    model = Correction
    fields = ["created_at", "kind", "text", "created_by"]
    verbose_name_plural = _("public corrections and updates")


class WorkflowEventInline(RecordInline):
    model = WorkflowEvent
    fk_name = "entry"
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    verbose_name_plural = _("history")


@admin.register(Entry)
class EntryAdmin(RevisionHistoryMixin, TolerantAutocompleteAdmin, admin.ModelAdmin):
    events_field = "entry"
    form = EntryAdminForm
    list_display = ["__str__", "post", "status_badge", "published_at", "is_key_event", "is_pinned", "created_by", "updated_at"]
    list_filter = ["status", "is_key_event", "post__column", "post", "authors", "places", "sources", "tags"]
    list_select_related = ["post", "created_by"]
    search_fields = ["headline", "body", "post__headline"]
    autocomplete_fields = ["post", "authors", "places"]
    readonly_fields = [
        "status",
        "published_at",
        "revised_at",
        "is_key_event",
        "is_pinned",
        "review_note",
        "removal_note",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["post", "headline", "body", "authors", "places", "tags", "loaded_version"]}),
        (
            _("Editorial state"),
            {"fields": ["status", "published_at", "revised_at", "is_key_event", "is_pinned", "review_note", "removal_note"]},
        ),
        (_("Record"), {"classes": ["collapse"], "fields": ["created_by", "created_at", "updated_by", "updated_at"]}),
    ]
    inlines = [CitationInline, CorrectionInline, WorkflowEventInline]
    date_hierarchy = "published_at"
    list_per_page = 50
    show_full_result_count = False  # COUNT(*) over 100k rows on every page load is wasted work
    actions = ["submit_selected", "publish_selected"]
    change_form_template = "admin/liveupdates/entry/change_form.html"

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, entry):
        label = _("scheduled") if entry.is_scheduled else entry.get_status_display()
        return format_html('<span class="nl-status nl-status--{}">{}</span>', entry.status, label)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("review/", wrap(self.review_queue), name="liveupdates_entry_review"),
            path("<int:pk>/workflow/<str:action>/", wrap(entry_action), name="liveupdates_entry_workflow"),
            path("<int:pk>/propose/", wrap(proposals.propose_view(self)), name="liveupdates_entry_propose"),
            path("proposals/<int:pk>/<str:action>/", wrap(proposals.proposal_action), name="liveupdates_editproposal_action"),
        ] + super().get_urls()

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        author = getattr(request.user, "author", None)
        if author is not None:
            initial.setdefault("authors", [author.pk])
        return initial

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != EntryStatus.DRAFT:
            # Readers of one post were told of it; moving it would leave it on their screens.
            fields.append("post")
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return workflow.can_edit(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        # Published words are withdrawn, not deleted: the record must survive.
        if obj is not None and (obj.status != EntryStatus.DRAFT or not workflow.can_edit(request.user, obj)):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        # Bulk delete would bypass the per-entry rule above.
        actions.pop("delete_selected", None)
        return actions

    def has_publish_permission(self, request):
        return workflow.can_publish(request.user)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        # An explicit save: lone links and pasted embed code become cards (editorial.cards).
        obj.body, notes = cards.convert_body(obj.body, user=request.user)
        for note in notes:
            self.message_user(request, note, level="warning")
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # Recorded once everything is saved: the revision holds the citations and tags too.
        super().save_related(request, form, formsets, change)
        cards.attach(form.instance, user=request.user)
        workflow.record_edit(entry=form.instance, user=request.user, created=not change)
        # Saved: the words are safe, the autosave of this form has done its job.
        Autosave.objects.filter(user=request.user, key=f"entry-{form.instance.pk}").delete()

    def can_restore(self, user, entry):
        return workflow.can_restore(user, entry)

    def restore_revision(self, entry, user, version):
        workflow.restore(entry=entry, user=user, version=version)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        entry = self.get_object(request, object_id)
        if entry is not None:
            extra_context.update(
                allowed=workflow.allowed_actions(request.user, entry),
                note_form=NoteForm(),
                schedule_form=ScheduleForm(),
                entry=entry,
                back_url=None,
            )
            if workflow.can_edit(request.user, entry):
                extra_context["autosave_url"] = reverse("admin:liveupdates_livepost_desk_autosave", args=[entry.post_id])
        return super().change_view(request, object_id, form_url, extra_context)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "post" and formfield is not None and hasattr(formfield.widget, "can_delete_related"):
            # An entry's page is no place to delete its whole live post (a red cross next to it).
            formfield.widget.can_delete_related = False
        return formfield

    def _run(self, request, queryset, perform, done_message):
        done, refused = 0, []
        for entry in queryset.select_related("post"):
            try:
                perform(entry)
                done += 1
            except workflow.WorkflowError as error:
                refused.append(f"“{entry}”: {error}")
        if done:
            self.message_user(request, done_message(done))
        for line in refused:
            self.message_user(request, line, level="error")

    @admin.action(description=_("Submit selected drafts for review"))
    def submit_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: workflow.submit_for_review(entry=e, user=request.user),
            lambda n: ngettext("%d entry was submitted for review.", "%d entries were submitted for review.", n) % n,
        )

    @admin.action(description=_("Publish selected entries now"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: workflow.publish(entry=e, user=request.user),
            lambda n: ngettext("%d entry was published.", "%d entries were published.", n) % n,
        )

    def review_queue(self, request):
        if not workflow.can_review(request.user):
            raise PermissionDenied
        entries = Entry.objects.in_review().for_display().select_related("created_by").order_by(F("updated_at").asc(), "pk")[:200]
        per_post = Entry.objects.in_review().values("post__headline").annotate(n=Count("pk")).order_by("-n")
        rows = [(entry, workflow.allowed_actions(request.user, entry)) for entry in entries]
        waiting = (
            EditProposal.objects.waiting()
            .select_related("entry", "entry__post", "author")
            .prefetch_related("entry__corrections")  # workflow.proposal_is_stale reads them
            .order_by("created_at", "pk")[:100]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review queue"),
            "rows": rows,
            "per_post": per_post,
            "proposals": proposals.review_rows(waiting),
            "can_decide": workflow.can_decide_edit(request.user),
            "note_form": NoteForm(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/liveupdates/review_queue.html", context)
