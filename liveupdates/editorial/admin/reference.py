from django.contrib import admin
from django.utils.translation import gettext_lazy as _

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


@admin.register(Place)
class PlaceAdmin(TolerantAutocompleteAdmin, admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "latitude", "longitude"]
    list_filter = ["kind"]
    list_select_related = ["parent"]
    search_fields = ["name", "alternative_names"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "parent", "alternative_names"]}),
        (_("Map"), {"fields": ["latitude", "longitude"]}),
    ]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "homepage"]
    list_filter = ["kind"]
    search_fields = ["name", "description", "accounts__address"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SourceAccountInline]
