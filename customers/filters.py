import django_filters
from django.utils.translation import gettext_lazy as _

from crm.core.filters import CrmFilterSet, StableOrderingFilter
from crm.core.masking import masker_for
from crm.core.page_extras import CUSTOMER_LIST, columns_for
from crm.core.roles import owner_candidates
from customers.choices import CustomerStatus, CustomerTier, Industry, OpportunityStage, Region
from customers.forms import DATE_INPUT
from customers.models import Contact, Customer, Opportunity
from customers.permissions import can_see_contact_details
from customers.selectors import contact_search, customer_search, opportunity_search, stale_before


class CustomerFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(choices=CustomerStatus.choices)
    industry = django_filters.ChoiceFilter(choices=Industry.choices)
    tier = django_filters.ChoiceFilter(choices=CustomerTier.choices)
    region = django_filters.ChoiceFilter(choices=Region.choices)
    owner = django_filters.ModelChoiceFilter(queryset=owner_candidates(), label=_("Owner"))
    sort = StableOrderingFilter(
        fields=(("name", "name"), ("created_at", "created"), ("updated_at", "updated"), ("status", "status")),
        field_labels={"name": _("Name"), "created_at": _("Created"), "updated_at": _("Updated"), "status": _("Status")},
        label=_("Sort"),
        then={"status": ("name",)},
    )

    class Meta:
        model = Customer
        fields = ["q", "status", "industry", "tier", "region", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user if self.request else None
        if user is None or not user.has_perm("customers.view_all_customer"):
            self.filters.pop("owner")  # a rep sees only their own customers: nothing to choose
        for column in columns_for(CUSTOMER_LIST):  # a higher app's column (the segment) filters too
            self.filters[column.key] = django_filters.ChoiceFilter(
                label=column.heading, choices=column.choices(), method=self._column_filter(column, user)
            )
            self.filters[column.key].parent = self

    @staticmethod
    def _column_filter(column, user):
        def narrow(queryset, name, value):
            return column.filter(user, queryset, value) if value else queryset

        return narrow

    def search(self, queryset, name, value):
        if masker_for(self.request.user).hides(value):
            return queryset.none()
        return customer_search(queryset, value, reveal=can_see_contact_details(self.request.user))


class ContactFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    primary = django_filters.BooleanFilter(field_name="is_primary", label=_("Primary only"))
    sort = StableOrderingFilter(
        fields=(("name", "name"), ("customer_name", "customer")),
        field_labels={"name": _("Name"), "customer_name": _("Customer")},
        label=_("Sort"),
    )

    class Meta:
        model = Contact
        fields = ["q", "primary"]

    def search(self, queryset, name, value):
        if masker_for(self.request.user).hides(value):
            return queryset.none()
        return contact_search(queryset, value, reveal=can_see_contact_details(self.request.user))


class OpportunityFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    stage = django_filters.MultipleChoiceFilter(choices=OpportunityStage.choices, label=_("Stage"))
    owner = django_filters.ModelChoiceFilter(queryset=owner_candidates(), label=_("Owner"))
    customer = django_filters.NumberFilter(field_name="customer_id", widget=django_filters.widgets.forms.HiddenInput)
    close_from = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="gte", label=_("Closing from"), widget=DATE_INPUT
    )
    close_to = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="lte", label=_("Closing to"), widget=DATE_INPUT
    )
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label=_("Amount from"))
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label=_("Amount to"))
    stale = django_filters.BooleanFilter(
        method="filter_stale", label=_("Idle only"), widget=django_filters.widgets.forms.CheckboxInput
    )
    sort = StableOrderingFilter(
        fields=(
            ("expected_close_date", "close"),
            ("amount", "amount"),
            ("updated_at", "updated"),
            ("title", "title"),
        ),
        field_labels={
            "expected_close_date": _("Expected close"),
            "amount": _("Amount"),
            "updated_at": _("Last change"),
            "title": _("Title"),
        },
        label=_("Sort"),
    )

    class Meta:
        model = Opportunity
        fields = ["q", "stage", "owner", "customer", "close_from", "close_to", "amount_min", "amount_max", "stale"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user if self.request else None
        if user is None or not user.has_perm("customers.view_all_customer"):
            self.filters.pop("owner")

    def search(self, queryset, name, value):
        if masker_for(self.request.user).hides(value):
            return queryset.none()
        return opportunity_search(queryset, value)

    def filter_stale(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.open().filter(updated_at__lt=stale_before())


class BoardFilter(CrmFilterSet):
    """The board narrowed to one owner (managers) and a closing window."""

    owner = django_filters.ModelChoiceFilter(queryset=owner_candidates(), label=_("Owner"))
    close_from = OpportunityFilter.base_filters["close_from"]
    close_to = OpportunityFilter.base_filters["close_to"]

    class Meta:
        model = Opportunity
        fields = ["owner", "close_from", "close_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user if self.request else None
        if user is None or not user.has_perm("customers.view_all_customer"):
            self.filters.pop("owner")
