from django.contrib import admin

from crm.core.admin_mixins import ReadOnlyInline, ServiceAdminMixin, VisibleAdminMixin, WorkflowAdminMixin
from orders import services
from orders.models import Order, OrderLine, Product


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
    search_fields = ["number", "customer__name", "contract__number"]
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
