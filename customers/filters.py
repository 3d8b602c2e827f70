import django_filters
from django.utils.translation import gettext_lazy as _

from crm.core.filters import CrmFilterSet, StableOrderingFilter
from crm.core.masking import masker_for
from crm.core.roles import owner_candidates
from customers.choices import CustomerStatus, CustomerTier, Industry
from customers.models import Contact, Customer
from customers.permissions import can_see_contact_details
from customers.selectors import contact_search, customer_search


class CustomerFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(choices=CustomerStatus.choices)
    industry = django_filters.ChoiceFilter(choices=Industry.choices)
    tier = django_filters.ChoiceFilter(choices=CustomerTier.choices)
    owner = django_filters.ModelChoiceFilter(queryset=owner_candidates(), label=_("Owner"))
    sort = StableOrderingFilter(
        fields=(("name", "name"), ("created_at", "created"), ("updated_at", "updated"), ("status", "status")),
        field_labels={"name": _("Name"), "created_at": _("Created"), "updated_at": _("Updated"), "status": _("Status")},
        label=_("Sort"),
    )

    class Meta:
        model = Customer
        fields = ["q", "status", "industry", "tier", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user if self.request else None
        if user is None or not user.has_perm("customers.view_all_customer"):
            self.filters.pop("owner")  # a rep sees only their own customers: nothing to choose

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
