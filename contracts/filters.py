import datetime

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.selectors import contract_search
from crm.core.filters import CrmFilterSet, StableOrderingFilter
from crm.core.masking import masker_for
from crm.core.roles import owner_candidates


class ContractFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(choices=ContractStatus.choices)
    customer = django_filters.NumberFilter(field_name="customer_id", widget=django_filters.widgets.forms.HiddenInput)
    owner = django_filters.ModelChoiceFilter(queryset=owner_candidates(), label=_("Owner"))
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label=_("Amount from"))
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label=_("Amount to"))
    expiring_within = django_filters.NumberFilter(
        method="expiring", label=_("Expiring within (days)"), min_value=0, max_value=3650
    )
    sort = StableOrderingFilter(
        fields=(
            ("created_at", "created"),
            ("amount", "amount"),
            ("ordered_amount", "ordered"),
            ("end_date", "end"),
            ("number", "number"),
        ),
        field_labels={
            "created_at": _("Created"),
            "amount": _("Amount"),
            "ordered_amount": _("Ordered"),
            "end_date": _("End date"),
            "number": _("Number"),
        },
        label=_("Sort"),
    )

    class Meta:
        model = Contract
        fields = ["q", "status", "customer", "owner", "amount_min", "amount_max", "expiring_within"]

    def search(self, queryset, name, value):
        if masker_for(self.request.user).hides(value):
            return queryset.none()
        return contract_search(queryset, value)

    def expiring(self, queryset, name, value):
        today = timezone.localdate()
        return queryset.filter(
            status=ContractStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + datetime.timedelta(days=int(value)),
        )
