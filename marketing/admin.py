from django.contrib import admin

from crm.core.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline, ServiceAdminMixin, WorkflowAdminMixin
from marketing import services
from marketing.models import Campaign, CampaignOpportunity, Recipient, Segment, Suppression


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
    fields = ["name", "email", "status", "sent_at", "clicked_at", "unsubscribed_at", "error"]
    max_num = 0
    show_change_link = False


@admin.register(Campaign)
class CampaignAdmin(WorkflowAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["name", "segment", "status", "scheduled_at", "owner"]
    list_filter = ["status", "language"]
    search_fields = ["name"]
    list_select_related = ["segment", "owner"]
    fields = ["name", "segment", "language", "subject_zh", "body_zh", "subject_en", "body_en", "rate_per_minute"]
    readonly_fields = []
    inlines = [RecipientInline]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None and obj.status != "draft" else []

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
