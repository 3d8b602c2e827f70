import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.filters import CrmFilterSet, StableOrderingFilter
from service.choices import TicketPriority, TicketStatus, TicketType
from service.models import Ticket
from service.selectors import ticket_search


class TicketFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Number or subject"), method="search")
    status = django_filters.ChoiceFilter(choices=TicketStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("Type"), choices=TicketType.choices)
    priority = django_filters.ChoiceFilter(choices=TicketPriority.choices)
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput)
    assignee = django_filters.NumberFilter(field_name="assignee_id", widget=forms.HiddenInput)
    sort = StableOrderingFilter(
        fields=(("created_at", "created"), ("resolution_due_at", "due"), ("number", "number")),
        field_labels={"created_at": _("Created"), "resolution_due_at": _("Resolution due"), "number": _("Number")},
        label=_("Sort"),
    )

    class Meta:
        model = Ticket
        fields = ["q", "status", "kind", "priority", "customer", "assignee"]

    def search(self, queryset, name, value):
        return ticket_search(queryset, value)
