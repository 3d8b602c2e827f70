"""What insight adds to the customers pages (through `crm.core.page_extras`): the segment
and next-order panel on the customer page, the win-probability panel on the opportunity
page, and the segment column and filter of the customer list."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from crm.core.page_extras import (
    CUSTOMER_DETAIL,
    CUSTOMER_LIST,
    OPPORTUNITY_DETAIL,
    ListColumn,
    column_register,
    panel_register,
)
from crm.insight import selectors


def customer_panel(user, customer):
    insight = selectors.customer_insight(user=user, customer=customer)
    if insight is None:
        return ""
    return render_to_string("insight/_customer_panel.html", {"insight": insight, **_names()})


def opportunity_panel(user, opportunity):
    insight = selectors.opportunity_insight(user=user, opportunity=opportunity)
    if insight is None or not insight["is_open"]:
        return ""
    return render_to_string("insight/_opportunity_panel.html", {"insight": insight, **_names()})


def _names():
    return {
        "NOT_ENOUGH_DATA": selectors.NOT_ENOUGH_DATA,
        "NO_MODEL": selectors.NO_MODEL,
        "BASELINE": selectors.BASELINE,
        "SCORED": selectors.SCORED,
    }


def _segment_filter(user, queryset, value):
    return selectors.customers_in_segment(user=user, key=value, queryset=queryset)


SEGMENT_COLUMN = ListColumn(
    key="segment",
    heading=_("Segment"),
    values=lambda user, ids: selectors.segment_labels(user=user, customer_ids=ids),
    choices=selectors.segment_choices,
    filter=_segment_filter,
)


def register():
    panel_register(CUSTOMER_DETAIL, "insight", customer_panel)
    panel_register(OPPORTUNITY_DETAIL, "insight", opportunity_panel)
    column_register(CUSTOMER_LIST, SEGMENT_COLUMN)
