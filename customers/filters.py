import django_filters
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm.core.masking import masker_for
from customers.choices import CustomerStatus, CustomerTier, Industry
from customers.models import Contact, Customer
from customers.permissions import can_see_contact_details, owner_candidates
from customers.selectors import contact_search, customer_search


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorting with the primary key as a tie-breaker, so pages never overlap. Each field's
    label comes from `field_labels` (translated), its descending choice from our catalog."""

    def build_choices(self, fields, labels):
        ascending = [(param, labels.get(field, param)) for field, param in fields.items()]
        descending = [(f"-{param}", format_lazy(_("{label} (descending)"), label=label)) for param, label in ascending]
        return [choice for pair in zip(ascending, descending, strict=True) for choice in pair]

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        ordering = list(qs.query.order_by) or list(qs.model._meta.ordering)
        if "pk" not in ordering and "id" not in ordering and "-id" not in ordering:
            ordering.append("-pk" if ordering and str(ordering[0]).startswith("-") else "pk")
        return qs.order_by(*ordering)


class CustomerFilter(django_filters.FilterSet):
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


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    primary = django_filters.BooleanFilter(field_name="is_primary", label=_("Primary only"))
    sort = StableOrderingFilter(
        fields=(("name", "name"), ("customer__name", "customer")),
        field_labels={"name": _("Name"), "customer__name": _("Customer")},
        label=_("Sort"),
    )

    class Meta:
        model = Contact
        fields = ["q", "primary"]

    def search(self, queryset, name, value):
        if masker_for(self.request.user).hides(value):
            return queryset.none()
        return contact_search(queryset, value, reveal=can_see_contact_details(self.request.user))
