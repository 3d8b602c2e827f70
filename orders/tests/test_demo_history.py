"""The demo's order history: realistic patterns (who buys, how often, how much, when), the
numbers the services continue after, determinism, and the audit event of the load."""

import datetime
import io
from collections import Counter
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db.models import F, Max
from django.utils import timezone

from crm.core.audit import audit_chain_verify
from crm.core.demo import demo_users_ensure
from crm.core.models import AuditEvent
from crm.core.roles import Role
from customers.choices import CustomerStatus, CustomerTier
from customers.models import Customer
from orders.choices import OrderStatus
from orders.demo import demo_catalog_ensure
from orders.demo_history import OrderHistory, demo_order_history_seed
from orders.models import Order, Product
from orders.services import order_create

TODAY = datetime.date(2026, 12, 1)


def customers(count, *, status=CustomerStatus.ACTIVE, tier=CustomerTier.STANDARD):
    created = timezone.make_aware(datetime.datetime(2023, 1, 1))
    return [
        SimpleNamespace(pk=pk, status=status, tier=tier, owner_id=1, created_at=created) for pk in range(1, count + 1)
    ]


def history(seed=1):
    return OrderHistory(
        seed=seed,
        today=TODAY,
        products=[(1, Decimal("850.00")), (2, Decimal("4200.00"))],
        manager_id=1,
        tz=datetime.UTC,
    )


def test_only_buying_customers_order_and_churned_ones_stopped_long_ago():
    orders = history()
    for status in (CustomerStatus.LEAD, CustomerStatus.PROSPECT):
        assert not any(orders.dates(customer) for customer in customers(50, status=status))
    churned = [orders.dates(customer) for customer in customers(200, status=CustomerStatus.CHURNED)]
    assert all((TODAY - days[-1]).days >= 180 for days in churned if days)
    active = [orders.dates(customer) for customer in customers(400)]
    recent = sum(1 for days in active if days and (TODAY - days[-1]).days < 90)
    lapsing = sum(1 for days in active if days and (TODAY - days[-1]).days >= 100)
    assert recent > 200 and 40 < lapsing < 150  # most keep buying, some have lapsed


def test_customers_have_a_rhythm_a_season_and_a_size_by_tier():
    orders = history()
    rhythms = []
    months = Counter()
    for customer in customers(400):
        days = orders.dates(customer)
        gaps = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
        if len(gaps) >= 3:
            rhythms.append(sum(gaps) / len(gaps))
        months.update(day.month for day in days)
    assert min(rhythms) < 40 and max(rhythms) > 150  # some buy monthly, some twice a year
    assert months[2] < 0.8 * months[10]  # the Spring Festival lull against the autumn budgets

    def average_order(tier):
        totals = [sum(q * p for _id, q, p, _d in orders.lines(customer)) for customer in customers(300, tier=tier)]
        return sum(totals) / len(totals)

    assert average_order(CustomerTier.STRATEGIC) > 5 * average_order(CustomerTier.SMALL)


def test_old_orders_are_settled_and_recent_ones_still_moving():
    orders = history()
    old = Counter(orders.status(TODAY - datetime.timedelta(days=400)) for _ in range(500))
    recent = Counter(orders.status(TODAY - datetime.timedelta(days=5)) for _ in range(500))
    assert set(old) == {OrderStatus.CLOSED, OrderStatus.CANCELLED} and old[OrderStatus.CLOSED] > 400
    assert {OrderStatus.PENDING_APPROVAL, OrderStatus.IN_FULFILMENT, OrderStatus.DELIVERED} <= set(recent)


@pytest.mark.django_db
def test_the_load_numbers_its_orders_after_the_counters_and_is_audited():
    call_command("seed_demo", customers=60, contracts=0, seed=4, stdout=io.StringIO(), verbosity=0)
    users = demo_users_ensure()
    manager, admin = users["manager"], users["admin"]
    demo_catalog_ensure(manager=manager)
    today = timezone.localdate()

    counts = demo_order_history_seed(seed=9, manager=manager, admin=admin, today=today)

    orders = Order.objects.all()
    assert counts["history_orders"] == orders.count() > 100
    buyers = set(orders.values_list("customer__status", flat=True).distinct())
    assert buyers <= {CustomerStatus.ACTIVE, CustomerStatus.CHURNED}
    oldest = orders.order_by("order_date").first().order_date
    assert (today - oldest).days > 365  # years of history, not weeks
    assert not orders.filter(order_date__gt=today).exists()
    assert all(order.total == sum(line.line_total for line in order.lines.all()) for order in orders[:50])
    assert not orders.exclude(customer_owner=F("customer__owner")).exists()  # the owner copy is kept
    event = AuditEvent.objects.get(action="demo.orders_seeded")
    assert event.extra["history_orders"] == counts["history_orders"] and event.extra["seed"] == 9
    assert audit_chain_verify() is None

    # The services' next number comes after the loaded ones of this year.
    customer = Customer.objects.filter(owner__groups__name=Role.SALES_REP).first()
    last = orders.filter(order_date__year=today.year).aggregate(n=Max("number"))["n"]
    product = Product.objects.filter(is_active=True).first()
    placed = order_create(
        actor=customer.owner,
        customer_id=customer.pk,
        order_date=today,
        lines=[{"product": product, "quantity": Decimal(1), "discount_percent": Decimal(0)}],
    )
    assert last is None or placed.number > last


def test_the_same_seed_gives_the_same_history():
    def rows(seed):
        orders = OrderHistory(seed=seed, today=TODAY, products=[(1, Decimal("100.00"))], manager_id=1, tz=datetime.UTC)
        return [(c.pk, day, status, tuple(lines)) for c, day, status, lines in orders.orders(customers(30))]

    assert rows(3) == rows(3)
    assert rows(3) != rows(4)
