"""The demo's order history: up to three years of past orders of the demo customers, bulk-loaded.

A customer base with a history the insight models can learn from (crm/insight), shaped like
a real one rather than uniform noise:

- only customers who buy have orders: active ones, and churned ones who stopped some months
  ago; some active customers are lapsing (no order for months) — leads and prospects have none;
- each buyer has a rhythm: a usual gap between orders (from three weeks to eight months;
  strategic and key accounts order more often) with some scatter around it;
- a season: fewer orders around the Spring Festival and in August, more in the autumn;
- a size that follows the customer's tier (strategic accounts spend the most), with scatter;
- old orders are closed (a few cancelled); the last weeks' are still moving (pending,
  approved, in fulfilment, delivered).

Like the customers and the pipeline, the rows are COPYed in one transaction and the load is
recorded by one audit event (`demo.orders_seeded`, with the counts); the order numbers come
from the same yearly counters the services use, which then continue after them. The later
orders against contracts go through the services (orders/demo.py). The same seed gives the
same history (dates are relative to `today`).
"""

import datetime
import json
import math
import random
from collections import Counter
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction

from crm.core.audit import audit_record
from crm.core.bulk import batches, copy_rows, ids_reserve
from crm.core.models import DocumentSequence
from customers.choices import CustomerStatus, CustomerTier
from customers.models import Customer
from orders.choices import OrderStatus
from orders.models import Order, OrderLine, Product, line_total

BATCH_SIZE = 5000
HISTORY_DAYS = 3 * 365
#: Customers' usual gap between orders, in days: log-uniform between these …
GAP_DAYS = (21, 240)
#: … shortened for the bigger accounts, whose orders are also larger (per order, in the
#: default currency, the catalog's).
TIER_GAP = {CustomerTier.STRATEGIC: 0.5, CustomerTier.KEY: 0.7, CustomerTier.STANDARD: 1.0, CustomerTier.SMALL: 1.3}
TIER_ORDER_VALUE = {
    CustomerTier.STRATEGIC: 120_000,
    CustomerTier.KEY: 45_000,
    CustomerTier.STANDARD: 12_000,
    CustomerTier.SMALL: 3_500,
}
#: Gamma shape of the gaps around a customer's usual one (larger: more regular).
GAP_SHAPE = 6.0
#: How busy each month is (1 = usual): the Spring Festival in January/February, the August
#: lull, the autumn budgets.
SEASON = [0.8, 0.55, 1.1, 1.0, 1.0, 1.05, 0.95, 0.75, 1.2, 1.25, 1.3, 1.15]
#: Active customers who have stopped ordering lately, and when churned ones stopped.
LAPSING_SHARE = 0.2
LAPSED_DAYS = (100, 330)
CHURNED_DAYS = (180, 720)
#: Orders older than this are finished; younger ones are still moving.
SETTLED_DAYS = 45
RECENT_STATUSES = [
    (OrderStatus.PENDING_APPROVAL, 8),
    (OrderStatus.APPROVED, 15),
    (OrderStatus.IN_FULFILMENT, 25),
    (OrderStatus.DELIVERED, 30),
    (OrderStatus.CLOSED, 17),
    (OrderStatus.CANCELLED, 5),
]
CANCELLED_SHARE = 0.05
APPROVED_ON = {OrderStatus.APPROVED, OrderStatus.IN_FULFILMENT, OrderStatus.DELIVERED, OrderStatus.CLOSED}

ORDER_COLUMNS = [
    "id", "number", "customer_id", "contract_id", "order_date", "currency", "total", "status", "owner_id",
    "notes", "approval_reasons", "submitted_by_id", "approved_by_id", "cancel_reason", "created_at", "updated_at",
    "delivered_at",
]  # fmt: skip
LINE_COLUMNS = ["order_id", "product_id", "quantity", "unit_price", "discount_percent", "line_total"]
DISCOUNTS = [0, 0, 0, 0, 0, 3, 5, 5, 8, 10]
CANCEL_REASON = "Customer postponed the purchase."


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


class OrderHistory:
    """Past orders of the given customers, reproducible from the seed."""

    def __init__(self, *, seed: int, today: datetime.date, products: list, manager_id: int, tz):
        self.rng = random.Random(f"order-history-{seed}")
        self.today = today
        self.products = products  # [(id, unit price)] in the default currency
        self.manager_id = manager_id
        self.tz = tz

    def dates(self, customer) -> list[datetime.date]:
        """The days a customer ordered on, oldest first (none for one who never bought)."""
        rng = self.rng
        if customer.status not in (CustomerStatus.ACTIVE, CustomerStatus.CHURNED):
            return []
        start = max(customer.created_at.astimezone(self.tz).date(), self.today - datetime.timedelta(days=HISTORY_DAYS))
        stop = self.today
        if customer.status == CustomerStatus.CHURNED:
            stop -= datetime.timedelta(days=rng.randint(*CHURNED_DAYS))
        elif rng.random() < LAPSING_SHARE:
            stop -= datetime.timedelta(days=rng.randint(*LAPSED_DAYS))
        usual = GAP_DAYS[0] * (GAP_DAYS[1] / GAP_DAYS[0]) ** rng.random() * TIER_GAP[customer.tier]
        day = start + datetime.timedelta(days=int(rng.random() * usual))
        days = []
        while day <= stop:
            days.append(day)
            gap = rng.gammavariate(GAP_SHAPE, usual / GAP_SHAPE) / SEASON[day.month - 1]
            day += datetime.timedelta(days=max(1, round(gap)))
        return days

    def lines(self, customer) -> list[tuple[int, Decimal, Decimal, Decimal]]:
        """1-4 lines adding up to about the customer's usual order size."""
        rng = self.rng
        target = TIER_ORDER_VALUE[customer.tier] * math.exp(rng.gauss(0, 0.6))
        chosen = rng.sample(self.products, k=min(len(self.products), rng.choice([1, 1, 2, 2, 3, 4])))
        lines = []
        for product_id, price in chosen:
            quantity = Decimal(max(1, round(target / len(chosen) / float(price))))
            lines.append((product_id, quantity, price, Decimal(rng.choice(DISCOUNTS))))
        return lines

    def status(self, order_date: datetime.date) -> str:
        if (self.today - order_date).days > SETTLED_DAYS:
            return OrderStatus.CANCELLED if self.rng.random() < CANCELLED_SHARE else OrderStatus.CLOSED
        return _weighted(self.rng, RECENT_STATUSES)

    def orders(self, customers):
        """(customer, order date, status, lines) for each past order, by customer."""
        for customer in customers:
            for day in self.dates(customer):
                yield customer, day, self.status(day), self.lines(customer)


def _moment(day: datetime.date, tz, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=tz)


@transaction.atomic
def demo_order_history_load(*, history: OrderHistory, customers, admin, seed: int) -> dict:
    """COPY the history's orders and lines in one transaction, numbered after the yearly
    counters (which move past them), recorded by one `demo.orders_seeded` event."""
    rows = sorted(history.orders(customers), key=lambda row: (row[1], row[0].pk))
    counts: Counter = Counter()
    per_year = dict(
        DocumentSequence.objects.filter(key__startswith="ORD-").values_list("key", "last_value").select_for_update()
    )
    now = datetime.datetime.now(datetime.UTC)
    tables = {model: model._meta.db_table for model in (Order, OrderLine)}
    currency = settings.DEFAULT_CURRENCY
    with connection.cursor() as cursor:
        for batch in batches(rows, BATCH_SIZE):
            ids = ids_reserve(cursor, tables[Order], len(batch))
            order_rows, line_rows = [], []
            for order_id, (customer, day, status, lines) in zip(ids, batch, strict=True):
                key = f"ORD-{day.year}"
                per_year[key] = per_year.get(key, 0) + 1
                total = Decimal(0)
                for product_id, quantity, price, discount in lines:
                    amount = line_total(quantity, price, discount)
                    line_rows.append((order_id, product_id, quantity, price, discount, amount))
                    total += amount
                created = _moment(day, history.tz, 9)
                delivered = None
                if status in (OrderStatus.DELIVERED, OrderStatus.CLOSED):
                    delivered = min(now, created + datetime.timedelta(days=history.rng.randint(3, 25)))
                updated = min(now, delivered or created + datetime.timedelta(hours=history.rng.randint(1, 72)))
                order_rows.append(
                    (
                        order_id, f"{key}-{per_year[key]:06d}", customer.pk, None, day, currency, total, status,
                        customer.owner_id, "", json.dumps([]),
                        None if status == OrderStatus.CANCELLED else customer.owner_id,
                        history.manager_id if status in APPROVED_ON else None,
                        CANCEL_REASON if status == OrderStatus.CANCELLED else "", created, updated, delivered,
                    )
                )  # fmt: skip
                counts[status] += 1
            copy_rows(cursor, tables[Order], ORDER_COLUMNS, order_rows)
            copy_rows(cursor, tables[OrderLine], LINE_COLUMNS, line_rows)
            counts["lines"] += len(line_rows)
    for key, last in per_year.items():
        DocumentSequence.objects.update_or_create(key=key, defaults={"last_value": last})
    lines = counts.pop("lines", 0)
    result = {
        "history_orders": counts.total(),
        "history_lines": lines,
        "history_customers": len({row[0].pk for row in rows}),
    }
    audit_record(
        actor=None,
        action="demo.orders_seeded",
        target=admin,
        extra={**result, "by_status": {str(key): value for key, value in sorted(counts.items())}, "seed": seed},
    )
    return result


def demo_order_history_seed(*, seed: int, manager, admin, today: datetime.date, customer_ids=None) -> dict:
    """The demo customers' past orders over the catalog (see the module's docstring)."""
    from django.utils import timezone

    catalog = Product.objects.filter(is_active=True, currency=settings.DEFAULT_CURRENCY).order_by("sku")
    products = list(catalog.values_list("id", "unit_price"))
    if not products:
        return {"history_orders": 0}
    customers = Customer.objects.order_by("id").only("id", "status", "tier", "owner_id", "created_at")
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    history = OrderHistory(
        seed=seed, today=today, products=products, manager_id=manager.pk, tz=timezone.get_current_timezone()
    )
    return demo_order_history_load(history=history, customers=list(customers), admin=admin, seed=seed)
