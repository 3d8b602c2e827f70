"""A contract's ordered amount (the sum of its live orders) changes only with an audit
event on the contract, written in the same transaction as the order's step."""

from decimal import Decimal

import pytest

from contracts.models import Contract
from crm.core.exceptions import DomainError
from customers.tests.factories import CustomerFactory
from orders import services
from orders.tests.factories import ProductFactory, active_contract, events_about, line, order_for, reload

pytestmark = pytest.mark.django_db
ACTION = "contract.ordered_amount_changed"


@pytest.fixture
def setup(rep, manager, signatory):
    customer = CustomerFactory(owner=rep)
    contract = active_contract(rep, customer, "50000.00", manager=manager, signatory=signatory)
    return contract, ProductFactory(actor=manager, unit_price=Decimal("1000.00"))


def amounts(contract):
    return [
        (event.actor.username, event.changes["ordered_amount"], event.extra["order"])
        for event in events_about(contract, ACTION)
    ]


def test_placing_changing_and_cancelling_an_order_audits_the_contracts_ordered_amount(setup, rep):
    contract, pump = setup

    order = order_for(rep, contract.customer, contract=contract, lines=[line(pump)])
    services.order_update(actor=rep, order_id=order.pk, contract_id=contract.pk, lines=[line(pump, quantity=3)])
    services.order_update(
        actor=rep, order_id=order.pk, contract_id=contract.pk, lines=[line(pump, quantity=3)], notes="Same total"
    )
    services.order_cancel(actor=rep, order_id=order.pk, reason="Duplicate")

    assert amounts(contract) == [
        ("rep", ["0.00", "1000.00"], order.number),
        ("rep", ["1000.00", "3000.00"], order.number),
        ("rep", ["3000.00", "0.00"], order.number),
    ]  # the update that left the total alone changed nothing, so it wrote no event
    event = events_about(contract, ACTION).last()
    assert event.parent_id == str(contract.customer_id)
    assert reload(contract).ordered_amount == Decimal("0.00")


def test_an_order_refused_for_exceeding_the_contract_writes_no_event(setup, rep):
    contract, pump = setup
    order_for(rep, contract.customer, contract=contract, lines=[line(pump, quantity=40)])

    with pytest.raises(DomainError):
        order_for(rep, contract.customer, contract=contract, lines=[line(pump, quantity=20)])

    assert len(amounts(contract)) == 1
    assert Contract.objects.get(pk=contract.pk).ordered_amount == Decimal("40000.00")
