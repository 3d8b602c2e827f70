import base64

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.core.admin_mixins import ReadOnlyAdminMixin
from crm.core.models import AuditCheckpoint, AuditEvent, JobRun, Notification, OutgoingMail
from crm.core.services import login_lockout_clear


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


# django-axes' admin for login attempts, with deletion (= unlock) going through the
# service that audits it.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    actions = ["unlock", "cleanup_expired_attempts"]

    @admin.action(description=_("Unlock the selected logins"), permissions=["delete"])
    def unlock(self, request, queryset):
        count = login_lockout_clear(actor=request.user, attempts=queryset)
        self.message_user(
            request, ngettext("%(count)d login unlocked.", "%(count)d logins unlocked.", count) % {"count": count}
        )

    def delete_model(self, request, obj):
        login_lockout_clear(actor=request.user, attempts=AccessAttempt.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        login_lockout_clear(actor=request.user, attempts=queryset)


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: every e-mail the CRM sent or tried to send, and why one was not delivered."""

    list_display = ["created_at", "subject", "recipients", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status"]
    search_fields = ["subject", "last_error"]
    date_hierarchy = "created_at"
    exclude = ["on_result", "on_result_args"]

    @admin.display(description=_("to"))
    def recipients(self, obj):
        return ", ".join(obj.to)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: what each user was told in the app, and whether they have read it."""

    list_display = ["created_at", "recipient", "text", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient__username", "verb"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    exclude = ["verb", "params"]
    readonly_fields = ["text"]

    @admin.display(description=_("sentence"))
    def text(self, obj):
        return obj.text


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: each run of a scheduled job and its outcome; filter by "succeeded: No" for failures."""

    list_display = ["job", "started_at", "finished_at", "ok", "error_line"]
    list_filter = ["ok", "job"]
    date_hierarchy = "started_at"

    @admin.display(description=_("error"))
    def error_line(self, obj):
        return obj.error.splitlines()[0] if obj.error else ""
