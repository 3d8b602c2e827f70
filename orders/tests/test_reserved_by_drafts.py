"""Draft orders reserve their amount on the contract, and the pages say so."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from orders import services
from orders.tests.factories import active_contract, order_for


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep)


@pytest.fixture
def contract(rep, customer):
    return active_contract(rep, customer, Decimal("10000"))


def figure(page, testid):
    return re.search(rf'data-testid="{testid}">([^<]*)<', page).group(1)


def card(client, contract):
    return client.get(reverse("orders:contract_orders") + f"?contract={contract.pk}").content.decode()


def test_a_draft_is_shown_as_reserved_not_ordered(client_for, rep, customer, contract):
    order_for(rep, customer, contract=contract, total="3000.00")
    page = card(client_for(rep), contract)

    assert figure(page, "contract-ordered") == "0.00 CNY"
    assert figure(page, "contract-reserved") == "3,000.00 CNY"
    assert figure(page, "contract-remaining") == "7,000.00 CNY"
    assert "Draft orders reserve their amount until they are submitted or cancelled" in page


def test_a_submitted_order_moves_from_reserved_to_ordered(client_for, rep, customer, contract):
    draft = order_for(rep, customer, contract=contract, total="3000.00")
    order_for(rep, customer, contract=contract, total="1000.00")
    services.order_submit(actor=rep, order_id=draft.pk)
    page = card(client_for(rep), contract)

    assert figure(page, "contract-ordered") == "3,000.00 CNY"
    assert figure(page, "contract-reserved") == "1,000.00 CNY"
    assert figure(page, "contract-remaining") == "6,000.00 CNY"


def test_the_order_form_says_drafts_count_against_what_is_left(client_for, rep, customer, contract):
    page = client_for(rep).get(reverse("orders:order_create") + f"?contract={contract.pk}").content.decode()
    assert "counts its draft orders as reserved" in page
