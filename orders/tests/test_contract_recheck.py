"""An order moving forward must still fit its contract; absurd input is refused, not a 500."""

from decimal import Decimal

import pytest

from contracts import services as contract_services
from crm.core.exceptions import DomainError
from customers.tests.factories import CustomerFactory
from orders import services
from orders.tests.factories import ProductFactory, active_contract, line, order_for


@pytest.fixture
def contract(rep, manager, signatory):
    customer = CustomerFactory(owner=rep)
    return active_contract(rep, customer, "100000.00", manager=manager, signatory=signatory)


def test_an_order_is_not_approved_after_its_contract_was_terminated(rep, manager, contract):
    product = ProductFactory(unit_price=Decimal("100.00"))
    order = order_for(rep, contract.customer, contract=contract, lines=[line(product, 1, discount_percent=50)])
    order = services.order_submit(actor=rep, order_id=order.pk)
    assert order.status == "pending_approval"
    contract_services.contract_terminate(actor=manager, contract_id=contract.pk, reason="Customer went bankrupt")

    with pytest.raises(DomainError, match="orders need an active contract"):
        services.order_approve(actor=manager, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "pending_approval"


def test_a_total_too_large_to_store_is_a_form_error(client_for, rep, contract):
    product = ProductFactory(unit_price=Decimal("28500.00"))
    with pytest.raises(DomainError) as refusal:
        order_for(rep, contract.customer, lines=[line(product, "9999999999.99")])
    assert refusal.value.field == "lines"
