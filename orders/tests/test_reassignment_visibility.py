"""Visibility follows the customer's owner: once a customer is reassigned, its contracts,
orders, approval steps and order lines go with it to the new owner, and the previous rep
(who drafted and placed them) no longer sees or edits any of them."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import ApprovalStep, Contract
from contracts.tests.factories import ContractFactory
from customers.services import customer_reassign
from customers.tests.factories import CustomerFactory
from orders.models import Order, OrderLine
from orders.tests.factories import ProductFactory, active_contract, line, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved(rep, other_rep, manager, signatory):
    """A customer of `rep` with an active contract, a draft contract and a draft order,
    all made by `rep`, then reassigned by the manager to `other_rep`."""
    customer = CustomerFactory(owner=rep, name="Moving Goods Ltd")
    active = active_contract(rep, customer, "50000.00", manager=manager, signatory=signatory, title="Moving supply")
    draft = ContractFactory(owner=rep, customer=customer, title="Moving draft")
    pump = ProductFactory(actor=manager, sku="MOVE-1", name="Pump", unit_price=Decimal("100.00"))
    order = order_for(rep, customer, contract=active, lines=[line(pump, 2)])
    assert customer_reassign(actor=manager, customer_ids=[customer.pk], new_owner=other_rep) == 1
    return {"customer": customer, "active": active, "draft": draft, "order": order}


def contract_pages(moved):
    active, draft = moved["active"], moved["draft"]
    return [
        reverse("contracts:contract_detail", args=[active.pk]),
        reverse("contracts:contract_diff", args=[active.pk]),
        reverse("contracts:contract_certificate", args=[active.pk]),
        reverse("contracts:contract_evidence", args=[active.pk]),
        reverse("contracts:contract_detail", args=[draft.pk]),
        reverse("contracts:contract_update", args=[draft.pk]),
        reverse("contracts:contract_submit", args=[draft.pk]),
        reverse("contracts:contract_cancel", args=[draft.pk]),
        reverse("orders:contract_orders") + f"?contract={active.pk}",
    ]


def order_pages(moved):
    order = moved["order"]
    return [
        reverse("orders:order_detail", args=[order.pk]),
        reverse("orders:order_update", args=[order.pk]),
        reverse("orders:order_submit", args=[order.pk]),
        reverse("orders:order_cancel", args=[order.pk]),
    ]


def test_the_previous_rep_gets_404_on_every_page_of_the_moved_contracts_and_orders(client_for, rep, moved):
    client = client_for(rep)
    for url in [*contract_pages(moved), *order_pages(moved)]:
        assert client.get(url).status_code == 404, url
    order = moved["order"]
    assert client.post(reverse("orders:order_submit", args=[order.pk])).status_code == 404
    assert client.post(reverse("contracts:contract_submit", args=[moved["draft"].pk])).status_code == 404
    assert Order.objects.get(pk=order.pk).status == "draft"


def test_the_previous_rep_no_longer_lists_or_exports_them(client_for, rep, moved):
    client = client_for(rep)
    contracts = client.get(reverse("contracts:contract_list")).content.decode()
    assert moved["active"].number not in contracts and moved["draft"].number not in contracts
    assert moved["order"].number not in client.get(reverse("orders:order_list")).content.decode()
    export = b"".join(client.get(reverse("orders:order_export")).streaming_content).decode()
    assert moved["order"].number not in [row[0] for row in csv.reader(io.StringIO(export))]
    assert not Contract.objects.visible_to(rep).exists()
    assert not Order.objects.visible_to(rep).exists()
    # The rule itself, for the rows no rep role may list on their own.
    assert not ApprovalStep.objects.owned_by(rep).exists()
    assert not OrderLine.objects.owned_by(rep).exists()


def test_the_new_owner_sees_and_edits_them(client_for, other_rep, moved):
    client = client_for(other_rep)
    for url in [*contract_pages(moved), *order_pages(moved)]:
        assert client.get(url).status_code == 200, url
    assert moved["order"].number in client.get(reverse("orders:order_list")).content.decode()
    assert moved["draft"].number in client.get(reverse("contracts:contract_list")).content.decode()
    assert ApprovalStep.objects.owned_by(other_rep).filter(contract=moved["active"]).exists()
    assert OrderLine.objects.visible_to(other_rep).filter(order=moved["order"]).exists()
