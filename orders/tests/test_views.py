"""The catalog and order pages: forms with line formsets, lists, the contract's orders card."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import Contract
from customers.tests.factories import CustomerFactory
from orders import services
from orders.choices import OrderStatus
from orders.models import Order, Product
from orders.tests.factories import ProductFactory, active_contract, line, order_for, reload

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 10)  # inside the contracts' period (2026)


@pytest.fixture
def contract(rep, customer, manager, signatory):
    return active_contract(rep, customer, "50000.00", manager=manager, signatory=signatory, title="Tea supply")


@pytest.fixture
def pump(manager):
    return ProductFactory(actor=manager, sku="PUMP-1", name="Pump", unit_price=Decimal("100.00"))


@pytest.fixture
def valve(manager):
    return ProductFactory(actor=manager, sku="VALVE-1", name="Valve", unit_price=Decimal("250.00"))


def formset_data(rows, *, initial=0, **header):
    """POST data for the order form: the header fields and one formset row per dict."""
    data = {
        "order_date": DAY.isoformat(),
        "currency": "CNY",
        "notes": "",
        "contract": "",
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
    }
    data.update({key: str(value) for key, value in header.items()})
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{index}-{name}"] = "on" if value is True else str(value)
    return data


def create_url(**query):
    return reverse("orders:order_create") + "?" + "&".join(f"{key}={value}" for key, value in query.items())


# --- creating ------------------------------------------------------------------------------


def test_new_order_from_a_contract_is_prefilled(client_for, rep, contract, customer):
    response = client_for(rep).get(create_url(contract=contract.pk))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["contract"] == contract.pk
    assert form.initial["currency"] == contract.currency
    assert form.initial["order_date"] is not None
    assert response.context["parent"] == customer
    content = response.content.decode()
    assert 'data-testid="order-customer"' in content and "Hangzhou Tea Co" in content
    assert 'name="customer"' not in content  # shown read-only, never a select of all customers


def test_the_customer_name_is_shown_as_text(client_for, rep):
    customer = CustomerFactory(owner=rep, name="{{ request.user }} <b>Co</b>")

    content = client_for(rep).get(create_url(customer=customer.pk)).content.decode()

    assert "{{ request.user }} &lt;b&gt;Co&lt;/b&gt;" in content


def test_new_order_needs_a_customer_or_contract(client_for, rep):
    response = client_for(rep).get(reverse("orders:order_create"))

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer_list")


def test_contract_choices_are_the_customers_active_visible_contracts(client_for, rep, contract, customer, manager):
    other_customer = CustomerFactory(owner=rep)
    other = active_contract(rep, other_customer, "1000.00", manager=manager, title="Other")
    draft = services_contract_draft(rep, customer)

    form = client_for(rep).get(create_url(customer=customer.pk)).context["form"]

    offered = set(form.fields["contract"].queryset)
    assert contract in offered
    assert other not in offered and draft not in offered


def services_contract_draft(owner, customer):
    from contracts import services as contract_services

    return contract_services.contract_create(
        actor=owner,
        customer_id=customer.pk,
        title="Draft",
        body="1. Scope\n",
        amount=Decimal("100.00"),
        currency="CNY",
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 12, 31),
        payment_terms_days=30,
    )


def test_create_with_lines(client_for, rep, contract, customer, pump, valve):
    data = formset_data(
        [
            {"product": pump.pk, "quantity": "3", "discount_percent": "10"},
            {"product": valve.pk, "quantity": "2", "discount_percent": ""},
            {"product": "", "quantity": "1", "discount_percent": "0"},  # an added row left empty
        ],
        contract=contract.pk,
        notes="Deliver to gate 2",
    )

    response = client_for(rep).post(create_url(contract=contract.pk), data)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    assert (order.customer, order.contract, order.owner) == (customer, contract, rep)
    assert order.status == OrderStatus.DRAFT and order.notes == "Deliver to gate 2"
    assert [(line.product, line.quantity, line.line_total) for line in order.lines.all()] == [
        (pump, Decimal("3.00"), Decimal("270.00")),
        (valve, Decimal("2.00"), Decimal("500.00")),
    ]
    assert order.total == Decimal("770.00")
    assert reload(contract).ordered_amount == Decimal("770.00")


def test_a_removed_row_is_not_saved(client_for, rep, customer, pump, valve):
    data = formset_data(
        [
            {"product": pump.pk, "quantity": "1"},
            {"product": valve.pk, "quantity": "5", "DELETE": True},
        ]
    )

    client_for(rep).post(create_url(customer=customer.pk), data)

    order = Order.objects.get()
    assert [line.product for line in order.lines.all()] == [pump]
    assert order.contract is None


def test_at_least_one_line(client_for, rep, customer, pump):
    data = formset_data([{"product": pump.pk, "quantity": "1", "DELETE": True}])

    response = client_for(rep).post(create_url(customer=customer.pk), data)

    assert response.status_code == 200
    assert response.context["formset"].non_form_errors() == ["Add at least one line."]
    assert not Order.objects.exists()


def test_exceeding_the_contracts_remaining_is_shown_next_to_the_contract_and_nothing_is_saved(
    client_for, rep, customer, manager, signatory, pump
):
    contract = active_contract(rep, customer, "12500.00", manager=manager, signatory=signatory)
    big = ProductFactory(actor=manager, sku="BIG-1", unit_price=Decimal("10000.00"))
    data = formset_data(
        [{"product": big.pk, "quantity": "2", "discount_percent": "0"}, {"product": pump.pk, "quantity": "7"}],
        contract=contract.pk,
    )

    response = client_for(rep).post(create_url(contract=contract.pk), data)

    assert response.status_code == 200
    errors = response.context["form"].errors["contract"]
    assert errors == ["The order total 20,700.00 CNY exceeds the contract's remaining 12,500.00 CNY."]
    assert not Order.objects.exists()
    assert reload(contract).ordered_amount == 0
    # What was entered stays in the form.
    formset = response.context["formset"]
    assert [form["product"].value() for form in formset] == [str(big.pk), str(pump.pk)]
    assert [form["quantity"].value() for form in formset] == ["2", "7"]
    content = response.content.decode()
    assert 'name="lines-1-quantity" value="7"' in content


def test_a_lines_refusal_is_shown_above_the_lines(client_for, rep, customer, manager):
    dollars = ProductFactory(actor=manager, sku="USD-1", unit_price=Decimal("5.00"), currency="USD")

    response = client_for(rep).post(
        create_url(customer=customer.pk), formset_data([{"product": dollars.pk, "quantity": "1"}])
    )

    assert response.status_code == 200
    assert response.context["formset"].non_form_errors() == [f"{dollars} is priced in USD, the order in CNY."]
    assert 'data-testid="lines-errors"' in response.content.decode()
    assert not Order.objects.exists()


def test_an_inactive_product_is_not_offered(client_for, rep, customer, manager, pump):
    retired = ProductFactory(actor=manager, sku="OLD-1", is_active=False)
    client = client_for(rep)

    form_page = client.get(create_url(customer=customer.pk))
    row = client.get(reverse("orders:order_line_form"), {"index": 1})

    offered = list(form_page.context["formset"].forms[0].fields["product"].queryset)
    assert pump in offered and retired not in offered
    assert "OLD-1" not in form_page.content.decode()
    assert "PUMP-1" in row.content.decode() and "OLD-1" not in row.content.decode()

    response = client.post(create_url(customer=customer.pk), formset_data([{"product": retired.pk, "quantity": "1"}]))

    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["product"]
    assert not Order.objects.exists()


def test_add_line_returns_a_row_with_the_next_index(client_for, rep, pump):
    response = client_for(rep).get(reverse("orders:order_line_form"), {"index": 4}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="lines-4-product"' in content and 'name="lines-4-DELETE"' in content
    assert f'data-unit-price="{pump.unit_price}"' in content


# --- editing -------------------------------------------------------------------------------


def test_edit_draft_keeps_the_price_of_existing_lines(client_for, rep, manager, customer, contract, pump, valve):
    order = order_for(rep, customer, contract=contract, lines=[line(pump, 2), line(valve, 1)], order_date=DAY)
    services.product_update(actor=manager, product_id=pump.pk, unit_price=Decimal("150.00"))
    first, second = order.lines.all()
    client = client_for(rep)

    page = client.get(reverse("orders:order_update", args=[order.pk]))
    assert page.status_code == 200
    assert [form.initial["id"] for form in page.context["formset"]] == [first.pk, second.pk]
    assert page.content.decode().count('data-testid="kept-price"') == 1  # the pump's price changed since

    data = formset_data(
        [
            {"id": first.pk, "product": pump.pk, "quantity": "4", "discount_percent": "0"},
            {"id": second.pk, "product": valve.pk, "quantity": "1", "DELETE": True},
            {"product": pump.pk, "quantity": "1"},
        ],
        initial=2,
        contract=contract.pk,
        notes="Changed",
    )
    response = client.post(reverse("orders:order_update", args=[order.pk]), data)

    assert response.status_code == 302
    order = reload(order)
    assert [(line.quantity, line.unit_price) for line in order.lines.all()] == [
        (Decimal("4.00"), Decimal("100.00")),  # kept its price
        (Decimal("1.00"), Decimal("150.00")),  # new line: today's price
    ]
    assert order.total == Decimal("550.00") and order.notes == "Changed"
    assert reload(contract).ordered_amount == Decimal("550.00")


def test_only_a_draft_is_edited(client_for, rep, customer, contract, pump):
    order = order_for(rep, customer, contract=contract, lines=[line(pump)], order_date=DAY)
    services.order_submit(actor=rep, order_id=order.pk)

    response = client_for(rep).get(reverse("orders:order_update", args=[order.pk]))

    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()


# --- visibility ----------------------------------------------------------------------------

ORDER_URLS = [
    "orders:order_detail",
    "orders:order_update",
    "orders:order_submit",
    "orders:order_approve",
    "orders:order_reject",
    "orders:order_start_fulfilment",
    "orders:order_deliver",
    "orders:order_close",
    "orders:order_cancel",
]


@pytest.mark.parametrize("url_name", ORDER_URLS)
def test_another_reps_order_is_not_found(client_for, rep, other_rep, customer, pump, url_name):
    order = order_for(rep, customer, lines=[line(pump)], order_date=DAY)
    client = client_for(other_rep)
    url = reverse(url_name, args=[order.pk])

    assert client.get(url).status_code == 404
    if url_name != "orders:order_detail":
        assert client.post(url, {"comment": "x", "reason": "x"}).status_code == 404
    assert reload(order).status == OrderStatus.DRAFT


def test_another_reps_customer_and_contract_are_not_found(client_for, other_rep, customer, contract):
    client = client_for(other_rep)

    assert client.get(create_url(customer=customer.pk)).status_code == 404
    assert client.get(create_url(contract=contract.pk)).status_code == 404
    assert client.get(reverse("orders:contract_orders"), {"contract": contract.pk}).status_code == 404


# --- detail and workflow pages -------------------------------------------------------------


def test_detail_shows_lines_total_history_and_the_allowed_steps(client_for, rep, customer, contract, pump, valve):
    order = order_for(rep, customer, contract=contract, lines=[line(pump, 3, 10), line(valve, 2)], order_date=DAY)

    response = client_for(rep).get(order.get_absolute_url())

    content = response.content.decode()
    assert response.status_code == 200
    assert "PUMP-1" in content and "VALVE-1" in content and "770.00" in content
    assert 'data-testid="audit-event"' in content and "order.created" in content
    labels = [action["label"] for action in response.context["actions"]]
    assert labels == ["Submit", "Cancel order"]
    assert response.context["can_edit"]


def test_submit_then_manager_approves_with_a_comment(client_for, rep, manager, customer, pump):
    order = order_for(rep, customer, lines=[line(pump)], order_date=DAY)  # no contract: needs approval
    rep_client = client_for(rep)
    assert rep_client.post(reverse("orders:order_submit", args=[order.pk])).status_code == 302
    assert reload(order).status == OrderStatus.PENDING_APPROVAL

    page = client_for(manager).get(order.get_absolute_url())
    assert "it is not placed against a contract" in page.content.decode()
    assert [action["label"] for action in page.context["actions"]] == ["Approve", "Reject", "Cancel order"]

    response = client_for(manager).post(reverse("orders:order_approve", args=[order.pk]), {"comment": "Fine"})

    assert response.status_code == 302
    assert reload(order).status == OrderStatus.APPROVED


def test_reject_needs_a_comment_and_cancel_a_reason(client_for, rep, manager, customer, pump):
    order = order_for(rep, customer, lines=[line(pump)], order_date=DAY)
    services.order_submit(actor=rep, order_id=order.pk)
    client = client_for(manager)

    response = client.post(reverse("orders:order_reject", args=[order.pk]), {"comment": ""})
    assert response.status_code == 200 and response.context["form"].errors["comment"]
    assert client.post(reverse("orders:order_reject", args=[order.pk]), {"comment": "Too cheap"}).status_code == 302
    assert reload(order).status == OrderStatus.DRAFT

    rep_client = client_for(rep)
    response = rep_client.post(reverse("orders:order_cancel", args=[order.pk]), {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert rep_client.post(reverse("orders:order_cancel", args=[order.pk]), {"reason": "Duplicate"}).status_code == 302
    assert reload(order).status == OrderStatus.CANCELLED


def test_the_owner_sees_no_approve_button_and_cannot_approve(client_for, manager, customer, pump):
    order = order_for(manager, customer, lines=[line(pump)], order_date=DAY)
    services.order_submit(actor=manager, order_id=order.pk)
    client = client_for(manager)

    page = client.get(order.get_absolute_url())
    response = client.post(reverse("orders:order_approve", args=[order.pk]), {"comment": ""})

    assert "Approve" not in [action["label"] for action in page.context["actions"]]
    assert response.status_code == 200
    assert "Nobody approves their own order." in response.content.decode()
    assert reload(order).status == OrderStatus.PENDING_APPROVAL


# --- the list ------------------------------------------------------------------------------


def test_list_filters_and_search(client_for, rep, other_rep, customer, contract, pump):
    other_customer = CustomerFactory(owner=rep)
    march = order_for(rep, customer, contract=contract, lines=[line(pump)], order_date=DAY)
    june = order_for(rep, customer, lines=[line(pump, 2)], order_date=datetime.date(2026, 6, 1))
    elsewhere = order_for(rep, other_customer, lines=[line(pump, 3)], order_date=datetime.date(2026, 6, 2))
    services.order_submit(actor=rep, order_id=june.pk)
    hidden = order_for(other_rep, CustomerFactory(owner=other_rep), lines=[line(pump)], order_date=DAY)
    client = client_for(rep)

    def listed(**query):
        response = client.get(reverse("orders:order_list"), query)
        assert response.status_code == 200
        return list(response.context["object_list"])

    assert listed() == [elsewhere, june, march]
    assert hidden not in listed()
    assert listed(status=OrderStatus.PENDING_APPROVAL) == [june]
    assert listed(customer=customer.pk) == [june, march]
    assert listed(contract=contract.pk) == [march]
    assert listed(date_from="2026-06-01", date_to="2026-06-01") == [june]
    assert listed(q=march.number[-6:]) == [march]
    assert listed(q=march.number.lower()) == [march]
    assert listed(sort="total") == [march, june, elsewhere]
    assert listed(sort="-total") == [elsewhere, june, march]
    assert listed(sort="number") == [march, june, elsewhere]
    heading = client.get(reverse("orders:order_list"), {"contract": contract.pk}).content.decode()
    assert contract.number in heading


def test_list_export_is_the_filtered_list(client_for, rep, customer, contract, pump):
    march = order_for(rep, customer, contract=contract, lines=[line(pump)], order_date=DAY)
    order_for(rep, customer, lines=[line(pump)], order_date=datetime.date(2026, 6, 1))

    response = client_for(rep).get(reverse("orders:order_export"), {"contract": contract.pk})

    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert len(rows) == 2
    assert rows[1].startswith(f"{march.number},2026-03-10,Hangzhou Tea Co,{contract.number},Draft,100.00,CNY")


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
        response.content  # noqa: B018 - render everything inside the measured block
    return len(captured)


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_list_query_count_does_not_grow_with_rows(request, client, rep, customer, contract, pump, role):
    client.force_login(request.getfixturevalue(role))
    url = reverse("orders:order_list")

    def fill(count):
        for _ in range(count):
            order_for(rep, CustomerFactory(owner=rep), contract=None, lines=[line(pump)], order_date=DAY)
            order_for(rep, customer, contract=contract, lines=[line(pump)], order_date=DAY)

    fill(3)  # 6 orders, with and without a contract
    few = queries_for(client, url)
    fill(12)  # 30
    many = queries_for(client, url)

    assert few == many
    assert many <= 12


# --- the contract's page -------------------------------------------------------------------


def test_contract_page_loads_the_orders_card(client_for, rep, contract):
    content = client_for(rep).get(contract.get_absolute_url()).content.decode()

    assert f'hx-get="{reverse("orders:contract_orders")}?contract={contract.pk}"' in content


def test_contract_orders_card_shows_ordered_remaining_and_latest_orders(
    client_for, rep, other_rep, manager, customer, contract, pump
):
    mine = order_for(rep, customer, contract=contract, lines=[line(pump, 100)], order_date=DAY)  # 10,000
    cancelled = order_for(rep, customer, contract=contract, lines=[line(pump, 50)], order_date=DAY)
    services.order_cancel(actor=rep, order_id=cancelled.pk, reason="Duplicate")
    by_manager = order_for(manager, customer, contract=contract, lines=[line(pump, 25)], order_date=DAY)

    response = client_for(rep).get(
        reverse("orders:contract_orders"), {"contract": contract.pk}, headers={"HX-Request": "true"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    # Both live orders are drafts: they reserve their amount, nothing is ordered yet.
    assert 'data-testid="contract-ordered">0.00 CNY' in content
    assert 'data-testid="contract-reserved">12,500.00 CNY' in content
    assert 'data-testid="contract-remaining">37,500.00 CNY' in content
    assert 'data-testid="contract-executed">25.0%' in content
    assert 'data-width="25.0"' in content
    assert list(response.context["orders"]) == [by_manager, cancelled, mine]  # the customer's owner sees them all
    assert f"{reverse('orders:order_create')}?contract={contract.pk}" in content


def test_contract_list_sorts_by_ordered_amount(client_for, rep, customer, manager, signatory, contract, pump):
    other = active_contract(rep, customer, "1000.00", manager=manager, signatory=signatory, title="Small")
    order_for(rep, customer, contract=other, lines=[line(pump, 5)], order_date=DAY)
    client = client_for(rep)

    response = client.get(reverse("contracts:contract_list"), {"sort": "-ordered"})

    assert list(response.context["object_list"]) == [other, contract]
    assert "50%" in response.content.decode()


# --- the catalog ---------------------------------------------------------------------------


def test_product_pages_for_reps_are_read_only(client_for, rep, pump):
    client = client_for(rep)

    listed = client.get(reverse("orders:product_list"))

    assert listed.status_code == 200 and "PUMP-1" in listed.content.decode()
    assert reverse("orders:product_update", args=[pump.pk]) not in listed.content.decode()
    assert client.get(reverse("orders:product_create")).status_code == 403
    assert client.get(reverse("orders:product_update", args=[pump.pk])).status_code == 403
    assert client.post(reverse("orders:product_update", args=[pump.pk]), {"name": "Hacked"}).status_code == 403
    assert reload(pump).name == "Pump"


def test_manager_adds_and_edits_products(client_for, manager, pump):
    client = client_for(manager)
    values = {"sku": "gear-9", "name": "Gear", "unit_price": "12.50", "currency": "cny", "is_active": "on"}

    assert client.get(reverse("orders:product_create")).status_code == 200
    assert client.get(reverse("orders:product_update", args=[pump.pk])).status_code == 200
    response = client.post(reverse("orders:product_create"), values)

    gear = Product.objects.get(sku="GEAR-9")
    assert response.status_code == 302
    assert (gear.unit_price, gear.currency, gear.is_active) == (Decimal("12.50"), "CNY", True)
    response = client.post(reverse("orders:product_update", args=[gear.pk]), {**values, "is_active": ""})
    assert response.status_code == 302
    assert not reload(gear).is_active


def test_product_list_search_and_active_filter(client_for, rep, manager, pump, valve):
    retired = ProductFactory(actor=manager, sku="OLD-1", name="Old pump", is_active=False)
    client = client_for(rep)

    def listed(**query):
        return set(client.get(reverse("orders:product_list"), query).context["object_list"])

    assert listed(q="pump") == {pump, retired}
    assert listed(q="valve-1") == {valve}
    assert listed(active="true") == {pump, valve}
    assert listed(active="false") == {retired}


def test_contract_has_no_orders_card_before_it_is_active(client_for, rep, customer):
    draft = services_contract_draft(rep, customer)

    content = client_for(rep).get(reverse("contracts:contract_detail", args=[draft.pk])).content.decode()

    assert reverse("orders:contract_orders") not in content
    assert Contract.objects.get(pk=draft.pk).ordered_amount == 0
