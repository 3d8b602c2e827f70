from django.contrib import admin

from crm.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["seq", "occurred_at", "action", "target_repr", "actor_repr", "source", "ip"]
    list_filter = ["source", "action", "target_type"]
    search_fields = ["action", "target_repr", "actor_repr", "request_id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["target_type"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
