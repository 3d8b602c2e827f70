import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.dates import DATE_INPUT_BOUNDS
from crm.core.filters import CrmFilterSet, StableOrderingFilter
from crm.core.masking import masker_for
from orders.choices import OrderStatus, QuoteStatus
from orders.models import Order, Product, Quote
from orders.selectors import order_search, product_search, quote_search

DATE_INPUT = forms.DateInput(attrs={"type": "date", **DATE_INPUT_BOUNDS}, format="%Y-%m-%d")


class ProductFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    active = django_filters.BooleanFilter(field_name="is_active", label=_("Active"))
    sort = StableOrderingFilter(
        fields=(("sku", "sku"), ("name", "name"), ("unit_price", "price"), ("created_at", "created")),
        field_labels={"sku": _("SKU"), "name": _("Name"), "unit_price": _("Unit price"), "created_at": _("Created")},
        label=_("Sort"),
    )

    class Meta:
        model = Product
        fields = ["q", "active"]

    def search(self, queryset, name, value):
        if masker_for(self.request.user).hides(value):
            return queryset.none()
        return product_search(queryset, value)


class OrderFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Number"), method="search")
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput)
    contract = django_filters.NumberFilter(field_name="contract_id", widget=forms.HiddenInput)
    date_from = django_filters.DateFilter(
        field_name="order_date", lookup_expr="gte", label=_("Date from"), widget=DATE_INPUT
    )
    date_to = django_filters.DateFilter(
        field_name="order_date", lookup_expr="lte", label=_("Date to"), widget=DATE_INPUT
    )
    sort = StableOrderingFilter(
        fields=(("order_date", "date"), ("total", "total"), ("number", "number")),
        field_labels={"order_date": _("Date"), "total": _("Total"), "number": _("Number")},
        label=_("Sort"),
    )

    class Meta:
        model = Order
        fields = ["q", "status", "customer", "contract", "date_from", "date_to"]

    def search(self, queryset, name, value):
        return order_search(queryset, value)


class QuoteFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Number or title"), method="search")
    status = django_filters.ChoiceFilter(choices=QuoteStatus.choices)
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput)
    opportunity = django_filters.NumberFilter(field_name="opportunity_id", widget=forms.HiddenInput)
    valid_from = django_filters.DateFilter(
        field_name="valid_until", lookup_expr="gte", label=_("Valid until from"), widget=DATE_INPUT
    )
    valid_to = django_filters.DateFilter(
        field_name="valid_until", lookup_expr="lte", label=_("Valid until to"), widget=DATE_INPUT
    )
    sort = StableOrderingFilter(
        fields=(("created_at", "created"), ("gross_total", "total"), ("valid_until", "valid"), ("number", "number")),
        field_labels={
            "created_at": _("Created"),
            "gross_total": _("Total"),
            "valid_until": _("Valid until"),
            "number": _("Number"),
        },
        label=_("Sort"),
    )

    class Meta:
        model = Quote
        fields = ["q", "status", "customer", "opportunity", "valid_from", "valid_to"]

    def search(self, queryset, name, value):
        if masker_for(self.request.user).hides(value):
            return queryset.none()
        return quote_search(queryset, value)
