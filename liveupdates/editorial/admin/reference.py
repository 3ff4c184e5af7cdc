from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from liveupdates.editorial import workflow
from liveupdates.editorial.admin.cards import SourceAccountInline
from liveupdates.editorial.widgets import TolerantAutocompleteAdmin
from liveupdates.models import Author, Place, Source


@admin.register(Author)
class AuthorAdmin(TolerantAutocompleteAdmin, admin.ModelAdmin):
    list_display = ["name", "slug", "user"]
    list_select_related = ["user"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["user"]


class ReviewedAdmin(admin.ModelAdmin):
    """Places and sources a journalist adds wait for an editor (PlaceQuerySet.public): only editors mark them reviewed."""

    actions = ["mark_reviewed"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if workflow.can_review_reference(request.user) else [*readonly, "reviewed"]

    def has_review_permission(self, request):
        return workflow.can_review_reference(request.user)

    @admin.action(description=_("Mark as reviewed"), permissions=["review"])
    def mark_reviewed(self, request, queryset):
        done = 0
        for obj in queryset.filter(reviewed=False):
            obj.reviewed = True
            obj.save(update_fields=["reviewed"])  # save(), not update(): the entries naming it are redrawn with its link
            done += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d marked as reviewed: readers now get its page.",
                "%(count)d marked as reviewed: readers now get their pages.",
                done,
            )
            % {"count": done},
        )


@admin.register(Place)
class PlaceAdmin(TolerantAutocompleteAdmin, ReviewedAdmin):
    list_display = ["name", "kind", "parent", "latitude", "longitude", "reviewed"]
    list_filter = ["reviewed", "kind"]
    list_select_related = ["parent"]
    search_fields = ["name", "alternative_names"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "parent", "alternative_names", "reviewed"]}),
        (_("Map"), {"fields": ["latitude", "longitude"]}),
    ]


@admin.register(Source)
class SourceAdmin(ReviewedAdmin):
    list_display = ["name", "kind", "homepage", "reviewed"]
    list_filter = ["reviewed", "kind"]
    search_fields = ["name", "description", "accounts__address"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SourceAccountInline]
