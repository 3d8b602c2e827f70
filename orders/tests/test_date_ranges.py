"""Dates people can type are kept to sensible years (1900-2999) at the form and at the
service, with the message next to the field; a date already stored outside them, however
it got there, never breaks a page."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from contracts import services as contract_services
from contracts.tests.factories import ContractFactory
from crm.core.exceptions import DomainError
from customers import services as customer_services
from customers.models import Interaction
from customers.tests.factories import CustomerFactory, InteractionFactory
from orders import services as order_services
from orders.models import Order
from orders.tests.factories import ProductFactory, active_contract, line, order_for

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MESSAGE = "between 1900-01-01 and 2999-12-31"


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep, name="Dated Goods Ltd")


def field_errors(response, field):
    return " ".join(response.context["form"].errors.get(field, []))


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "1899-12-31T23:59", "3000-01-01T00:00", "9999-12-31T23:59"])
def test_an_interaction_dated_outside_sensible_years_is_refused_next_to_the_field(client_for, rep, customer, typed):
    url = reverse("customers:interaction_create", args=[customer.pk])
    response = client_for(rep).post(url, {"kind": "call", "occurred_at": typed, "subject": "Odd call"})

    assert response.status_code == 200
    assert MESSAGE in field_errors(response, "occurred_at")
    assert not Interaction.objects.filter(customer=customer).exists()
    assert client_for(rep).get(reverse("customers:customer_detail", args=[customer.pk])).status_code == 200


def test_the_interaction_service_refuses_year_one_too(rep, customer):
    with pytest.raises(ValidationError) as refused:
        customer_services.interaction_create(
            actor=rep,
            customer_id=customer.pk,
            kind="call",
            subject="Odd call",
            occurred_at=datetime.datetime(1, 1, 1, tzinfo=SHANGHAI),
        )
    assert MESSAGE in " ".join(refused.value.message_dict["occurred_at"])


def test_contract_dates_outside_sensible_years_are_refused_next_to_each_field(client_for, rep, customer):
    url = reverse("contracts:contract_create") + f"?customer={customer.pk}"
    data = {
        "title": "Far future",
        "amount": "1000",
        "currency": "CNY",
        "start_date": "0001-01-01",
        "end_date": "9999-12-31",
        "payment_terms_days": "30",
        "body": "1. Scope",
    }
    response = client_for(rep).post(url, data)

    assert response.status_code == 200
    assert MESSAGE in field_errors(response, "start_date")
    assert MESSAGE in field_errors(response, "end_date")


def test_the_contract_services_refuse_them_too(rep, customer):
    with pytest.raises(ValidationError) as refused:
        ContractFactory(owner=rep, customer=customer, end_date=datetime.date(9999, 12, 31))
    assert MESSAGE in " ".join(refused.value.message_dict["end_date"])
    contract = ContractFactory(owner=rep, customer=customer)
    with pytest.raises(ValidationError):
        contract_services.contract_update(actor=rep, contract_id=contract.pk, start_date=datetime.date(1, 1, 1))


def test_an_order_date_outside_sensible_years_is_refused_at_the_form_and_the_service(client_for, rep, customer):
    pump = ProductFactory(unit_price=Decimal("10.00"))
    data = {
        "order_date": "0001-01-01",
        "currency": "CNY",
        "notes": "",
        "contract": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": str(pump.pk),
        "lines-0-quantity": "1",
        "lines-0-discount_percent": "0",
    }
    url = reverse("orders:order_create") + f"?customer={customer.pk}"
    response = client_for(rep).post(url, data)
    assert response.status_code == 200
    assert MESSAGE in field_errors(response, "order_date")
    assert not Order.objects.exists()

    with pytest.raises(DomainError) as refused:
        order_for(rep, customer, product=pump, order_date=datetime.date(1, 1, 1))
    assert refused.value.field == "order_date" and MESSAGE in refused.value.message
    order = order_for(rep, customer, product=pump)
    with pytest.raises(DomainError):
        order_services.order_update(
            actor=rep, order_id=order.pk, lines=[line(pump)], order_date=datetime.date(3000, 1, 1)
        )


def test_odd_dates_in_the_order_filters_do_not_break_the_list(client_for, rep):
    client = client_for(rep)
    for date_from, date_to in [("0001-01-01", "9999-12-31"), ("1-1-1", "99999-12-31"), ("2026-02-30", "")]:
        response = client.get(reverse("orders:order_list"), {"date_from": date_from, "date_to": date_to})
        assert response.status_code == 200, (date_from, date_to)


def store(sql, *params):
    """Write straight to the database, past every validation (an import, a psql session)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_pages_render_dates_stored_at_the_edges_of_the_calendar(client_for, rep, manager, signatory, customer):
    contract = active_contract(rep, customer, "50000.00", manager=manager, signatory=signatory)
    draft = ContractFactory(owner=rep, customer=customer)
    order = order_for(rep, customer, contract=contract)
    early = InteractionFactory(customer=customer, subject="Year one")
    late = InteractionFactory(customer=customer, subject="Year 9999")
    endless = InteractionFactory(customer=customer, subject="Infinity")
    store("UPDATE customers_interaction SET occurred_at = '0001-01-01 00:00:00+08' WHERE id = %s", early.pk)
    store("UPDATE customers_interaction SET occurred_at = '9999-12-31 23:59:00+00' WHERE id = %s", late.pk)
    store("UPDATE customers_interaction SET occurred_at = 'infinity' WHERE id = %s", endless.pk)
    store("UPDATE contracts_contract SET start_date = '0001-01-01', end_date = '9999-12-31' WHERE id = %s", draft.pk)
    store(
        "UPDATE contracts_contract SET updated_at = '0001-01-01 00:00:00+08', submitted_at = '9999-12-31 23:00:00+00'"
        " WHERE id IN (%s, %s)",
        contract.pk,
        draft.pk,
    )
    store(
        "UPDATE orders_order SET order_date = '0001-01-01', created_at = '0001-01-01 00:00:00+08',"
        " updated_at = '9999-12-31 23:59:00+00' WHERE id = %s",
        order.pk,
    )

    client = client_for(rep)
    pages = [
        reverse("customers:customer_detail", args=[customer.pk]),
        reverse("customers:customer_list"),
        reverse("customers:customer_export"),
        reverse("contracts:contract_list"),
        reverse("contracts:contract_detail", args=[contract.pk]),
        reverse("contracts:contract_diff", args=[contract.pk]),
        reverse("contracts:contract_certificate", args=[contract.pk]),
        reverse("contracts:contract_evidence", args=[contract.pk]),
        reverse("contracts:contract_detail", args=[draft.pk]),
        reverse("contracts:contract_update", args=[draft.pk]),
        reverse("orders:order_list"),
        reverse("orders:order_export"),
        reverse("orders:order_detail", args=[order.pk]),
        reverse("orders:contract_orders") + f"?contract={contract.pk}",
        reverse("dashboard:home"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert "Year one" in client.get(pages[0]).content.decode()


def test_expire_contracts_refuses_a_window_past_the_calendar_with_one_line():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="between 0 and 3650"):
        call_command("expire_contracts", "--within", "100000000")
