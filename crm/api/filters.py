"""The API's own list filters, for the one resource whose page has none: the timeline is a
card on the customer's page, so interactions get the filters a timeline needs here."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.core.filters import CrmFilterSet, StableOrderingFilter
from crm.core.roles import owner_candidates
from customers.choices import InteractionKind
from customers.models import Interaction


class InteractionFilter(CrmFilterSet):
    """By customer, contact, deal, kind, the days it happened on, who recorded it and (for
    those who see every customer) the customer's owner; newest first, id last."""

    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    contact = django_filters.NumberFilter(field_name="contact_id", label=_("Contact"))
    opportunity = django_filters.NumberFilter(field_name="opportunity_id", label=_("Opportunity"))
    kind = django_filters.MultipleChoiceFilter(choices=InteractionKind.choices, label=_("Kind"))
    occurred_from = django_filters.DateFilter(field_name="occurred_at__date", lookup_expr="gte", label=_("From"))
    occurred_to = django_filters.DateFilter(field_name="occurred_at__date", lookup_expr="lte", label=_("To"))
    author = django_filters.NumberFilter(field_name="author_id", label=_("recorded by"))
    owner = django_filters.ModelChoiceFilter(
        field_name="customer__owner", queryset=owner_candidates(), label=_("Owner")
    )
    sort = StableOrderingFilter(
        fields=(("occurred_at", "occurred"), ("created_at", "created")),
        field_labels={"occurred_at": _("When"), "created_at": _("Created")},
        label=_("Sort"),
    )

    class Meta:
        model = Interaction
        fields = ["customer", "contact", "opportunity", "kind", "occurred_from", "occurred_to", "author", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["owner"].queryset = owner_candidates()
        user = self.request.user if self.request else None
        if user is None or not user.has_perm("customers.view_all_customer"):
            self.filters.pop("owner")
