"""A contract changed in the database after signing does no more business.

Orders fit the *signed* terms (read from the verified signatures), and a contract whose
signatures do not verify refuses orders and workflow steps, naming what changed; its page
and the page of every order against it show a red banner. As someone with database access
would, the test disables the freeze trigger inside its own transaction.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts import services as contract_services
from contracts import signatures
from contracts.tests.factories import default_approval_rules, signing_contract
from contracts.tests.test_signing_workflow import raw_sql
from contracts.tests.test_verify_signatures import FREEZE_TRIGGER, disable_trigger
from crm.core.exceptions import DomainError
from customers.tests.factories import CustomerFactory
from orders import services
from orders.tests.factories import IN_PERIOD, ProductFactory, active_contract, line, order_for, reload

pytestmark = pytest.mark.django_db

TAMPERING = {
    "amount": "UPDATE contracts_contract SET amount = amount * 100 WHERE id = %s",
    "end_date": "UPDATE contracts_contract SET end_date = end_date + 365 WHERE id = %s",
    "currency": "UPDATE contracts_contract SET currency = 'USD' WHERE id = %s",
}


@pytest.fixture
def contract(rep, manager, signatory):
    customer = CustomerFactory(owner=rep, name="Ningbo Valves Ltd")
    return active_contract(rep, customer, "10000.00", manager=manager, signatory=signatory)


@pytest.fixture
def product(manager):
    return ProductFactory(actor=manager, unit_price=Decimal("100.00"))


def tamper(contract, field):
    disable_trigger(FREEZE_TRIGGER)
    assert raw_sql(TAMPERING[field], contract.pk) == 1


def test_an_untampered_contract_takes_orders_within_its_signed_amount(rep, contract, product):
    order = order_for(rep, contract.customer, contract=contract, lines=[line(product, 100)])
    assert order.total == Decimal("10000.00")

    with pytest.raises(DomainError, match="exceeds the contract's remaining"):
        order_for(rep, contract.customer, contract=contract, lines=[line(product, 1)])


@pytest.mark.parametrize("field", list(TAMPERING))
def test_an_order_against_a_tampered_contract_is_refused_naming_the_field(rep, contract, product, field):
    tamper(contract, field)

    # An order that fits the tampered row (more than the signed amount, after the signed
    # end date, in the tampered currency) and one that fits the signed terms: both refused.
    tampered_fit = {
        "amount": {"lines": [line(product, 500)]},
        "end_date": {"lines": [line(product, 1)], "order_date": datetime.date(2027, 6, 1)},
        "currency": {"lines": [line(ProductFactory(unit_price=Decimal("10.00"), currency="USD"), 1)]},
    }[field]
    signed_fit = {"lines": [line(product, 1)], "order_date": IN_PERIOD, "currency": "CNY"}
    for attempt in (tampered_fit, signed_fit):
        with pytest.raises(DomainError) as refusal:
            order_for(rep, contract.customer, contract=contract, **attempt)
        assert f"changed after signing: {field}" in refusal.value.message
        assert refusal.value.field == "contract"
    assert reload(contract).orders.count() == 0


def test_every_order_step_against_a_tampered_contract_is_refused(rep, manager, contract, product):
    draft = order_for(rep, contract.customer, contract=contract, lines=[line(product, 1)])
    pending = services.order_submit(
        actor=rep, order_id=order_for(rep, contract.customer, contract=contract, lines=[line(product, 1, 50)]).pk
    )
    assert pending.status == "pending_approval"
    approved = services.order_submit(
        actor=rep, order_id=order_for(rep, contract.customer, contract=contract, lines=[line(product, 1)]).pk
    )
    assert approved.status == "approved"
    tamper(contract, "amount")

    steps = [
        lambda: services.order_update(
            actor=rep, order_id=draft.pk, contract_id=contract.pk, lines=[line(product, 2)], order_date=IN_PERIOD
        ),
        lambda: services.order_submit(actor=rep, order_id=draft.pk),
        lambda: services.order_approve(actor=manager, order_id=pending.pk),
        lambda: services.order_start_fulfilment(actor=manager, order_id=approved.pk),
    ]
    for step in steps:
        with pytest.raises(DomainError, match="changed after signing: amount"):
            step()
    assert [reload(order).status for order in (draft, pending, approved)] == ["draft", "pending_approval", "approved"]
    # Cancelling stays possible: it stops business, it does not rely on the terms.
    services.order_cancel(actor=rep, order_id=draft.pk, reason="Contract under review")
    assert reload(draft).status == "cancelled"


def test_a_tampered_contract_cannot_be_completed_but_can_be_terminated(manager, contract):
    tamper(contract, "end_date")

    with pytest.raises(DomainError, match="changed after signing: end_date"):
        contract_services.contract_complete(actor=manager, contract_id=contract.pk)
    assert reload(contract).status == "active"

    contract_services.contract_terminate(actor=manager, contract_id=contract.pk, reason="Terms changed in the DB")
    assert reload(contract).status == "terminated"


def test_the_contract_page_shows_a_red_banner_naming_the_changed_field(client_for, rep, contract):
    page = client_for(rep).get(contract.get_absolute_url()).content.decode()
    assert 'data-testid="tampered-banner"' not in page

    tamper(contract, "amount")
    response = client_for(rep).get(contract.get_absolute_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="tampered-banner"' in page
    assert 'data-testid="tampered-fields">amount<' in page
    assert page.index("tampered-banner") < page.index("contract-amount")


def test_the_order_page_shows_the_banner_of_its_tampered_contract(client_for, rep, contract, product):
    order = order_for(rep, contract.customer, contract=contract, lines=[line(product, 1)])
    tamper(contract, "currency")

    page = client_for(rep).get(order.get_absolute_url()).content.decode()

    assert 'data-testid="tampered-banner"' in page
    assert 'data-testid="tampered-fields">currency<' in page


def test_the_order_form_shows_the_refusal_naming_the_field(client_for, rep, contract, product):
    tamper(contract, "amount")
    data = {
        "order_date": IN_PERIOD.isoformat(),
        "currency": "CNY",
        "notes": "",
        "contract": str(contract.pk),
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": str(product.pk),
        "lines-0-quantity": "1",
        "lines-0-discount_percent": "0",
    }

    response = client_for(rep).post(f"{reverse('orders:order_create')}?customer={contract.customer.pk}", data)

    assert response.status_code == 200
    assert "changed after signing: amount" in response.content.decode()
    assert reload(contract).orders.count() == 0


def test_nobody_signs_terms_changed_after_the_first_signature(rep, manager, signatory):
    default_approval_rules()
    contract = signing_contract(signatory=signatory, approvers=[manager], owner=rep)
    _link, url = signatures.signing_link_send(actor=rep, contract_id=contract.pk)
    tamper(contract, "amount")

    with pytest.raises(DomainError, match="changed after signing: amount"):
        signatures.signing_link_send(actor=rep, contract_id=contract.pk)
    with pytest.raises(DomainError, match="changed after signing: amount"):
        signatures.contract_sign_customer(token=url.rstrip("/").rsplit("/", 1)[-1], full_name="Li Wei", accepted=True)
    assert reload(contract).status == "signing"
    assert reload(contract).signatures.count() == 1


def test_the_complete_page_refuses_a_tampered_contract_with_the_field_named(client_for, manager, contract):
    tamper(contract, "end_date")

    response = client_for(manager).post(reverse("contracts:contract_complete", args=[contract.pk]))

    assert response.status_code == 200
    assert "changed after signing: end_date" in response.content.decode()
    assert reload(contract).status == "active"
    terminated = client_for(manager).post(
        reverse("contracts:contract_terminate", args=[contract.pk]), {"reason": "Signed terms changed in the DB"}
    )
    assert terminated.status_code == 302
    assert reload(contract).status == "terminated"
