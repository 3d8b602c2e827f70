from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from crm.core.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline, ServiceAdminMixin, WorkflowAdminMixin
from marketing import services
from marketing.choices import RecipientStatus
from marketing.models import Campaign, CampaignOpportunity, Recipient, ReturnedMail, Segment, Suppression


@admin.register(Segment)
class SegmentAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["name", "owner", "updated_at"]
    search_fields = ["name"]
    list_select_related = ["owner"]
    fields = [
        "name",
        "description",
        "statuses",
        "industries",
        "tiers",
        "regions",
        "customer_owner",
        "last_order_after",
        "last_order_before",
        "min_orders",
        "max_orders",
        "insight_cluster",
    ]

    def create_through_service(self, user, values):
        return services.segment_create(actor=user, **values)

    def update_through_service(self, user, obj, values):
        return services.segment_update(actor=user, segment_id=obj.pk, **values)

    def delete_through_service(self, user, obj):
        services.segment_delete(actor=user, segment_id=obj.pk)


class RecipientInline(ReadOnlyInline):
    model = Recipient
    fields = [
        "name",
        "email",
        "status",
        "sent_at",
        "clicked_at",
        "replied_at",
        "bounced_at",
        "soft_bounces",
        "unsubscribed_at",
        "error",
    ]
    max_num = 0
    show_change_link = False


@admin.register(Campaign)
class CampaignAdmin(WorkflowAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["name", "segment", "status", "scheduled_at", "owner", "bounced_count", "replied_count"]
    list_filter = ["status", "language"]
    search_fields = ["name"]
    list_select_related = ["segment", "owner"]
    fields = ["name", "segment", "language", "subject_zh", "body_zh", "subject_en", "body_en", "rate_per_minute"]
    readonly_fields = []
    inlines = [RecipientInline]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None and obj.status != "draft" else []

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                bounced=Count("recipients", filter=Q(recipients__status=RecipientStatus.BOUNCED)),
                replied=Count("recipients", filter=Q(recipients__replied_at__isnull=False)),
            )
        )

    @admin.display(description=_("bounced"), ordering="bounced")
    def bounced_count(self, obj):
        return obj.bounced

    @admin.display(description=_("replied"), ordering="replied")
    def replied_count(self, obj):
        return obj.replied

    def create_through_service(self, user, values):
        return services.campaign_create(actor=user, **values)

    def update_through_service(self, user, obj, values):
        return services.campaign_update(actor=user, campaign_id=obj.pk, **values)

    def has_delete_permission(self, request, obj=None):
        return False  # cancelled, never deleted: its recipients and results stay


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["email", "reason", "campaign", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]


@admin.register(CampaignOpportunity)
class CampaignOpportunityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["campaign", "opportunity", "created_at"]
    list_select_related = ["campaign", "opportunity"]

    def get_queryset(self, request):
        from marketing.models import Campaign as C

        return super().get_queryset(request).filter(campaign__in=C.objects.visible_to(request.user))


@admin.register(ReturnedMail)
class ReturnedMailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What `fetch_campaign_mail` read: bounces, automatic replies, replies, and the mail it
    did not understand (kept and marked read in the mailbox, listed here)."""

    list_display = ["received_at", "kind", "campaign", "recipient", "from_email", "subject", "status_code"]
    list_filter = ["kind"]
    search_fields = ["from_email", "subject", "address"]
    list_select_related = ["campaign", "recipient"]

    def get_queryset(self, request):
        returned = super().get_queryset(request)
        if request.user.is_superuser:
            return returned
        return returned.filter(campaign__in=Campaign.objects.visible_to(request.user))
