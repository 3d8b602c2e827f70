from django.contrib import admin

from crm.core.admin_mixins import (
    ReadOnlyInline,
    ServiceAdminMixin,
    VisibleAdminMixin,
    WorkflowAdminMixin,
)
from orders import services
from orders.models import (
    Order,
    OrderLine,
    Product,
    Quote,
    QuoteDiscountLimit,
    QuoteLine,
    QuoteLink,
    QuoteTermsTemplate,
)


@admin.register(Product)
class ProductAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["sku", "name", "unit_price", "currency", "is_active", "created_at"]
    list_filter = ["is_active", "currency"]
    search_fields = ["sku", "name"]
    fields = ["sku", "name", "description", "unit_price", "currency", "is_active", "created_at"]
    readonly_fields = ["created_at"]
    ordering = ["name", "id"]

    def create_through_service(self, user, values):
        values = {name: value for name, value in values.items() if name != "created_at"}
        return services.product_create(actor=user, **values)

    def update_through_service(self, user, obj, values):
        return services.product_update(actor=user, product_id=obj.pk, **values)

    def has_delete_permission(self, request, obj=None):
        return False  # order lines keep pointing at products: deactivate instead


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["product", "quantity", "unit_price", "discount_percent", "line_total"]


@admin.register(Order)
class OrderAdmin(WorkflowAdminMixin, VisibleAdminMixin, admin.ModelAdmin):
    """Orders are placed and edited from the pages; here they are read, and moved along the
    workflow by actions that call the same services."""

    list_display = ["number", "customer", "contract", "order_date", "status", "total", "currency", "owner"]
    list_filter = ["status", "currency", "order_date"]
    search_fields = ["number", "external_ref", "customer__name", "contract__number"]
    list_select_related = ["customer", "contract", "owner"]
    date_hierarchy = "order_date"
    inlines = [OrderLineInline]
    # The workflow's actions (approve, start fulfilment, deliver, close) come from orders/workflow.py.
    show_full_result_count = False
    fields = [
        "number",
        "customer",
        "contract",
        "order_date",
        "currency",
        "total",
        "status",
        "owner",
        "notes",
        "external_ref",
        "approval_reasons",
        "submitted_by",
        "approved_by",
        "cancel_reason",
        "created_at",
        "updated_at",
        "delivered_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only here; the actions below take the workflow steps

    def has_delete_permission(self, request, obj=None):
        return False  # orders are cancelled, never deleted


class QuoteLineInline(ReadOnlyInline):
    model = QuoteLine
    fields = ["product", "description", "quantity", "unit_price", "discount_percent", "tax_rate", "net", "tax", "gross"]


class QuoteLinkInline(ReadOnlyInline):
    model = QuoteLink
    fields = ["email", "created_by", "created_at", "expires_at", "used_at", "revoked_at"]


@admin.register(Quote)
class QuoteAdmin(WorkflowAdminMixin, VisibleAdminMixin, admin.ModelAdmin):
    """Quotes are written and sent from the pages; here they are read, and their discounts
    approved by actions that call the same services (orders/workflow.py)."""

    list_display = ["__str__", "title", "customer", "status", "valid_until", "gross_total", "currency", "owner"]
    list_filter = ["status", "language", "currency"]
    search_fields = ["number", "title", "customer__name"]
    list_select_related = ["customer", "owner"]
    inlines = [QuoteLineInline, QuoteLinkInline]
    show_full_result_count = False
    fields = [
        "number",
        "revision",
        "supersedes",
        "opportunity",
        "customer",
        "title",
        "status",
        "language",
        "currency",
        "valid_until",
        "net_total",
        "tax_total",
        "gross_total",
        "discount_total",
        "terms",
        "owner",
        "approval_reasons",
        "submitted_by",
        "approved_by",
        "sent_to",
        "sent_at",
        "accepted_name",
        "decline_reason",
        "decided_at",
        "decided_ip",
        "decided_user_agent",
        "cancel_reason",
        "contract",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only here; the actions take the workflow steps

    def has_delete_permission(self, request, obj=None):
        return False  # quotes are cancelled, never deleted


@admin.register(QuoteTermsTemplate)
class QuoteTermsTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "is_default", "is_active"]
    list_filter = ["language", "is_active"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        services.quote_terms_template_save(actor=request.user, template=obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead


@admin.register(QuoteDiscountLimit)
class QuoteDiscountLimitAdmin(admin.ModelAdmin):
    """The one row of limits above which a quote's discount needs a sales manager."""

    list_display = ["__str__", "line_percent", "total_percent"]
    fields = ["line_percent", "total_percent"]

    def save_model(self, request, obj, form, change):
        services.quote_discount_limit_set(
            actor=request.user, line_percent=obj.line_percent, total_percent=obj.total_percent
        )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not QuoteDiscountLimit.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
