from django.contrib import admin

from crm.dashboard import services
from crm.dashboard.models import DashboardRefresh, SalesTarget


@admin.register(SalesTarget)
class SalesTargetAdmin(admin.ModelAdmin):
    list_display = ("owner", "period", "starts_on", "amount")
    list_filter = ("period", "starts_on")
    search_fields = ("owner__username", "owner__first_name", "owner__last_name")
    autocomplete_fields = ()
    date_hierarchy = "starts_on"

    def save_model(self, request, obj, form, change):
        services.sales_target_save(actor=request.user, target=obj)


@admin.register(DashboardRefresh)
class DashboardRefreshAdmin(admin.ModelAdmin):
    list_display = ("started_at", "finished_at", "facts", "seconds")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
