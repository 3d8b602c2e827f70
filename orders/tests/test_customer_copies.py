"""Contacts, contracts and orders keep a copy of their customer's owner and name, kept by
the database: a reassignment moves them in the same transaction, nobody can write another
value, and a rep's lists read them through an index instead of a subquery over customers."""

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from contracts.models import Contract
from contracts.tests.factories import ContractFactory
from customers.models import Contact
from customers.services import customer_reassign, customer_update
from customers.tests.factories import ContactFactory, CustomerFactory
from orders.models import Order
from orders.tests.factories import ProductFactory, line, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(rep, manager):
    customer = CustomerFactory(owner=rep, name="Copy Source Ltd")
    contact = ContactFactory(customer=customer, name="Chen Jing")
    contract = ContractFactory(owner=rep, customer=customer, title="Copied supply")
    pump = ProductFactory(actor=manager, sku="COPY-1", name="Pump", unit_price=Decimal("10.00"))
    order = order_for(rep, customer, lines=[line(pump, 1)])
    return {"customer": customer, "contact": contact, "contract": contract, "order": order}


def copies(business):
    return [
        model.objects.values_list("customer_owner_id", "customer_name").get(pk=business[key].pk)
        for model, key in ((Contact, "contact"), (Contract, "contract"), (Order, "order"))
    ]


def test_new_rows_copy_their_customers_owner_and_name(business, rep):
    assert copies(business) == [(rep.pk, "Copy Source Ltd")] * 3


def test_the_copies_follow_a_reassignment_and_a_rename(business, rep, other_rep, manager):
    customer = business["customer"]
    assert customer_reassign(actor=manager, customer_ids=[customer.pk], new_owner=other_rep) == 1
    customer_update(actor=manager, customer_id=customer.pk, name="Copy Target Ltd")
    assert copies(business) == [(other_rep.pk, "Copy Target Ltd")] * 3


def test_nobody_can_write_another_owner_onto_a_row(business, rep, other_rep):
    Contract.objects.filter(pk=business["contract"].pk).update(customer_owner=other_rep, customer_name="Forged")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET customer_owner_id = %s WHERE id = %s", [other_rep.pk, business["order"].pk]
        )
    assert copies(business) == [(rep.pk, "Copy Source Ltd")] * 3


def test_a_rep_sees_only_their_customers_rows_without_a_subquery_over_customers(business, rep, other_rep):
    others = CustomerFactory(owner=other_rep, name="Someone Else Ltd")
    ContractFactory(owner=other_rep, customer=others, title="Not yours")
    visible = Contract.objects.visible_to(rep)
    assert list(visible.values_list("title", flat=True)) == ["Copied supply"]
    assert "customers_customer" not in str(visible.query)
    assert "customers_customer" not in str(Order.objects.visible_to(rep).query)
    assert "customers_customer" not in str(Contact.objects.visible_to(rep).query)


def test_the_rep_lists_show_what_moved_to_them(client_for, business, other_rep, manager):
    customer_reassign(actor=manager, customer_ids=[business["customer"].pk], new_owner=other_rep)
    client = client_for(other_rep)
    assert business["contract"].number in client.get(reverse("contracts:contract_list")).content.decode()
    assert business["order"].number in client.get(reverse("orders:order_list")).content.decode()
    assert "Chen Jing" in client.get(reverse("customers:contact_list")).content.decode()
