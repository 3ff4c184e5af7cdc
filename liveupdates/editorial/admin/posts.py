from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from liveupdates.editorial import export, workflow
from liveupdates.editorial.admin import desk, desk_api
from liveupdates.editorial.admin.actions import post_action
from liveupdates.editorial.admin.history import RevisionHistoryMixin
from liveupdates.editorial.widgets import TolerantAutocompleteAdmin
from liveupdates.models import LivePost


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
        (None, {"fields": ["column", "headline", "slug", "summary", "what_we_know"]}),
        (_("Coverage"), {"fields": ["coverage_start", "coverage_end"]}),
        (_("Lead image"), {"classes": ["collapse"], "fields": ["lead_image", "lead_image_alt", "lead_image_credit"]}),
        (_("Editorial state"), {"fields": ["status", "published_at", "created_by", "created_at", "updated_at"]}),
    ]
    actions = ["publish_selected", "unpublish_selected"]
    change_form_template = "admin/liveupdates/livepost/change_form.html"

    @admin.display(description=_("live desk"))
    def desk_link(self, post):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:liveupdates_livepost_desk", args=[post.pk]), gettext("Open desk")
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/desk/", wrap(desk.desk_view(self)), name="liveupdates_livepost_desk"),
            path("<int:pk>/workflow/<str:action>/", wrap(post_action), name="liveupdates_livepost_workflow"),
            # The desk's script: JSON answers (a 401, never the login page), so not wrapped in admin_view.
            path("<int:pk>/desk/api/compose/", desk_api.compose, name="liveupdates_livepost_desk_compose"),
            path("<int:pk>/desk/api/feed/", desk_api.feed_view, name="liveupdates_livepost_desk_feed"),
            path("<int:pk>/desk/api/autosave/", desk_api.autosave, name="liveupdates_livepost_desk_autosave"),
            path(
                "<int:pk>/desk/api/entries/<int:entry_pk>/<str:action>/",
                desk_api.act,
                name="liveupdates_livepost_desk_act",
            ),
            path("desk/session/", desk_api.session, name="liveupdates_desk_session"),
            path("<int:pk>/cards.zip", wrap(self.cards_export), name="liveupdates_livepost_cards_export"),
        ] + super().get_urls()

    def cards_export(self, request, pk):
        """The post's cited material as a zip (cards as JSON plus their images): editors only."""
        post = get_object_or_404(LivePost, pk=pk)
        if not workflow.can_verify(request.user):
            raise PermissionDenied
        response = HttpResponse(export.post_archive(post), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{post.slug}-cited-material.zip"'
        response["Cache-Control"] = "private, no-store"
        return response

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
        extra_context = {
            **(extra_context or {}),
            "can_publish_post": workflow.can_publish_post(request.user),
            "public_site_url": settings.SITE_URL,  # the embed snippets name the public address
        }
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
        self._run(
            request,
            queryset,
            lambda p: workflow.publish_post(post=p, user=request.user),
            lambda n: ngettext("%d live post is now public.", "%d live posts are now public.", n) % n,
        )

    @admin.action(description=_("Unpublish selected live posts"), permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda p: workflow.unpublish_post(post=p, user=request.user),
            lambda n: ngettext("%d live post was unpublished.", "%d live posts were unpublished.", n) % n,
        )
