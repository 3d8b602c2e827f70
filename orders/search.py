"""Orders and quotes in the navigation's search box (registered in `apps.py`)."""

from django.utils.translation import gettext_lazy as _

from crm.core.search import SearchHit, SearchProvider
from orders.selectors import order_list, order_search, quote_list, quote_search


def _orders(user, text):
    return order_search(order_list(user=user), text).order_by("-number", "-pk")


def _order_hit(order, masker):
    return SearchHit(
        heading=order.number,
        summary=f"{masker.text(order.customer.name)} · {order.get_status_display()}",
        url=order.get_absolute_url(),
    )


def _quotes(user, text):
    return quote_search(quote_list(user=user), text).order_by("-number", "-revision", "-pk")


def _quote_hit(quote, masker):
    return SearchHit(
        heading=str(quote),
        summary=f"{masker.text(quote.title)} · {masker.text(quote.customer.name)} · {quote.get_status_display()}",
        url=quote.get_absolute_url(),
    )


PROVIDERS = [
    SearchProvider(
        kind="orders",
        label=_("Orders"),
        permission="orders.view_order",
        find=_orders,
        hit=_order_hit,
        list_url_name="orders:order_list",
        position=40,
    ),
    SearchProvider(
        kind="quotes",
        label=_("Quotes"),
        permission="orders.view_quote",
        find=_quotes,
        hit=_quote_hit,
        list_url_name="orders:quote_list",
        position=50,
    ),
]
