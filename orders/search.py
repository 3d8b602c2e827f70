"""Orders in the navigation's search box (registered in `apps.py`)."""

from django.utils.translation import gettext_lazy as _

from crm.core.search import SearchHit, SearchProvider
from orders.selectors import order_list, order_search


def _orders(user, text):
    return order_search(order_list(user=user), text).order_by("-number", "-pk")


def _order_hit(order, masker):
    return SearchHit(
        heading=order.number,
        summary=f"{masker.text(order.customer.name)} · {order.get_status_display()}",
        url=order.get_absolute_url(),
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
    )
]
