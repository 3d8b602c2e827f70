"""Many orders placed against one contract at the same moment: the contract never goes over.

Real threads against real PostgreSQL, each with its own connection and transaction,
all released together by a barrier.
"""

from decimal import Decimal

import pytest
from django.db.models import Sum

from contracts.models import Contract
from crm.core.audit import audit_chain_verify
from crm.core.exceptions import DomainError
from crm.core.roles import Role
from crm.core.tests.concurrency import race
from crm.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory
from orders import services
from orders.choices import OrderStatus as S
from orders.models import Order
from orders.tests.factories import ProductFactory, active_contract, events_about, line, order_for
from orders.workflow import LIVE

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


@pytest.fixture
def people(db):
    rep = UserFactory(username="race_rep", role=Role.SALES_REP)
    manager = UserFactory(username="race_manager", role=Role.SALES_MANAGER)
    customer = CustomerFactory(owner=rep)
    contract = active_contract(rep, customer, "10000.00", manager=manager)
    return {
        "rep": rep,
        "manager": manager,
        "customer": customer,
        "contract": contract,
        "block": ProductFactory(actor=manager, sku="BLK-1000", unit_price=Decimal("1000.00")),
    }


def live_sum(contract) -> Decimal:
    total = Order.objects.filter(contract=contract, status__in=LIVE).aggregate(total=Sum("total"))["total"]
    return total or Decimal("0.00")


def test_twenty_orders_racing_for_seven_thousand_place_exactly_seven(people):
    contract, rep = people["contract"], people["rep"]
    for _ in range(3):
        order_for(rep, people["customer"], contract=contract, lines=[line(people["block"])])
    assert Contract.objects.get(pk=contract.pk).ordered_amount == Decimal("3000.00")

    def place():
        return services.order_create(
            actor=rep, customer_id=people["customer"].pk, contract_id=contract.pk, lines=[line(people["block"])]
        )

    outcomes = race(*[place for _ in range(THREADS)])

    placed = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    other = [outcome for outcome in outcomes if not isinstance(outcome, Order | DomainError)]
    assert other == [], f"unexpected outcomes (deadlock or crash?): {other!r}"
    assert len(placed) == 7
    assert len(refused) == 13
    for error in refused:
        assert error.message == "The order total 1,000.00 CNY exceeds the contract's remaining 0.00 CNY."
        assert error.field == "contract"

    assert Order.objects.filter(contract=contract).count() == 10
    assert live_sum(contract) == Decimal("10000.00")
    assert Contract.objects.get(pk=contract.pk).ordered_amount == Decimal("10000.00")
    numbers = list(Order.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) == 10
    for order in placed:
        assert events_about(order, "order.created").count() == 1
    assert audit_chain_verify() is None


def test_orders_racing_with_a_cancellation_never_overfill_the_contract(people):
    contract, rep, customer = people["contract"], people["rep"], people["customer"]
    orders = [order_for(rep, customer, contract=contract, lines=[line(people["block"])]) for _ in range(10)]
    assert Contract.objects.get(pk=contract.pk).ordered_amount == Decimal("10000.00")
    victim = orders[0]

    def place():
        return services.order_create(
            actor=rep, customer_id=customer.pk, contract_id=contract.pk, lines=[line(people["block"])]
        )

    def cancel():
        return services.order_cancel(actor=rep, order_id=victim.pk, reason="Customer changed plans")

    outcomes = race(cancel, *[place for _ in range(9)])

    assert isinstance(outcomes[0], Order), outcomes[0]
    placed = [outcome for outcome in outcomes[1:] if isinstance(outcome, Order)]
    refused = [outcome for outcome in outcomes[1:] if isinstance(outcome, DomainError)]
    assert len(placed) + len(refused) == 9, outcomes
    # The cancelled 1,000 is free again for at most one new order, depending on who went first.
    assert len(placed) in (0, 1)
    assert all("remaining" in error.message for error in refused)
    assert Order.objects.get(pk=victim.pk).status == S.CANCELLED
    assert live_sum(contract) == Decimal("9000.00") + len(placed) * Decimal("1000.00")
    assert Contract.objects.get(pk=contract.pk).ordered_amount == live_sum(contract)
    assert live_sum(contract) <= contract.amount
    assert audit_chain_verify() is None


def test_two_managers_approving_at_once_record_one_approval(people):
    rep, customer = people["rep"], people["customer"]
    other_manager = UserFactory(username="race_manager_b", role=Role.SALES_MANAGER)
    order = order_for(rep, customer, lines=[line(people["block"])])  # no contract: needs approval
    services.order_submit(actor=rep, order_id=order.pk)

    outcomes = race(
        lambda: services.order_approve(actor=people["manager"], order_id=order.pk),
        lambda: services.order_approve(actor=other_manager, order_id=order.pk),
    )

    assert sum(isinstance(outcome, Order) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, DomainError) for outcome in outcomes) == 1
    assert events_about(order, "order.approved").count() == 1
    assert Order.objects.get(pk=order.pk).status == S.APPROVED
    assert audit_chain_verify() is None
