import base64

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.core.admin_mixins import ReadOnlyAdminMixin
from crm.core.models import AuditCheckpoint, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["seq", "occurred_at", "action", "target_repr", "actor_repr", "source", "ip"]
    list_filter = ["source", "action", "target_type"]
    search_fields = ["action", "target_repr", "actor_repr", "request_id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["target_type"]
    show_full_result_count = False


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: checkpoints are written by write_audit_checkpoint and checked by verify_audit_chain."""

    list_display = ["number", "seq", "hash", "created_at", "key_id"]
    date_hierarchy = "created_at"
    exclude = ["signature", "statement"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "signed_statement", "signature_base64"]

    @admin.display(description=_("signed statement"))
    def signed_statement(self, obj):
        return bytes(obj.statement).decode("ascii", errors="replace")

    @admin.display(description=_("signature (base64)"))
    def signature_base64(self, obj):
        return base64.b64encode(bytes(obj.signature)).decode("ascii")
