from django.contrib import admin

from crm.core.admin_mixins import ReadOnlyAdminMixin
from crm.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["seq", "occurred_at", "action", "target_repr", "actor_repr", "source", "ip"]
    list_filter = ["source", "action", "target_type"]
    search_fields = ["action", "target_repr", "actor_repr", "request_id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["target_type"]
    show_full_result_count = False
