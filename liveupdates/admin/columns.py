from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import workflow
from ..forms import ComposeForm, NoteForm, ScheduleForm
from ..models import Column, Entry, LivePost
from .actions import post_action
from .history import RevisionHistoryMixin
from .widgets import TolerantAutocompleteAdmin

# The desk is reloaded after every save, often on a phone: 60 entries weighed 200 KB and
# took 97 ms to render (each row carries its action forms); 30 cover the last hours of a
# busy live page, and "All entries of this post" lists the rest.
DESK_ENTRIES = 30


@admin.register(Column)
class ColumnAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LivePost)
class LivePostAdmin(RevisionHistoryMixin, TolerantAutocompleteAdmin, admin.ModelAdmin):
    events_field = "post"
    list_display = ["headline", "column", "status", "coverage_start", "coverage_end", "desk_link"]
    list_filter = ["status", "column"]
    list_select_related = ["column"]
    search_fields = ["headline", "summary"]
    prepopulated_fields = {"slug": ["headline"]}
    autocomplete_fields = ["column"]
    readonly_fields = ["status", "published_at", "created_by", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["column", "headline", "slug", "summary"]}),
        (_("Coverage"), {"fields": ["coverage_start", "coverage_end"]}),
        (_("Lead image"), {"classes": ["collapse"], "fields": ["lead_image", "lead_image_alt", "lead_image_credit"]}),
        (_("Editorial state"), {"fields": ["status", "published_at", "created_by", "created_at", "updated_at"]}),
    ]
    actions = ["publish_selected", "unpublish_selected"]
    change_form_template = "admin/liveupdates/livepost/change_form.html"

    @admin.display(description=_("live desk"))
    def desk_link(self, post):
        return format_html('<a href="{}">{}</a>', reverse("admin:liveupdates_livepost_desk", args=[post.pk]), gettext("Open desk"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/desk/", wrap(self.desk_view), name="liveupdates_livepost_desk"),
            path("<int:pk>/workflow/<str:action>/", wrap(post_action), name="liveupdates_livepost_workflow"),
        ] + super().get_urls()

    def has_publish_permission(self, request):
        return workflow.can_publish_post(request.user)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        workflow.record_post_edit(post=form.instance, user=request.user, created=not change)

    def can_restore(self, user, post):
        return workflow.can_restore_post(user)

    def restore_revision(self, post, user, version):
        workflow.restore_post(post=post, user=user, version=version)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_publish_post": workflow.can_publish_post(request.user)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _run(self, request, queryset, perform, done_message):
        done = 0
        for post in queryset:
            try:
                perform(post)
                done += 1
            except workflow.WorkflowError as error:
                self.message_user(request, f"“{post}”: {error}", level=messages.ERROR)
        if done:
            self.message_user(request, done_message(done))

    @admin.action(description=_("Publish selected live posts"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._run(request, queryset, lambda p: workflow.publish_post(post=p, user=request.user),
                  lambda n: ngettext("%d live post is now public.", "%d live posts are now public.", n) % n)

    @admin.action(description=_("Unpublish selected live posts"), permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        self._run(request, queryset, lambda p: workflow.unpublish_post(post=p, user=request.user),
                  lambda n: ngettext("%d live post was unpublished.", "%d live posts were unpublished.", n) % n)

    def desk_view(self, request, pk):
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
            form = ComposeForm(request.POST or None, initial=initial, admin_site=self.admin_site)
            if request.method == "POST" and form.is_valid():
                return self._compose(request, post, form)
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
            **self.admin_site.each_context(request),
            "title": gettext("Live desk: %s") % post.headline,
            "post": post,
            "form": form,
            "media": self.media + form.media if form else self.media,
            "rows": rows,
            "can_publish": workflow.can_publish(user),
            "note_form": NoteForm(),
            "schedule_form": ScheduleForm(),
            "opts": LivePost._meta,
            "more_url": reverse("admin:liveupdates_entry_changelist") + f"?post__id__exact={post.pk}",
        }
        return TemplateResponse(request, "admin/liveupdates/desk.html", context)

    def _compose(self, request, post, form):
        # One transaction for the whole save (entry, relations, revision, workflow): one
        # commit to wait for instead of seven, and no half-saved entry if a step fails.
        with transaction.atomic():
            return self._save_composed(request, post, form)

    def _save_composed(self, request, post, form):
        entry = form.save(commit=False)
        entry.post = post
        entry.created_by = entry.updated_by = request.user
        entry.save()
        form.save_m2m()
        form.save_citations(entry)
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
