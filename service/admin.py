from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from contracts.selectors import contract_list
from crm.core.admin_mixins import ReadOnlyInline, ServiceAdminMixin, WorkflowAdminMixin
from crm.core.exceptions import DomainError
from crm.core.services import reference_row_save
from orders.selectors import order_list
from service import selectors, services
from service.choices import TicketStatus
from service.models import (
    AgentDuty,
    BusinessCalendar,
    DeskSettings,
    Holiday,
    ResolutionCode,
    SlaPolicy,
    Ticket,
    TicketEntry,
    WorkingHours,
)


class SettingAdminMixin:
    """Settings are saved through `reference_row_save` (permission, validation, audit); the
    days of a calendar are removed through `calendar_day_delete`. Policies and calendars are
    deactivated or kept, never deleted (tickets point at them)."""

    def save_model(self, request, obj, form, change):
        reference_row_save(
            actor=request.user,
            instance=obj,
            fields=[field.name for field in obj._meta.concrete_fields if field.name != "id"],
            refusal=_("You may not change the service desk's settings."),
        )

    def save_formset(self, request, form, formset, change):
        for obj in formset.save(commit=False):
            self.save_model(request, obj, None, bool(obj.pk))
        for obj in formset.deleted_objects:
            services.calendar_day_delete(actor=request.user, day=obj)

    def has_delete_permission(self, request, obj=None):
        return False


class CalendarDayAdminMixin(SettingAdminMixin):
    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm(f"service.delete_{self.model._meta.model_name}")

    def delete_model(self, request, obj):
        services.calendar_day_delete(actor=request.user, day=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.calendar_day_delete(actor=request.user, day=obj)


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("service.delete_workinghours")


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0
    fields = ["date", "name", "is_workday", "works_like"]
    ordering = ["-date"]

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("service.delete_holiday")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(SettingAdminMixin, admin.ModelAdmin):
    list_display = ["name", "time_zone", "is_default"]
    inlines = [WorkingHoursInline, HolidayInline]


@admin.register(Holiday)
class HolidayAdmin(CalendarDayAdminMixin, admin.ModelAdmin):
    list_display = ["date", "name", "is_workday", "works_like", "calendar"]
    list_filter = ["calendar", "is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(SettingAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "priority",
        "customer_tier",
        "kind",
        "first_response_minutes",
        "resolution_minutes",
        "is_active",
    ]
    list_filter = ["priority", "customer_tier", "kind", "is_active"]


@admin.register(ResolutionCode)
class ResolutionCodeAdmin(SettingAdminMixin, admin.ModelAdmin):
    """The resolve step's list of outcomes; deactivated, never deleted (tickets keep theirs)."""

    list_display = ["name", "is_active", "position"]
    list_editable = ["is_active", "position"]
    list_filter = ["is_active"]


@admin.register(DeskSettings)
class DeskSettingsAdmin(SettingAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "reopen_closed_days"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not DeskSettings.objects.exists()


@admin.register(AgentDuty)
class AgentDutyAdmin(admin.ModelAdmin):
    list_display = ["agent", "on_duty", "last_assigned_at"]
    list_filter = ["on_duty"]
    fields = ["agent", "on_duty", "last_assigned_at"]
    readonly_fields = ["last_assigned_at"]
    actions = ["put_on_duty", "put_off_duty"]

    def save_model(self, request, obj, form, change):
        try:
            services.agent_duty_set(actor=request.user, agent=obj.agent, on_duty=obj.on_duty)
        except DomainError as error:
            messages.error(request, error.message)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Put selected agents on duty"), permissions=["change"])
    def put_on_duty(self, request, queryset):
        for duty in queryset.select_related("agent"):
            services.agent_duty_set(actor=request.user, agent=duty.agent, on_duty=True)

    @admin.action(description=_("Put selected agents off duty"), permissions=["change"])
    def put_off_duty(self, request, queryset):
        for duty in queryset.select_related("agent"):
            services.agent_duty_set(actor=request.user, agent=duty.agent, on_duty=False)


class TicketEntryInline(ReadOnlyInline):
    model = TicketEntry
    fields = ["created_at", "kind", "author", "author_email", "body"]


@admin.register(Ticket)
class TicketAdmin(WorkflowAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    """Tickets are opened and worked from the pages; here they are read, edited through
    `ticket_update` (what the ticket is about; not closed ones), and moved along the
    workflow by actions that call the same services (service/workflow.py)."""

    list_display = ["number", "subject", "customer", "kind", "priority", "status", "assignee", "resolution_due_at"]
    list_filter = ["status", "kind", "priority", "channel"]
    search_fields = ["number", "subject", "customer__name"]
    list_select_related = ["customer", "assignee"]
    date_hierarchy = "created_at"
    inlines = [TicketEntryInline]
    show_full_result_count = False
    fields = [
        "number",
        "customer",
        "contact",
        "contract",
        "order",
        "kind",
        "channel",
        "subject",
        "description",
        "priority",
        "status",
        "assignee",
        "sla_policy",
        "first_response_due_at",
        "first_responded_at",
        "resolution_due_at",
        "resolved_at",
        "closed_at",
        "paused_minutes",
        "resolution",
        "created_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.status == TicketStatus.CLOSED:
            return self.fields
        return [name for name in self.fields if name not in services.EDITABLE_FIELDS]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:  # only the ticket's customer's contacts, contracts and orders
            for name, queryset in (
                ("contact", obj.customer.contacts.order_by("name")),
                ("contract", contract_list(user=request.user).filter(customer=obj.customer_id)),
                ("order", order_list(user=request.user).filter(customer=obj.customer_id)),
            ):
                if name in form.base_fields:
                    form.base_fields[name].queryset = queryset
        return form

    def update_through_service(self, user, obj, values):
        return services.ticket_update(actor=user, ticket_id=obj.pk, **values)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or selectors.ticket_can_edit(ticket=obj, user=request.user))

    def has_delete_permission(self, request, obj=None):
        return False


from service import mail_admin  # noqa: E402,F401 - the desk's mail in the admin (service/mail_admin.py)
