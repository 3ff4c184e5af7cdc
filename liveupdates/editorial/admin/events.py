from django.contrib import admin

from liveupdates.models import WorkflowEvent


@admin.register(WorkflowEvent)
class WorkflowEventAdmin(admin.ModelAdmin):
    """The audit log: read-only, for editors."""

    list_display = ["at", "action", "entry", "post", "from_status", "to_status", "actor"]
    list_filter = ["action", "to_status"]
    list_select_related = ["entry", "post", "actor"]
    search_fields = ["note", "actor__username"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
