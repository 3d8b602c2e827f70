from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from crm.core.admin_mixins import ReadOnlyInline, ServiceAdminMixin, VisibleAdminMixin, WorkflowAdminMixin
from crm.core.exceptions import DomainError
from crm.core.roles import owner_candidates
from customers import services
from customers.models import (
    Activity,
    Contact,
    Customer,
    Interaction,
    LostReason,
    Opportunity,
    OpportunityStageChange,
    StageProbability,
)
from customers.permissions import can_see_contact_details
from customers.selectors import customer_check_duplicates, customer_search


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["kind", "name", "industry", "tier", "status", "email", "phone", "address", "region", "owner", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_candidates()

    def clean(self):
        """The service's duplicate rule, shown next to the field before anything is saved."""
        cleaned = super().clean()
        try:
            customer_check_duplicates(
                actor=self.request_user,
                name=cleaned.get("name", ""),
                email=cleaned.get("email", ""),
                phone=cleaned.get("phone", ""),
                exclude_pk=self.instance.pk,
            )
        except DomainError as error:
            raise ValidationError({error.field: error.message}) from None
        return cleaned


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["name", "title", "email", "phone", "is_primary", "language", "marketing_consent"]
    extra = 0


@admin.register(Customer)
class CustomerAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ["name", "kind", "status", "industry", "tier", "region", "owner", "updated_at"]
    list_filter = ["status", "kind", "industry", "tier", "region", ("owner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name_key", "email_key", "phone_key"]
    list_select_related = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ContactInline]
    show_full_result_count = False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user
        return form

    def get_search_results(self, request, queryset, search_term):
        reveal = can_see_contact_details(request.user)
        return customer_search(queryset, search_term, reveal=reveal), False

    def create_through_service(self, user, values):
        return services.customer_create(actor=user, **values)

    def update_through_service(self, user, obj, values):
        return services.customer_update(actor=user, customer_id=obj.pk, **values)

    def delete_through_service(self, user, obj):
        services.customer_delete(actor=user, customer_id=obj.pk)

    def save_formset(self, request, form, formset, change):
        """Contacts edited inline go through the contact services too."""
        customer = form.instance
        # The admin's change message reads what the formset saved.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.deleted_forms:
            if inline_form.instance.pk:
                services.contact_delete(actor=request.user, contact_id=inline_form.instance.pk)
                formset.deleted_objects.append(inline_form.instance)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            values = {name: inline_form.cleaned_data[name] for name in ContactInline.fields}
            if inline_form.instance.pk:
                contact = services.contact_update(actor=request.user, contact_id=inline_form.instance.pk, **values)
                formset.changed_objects.append((contact, inline_form.changed_data))
            else:
                contact = services.contact_create(actor=request.user, customer_id=customer.pk, **values)
                formset.new_objects.append(contact)


@admin.register(Contact)
class ContactAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["name", "title", "customer", "is_primary", "marketing_consent"]
    list_filter = ["is_primary", "marketing_consent"]
    search_fields = ["name", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    fields = ["customer", "name", "title", "email", "phone", "is_primary", "marketing_consent"]

    def get_readonly_fields(self, request, obj=None):
        return ["customer"] if obj else []

    def create_through_service(self, user, values):
        values = dict(values)
        customer = values.pop("customer")
        return services.contact_create(actor=user, customer_id=customer.pk, **values)

    def update_through_service(self, user, obj, values):
        return services.contact_update(actor=user, contact_id=obj.pk, **values)

    def delete_through_service(self, user, obj):
        services.contact_delete(actor=user, contact_id=obj.pk)


@admin.register(Interaction)
class InteractionAdmin(VisibleAdminMixin, admin.ModelAdmin):
    """The timeline is written from the customer's page; here it is read and pruned."""

    list_display = ["subject", "kind", "customer", "author", "occurred_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "customer__name"]
    list_select_related = ["customer", "author"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        services.interaction_delete(actor=request.user, interaction_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for interaction in queryset:
            services.interaction_delete(actor=request.user, interaction_id=interaction.pk)


class OpportunityAdminForm(forms.ModelForm):
    class Meta:
        model = Opportunity
        fields = [
            "customer",
            "title",
            "owner",
            "amount",
            "currency",
            "expected_close_date",
            "source",
            "probability_override",
            "next_step",
            "next_step_date",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_candidates()
        if self.instance.pk:
            # The customer is fixed once the deal exists; the owner changes by assignment.
            self.fields["customer"].disabled = True


class StageChangeInline(ReadOnlyInline):
    model = OpportunityStageChange
    fields = ["changed_at", "from_stage", "to_stage", "changed_by", "seconds_in_from", "note"]


@admin.register(Opportunity)
class OpportunityAdmin(WorkflowAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    """Deals through the same services as the pages: the stage, its dates and the lost reason
    are read-only here and change only by the steps (the actions above the list)."""

    form = OpportunityAdminForm
    list_display = ["title", "customer", "stage", "amount", "currency", "expected_close_date", "owner", "updated_at"]
    list_filter = ["stage", "source", ("owner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title"]
    list_select_related = ["customer", "owner"]
    readonly_fields = ["stage", "lost_reason", "stage_entered_at", "closed_at", "created_at", "updated_at"]
    inlines = [StageChangeInline]
    show_full_result_count = False
    raw_id_fields = ["customer"]

    def create_through_service(self, user, values):
        return services.opportunity_create(actor=user, **values)

    def update_through_service(self, user, obj, values):
        values.pop("customer", None)
        owner = values.pop("owner", None)
        if values:
            services.opportunity_update(actor=user, opportunity_id=obj.pk, **values)
        if owner is not None and owner != Opportunity.objects.get(pk=obj.pk).owner:
            services.opportunity_assign(actor=user, opportunity_ids=[obj.pk], new_owner=owner)
        return obj

    def has_delete_permission(self, request, obj=None):
        return False  # a deal is lost, never deleted: the pipeline's history stays whole


@admin.register(Activity)
class ActivityAdmin(WorkflowAdminMixin, VisibleAdminMixin, admin.ModelAdmin):
    """Activities are planned and worked on the pages (and My day); the admin reads them and
    cancels them through the service."""

    list_display = ["subject", "kind", "customer", "assignee", "due_at", "status", "reminded_at"]
    list_filter = ["status", "kind", ("assignee", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["subject"]
    list_select_related = ["customer", "assignee"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "position"]
    list_editable = ["is_active", "position"]
    list_filter = ["is_active"]

    def save_model(self, request, obj, form, change):
        services.lost_reason_save(actor=request.user, reason=obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead; lost deals keep their reason


@admin.register(StageProbability)
class StageProbabilityAdmin(admin.ModelAdmin):
    list_display = ["stage", "probability"]
    list_editable = ["probability"]

    def get_readonly_fields(self, request, obj=None):
        return ["stage"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        services.stage_probability_save(actor=request.user, row=obj)

    def has_delete_permission(self, request, obj=None):
        return False
