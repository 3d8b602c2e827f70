import django_filters
from django.utils.translation import gettext_lazy as _

from crm.core.filtersets import CrmFilterSet
from crm.core.masking import masker_for
from customers.choices import CustomerStatus, CustomerTier, Industry
from customers.models import Contact, Customer
from customers.permissions import can_see_contact_details, owner_candidates
from customers.selectors import contact_search, customer_search


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorting with the primary key as a tie-breaker, so pages never overlap."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        ordering = list(qs.query.order_by) or list(qs.model._meta.ordering)
        if "pk" not in ordering and "id" not in ordering and "-id" not in ordering:
            ordering.append("-pk" if ordering and str(ordering[0]).startswith("-") else "pk")
        return qs.order_by(*ordering)


class CustomerFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(choices=CustomerStatus.choices)
    industry = django_filters.ChoiceFilter(choices=Industry.choices)
    tier = django_filters.ChoiceFilter(choices=CustomerTier.choices)
    owner = django_filters.ModelChoiceFilter(queryset=owner_candidates(), label=_("Owner"))
    sort = StableOrderingFilter(
        fields=(("name", "name"), ("created_at", "created"), ("updated_at", "updated"), ("status", "status")),
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
    sort = StableOrderingFilter(fields=(("name", "name"), ("customer__name", "customer")), label=_("Sort"))

    class Meta:
        model = Contact
        fields = ["q", "primary"]

    def search(self, queryset, name, value):
        if masker_for(self.request.user).hides(value):
            return queryset.none()
        return contact_search(queryset, value, reveal=can_see_contact_details(self.request.user))
