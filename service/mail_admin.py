"""The admin of the desk's mail: incoming mail (discarded through the service), and the
satisfaction ratings, read-only. Imported by `service/admin.py`."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from crm.core.exceptions import DomainError
from service.inbound import inbound_mail_discard
from service.mail_models import InboundMail, SatisfactionRating, TicketAttachment


class ReadOnlyAdmin(admin.ModelAdmin):
    """What the mail and the customers wrote is a record: nobody edits it here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TicketAttachmentInline(admin.TabularInline):
    model = TicketAttachment
    fields = ["filename", "content_type", "size", "rejected_reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(InboundMail)
class InboundMailAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "from_email", "subject", "source", "status", "ticket"]
    list_filter = ["status", "source"]
    search_fields = ["subject", "from_email", "message_id"]
    list_select_related = ["ticket"]
    inlines = [TicketAttachmentInline]
    actions = ["discard_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    @admin.action(description=_("Discard selected unsorted mail"), permissions=["view"])
    def discard_selected(self, request, queryset):
        done = 0
        for inbound in queryset:
            try:
                inbound_mail_discard(actor=request.user, inbound_id=inbound.pk)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{inbound}: {error.message}", messages.WARNING)
        self.message_user(request, _("%(count)d message(s) discarded.") % {"count": done})


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "ticket", "score", "reopen_requested"]
    list_filter = ["score", "reopen_requested"]
    search_fields = ["ticket__number", "comment"]
    list_select_related = ["ticket"]
