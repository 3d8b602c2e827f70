"""Past data for the models to learn from, written in bulk.

A model needs hundreds of closed deals and orders spread over two years; taking each one
through its workflow services at a past date is not possible (the services stamp "now").
Deals go in through the demo's own loader (`customers.tests.pipeline_history`); orders are
written as closed rows of the past, the way the history a CRM migrates in arrives.
"""

import itertools
from decimal import Decimal

from customers.tests.pipeline_history import deal, deals_load
from orders.choices import OrderStatus
from orders.models import Order

__all__ = ["deal", "deals_load", "orders_load"]

_numbers = itertools.count(1)


def orders_load(rows, *, owner) -> int:
    """`rows`: (customer, order date, total) — closed orders of the past."""
    orders = [
        Order(
            number=f"HX-{next(_numbers):07d}",
            customer=customer,
            order_date=day,
            total=Decimal(str(round(total, 2))),
            status=OrderStatus.CLOSED,
            owner=owner,
        )
        for customer, day, total in rows
    ]
    Order.objects.bulk_create(orders, batch_size=2000)
    return len(orders)
