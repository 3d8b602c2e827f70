"""The order journeys in a real headless Chromium, against the live server.

Orders against contracts: the rep orders from the contract's page, builds the lines in
place with live totals, submits, and is refused an order larger than what the contract
has left. The rep logs in through the login form and each step asserts what they see.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.core.tests.browser import artifact_path, log_in
from customers import services as customer_services
from orders.models import Order
from orders.tests.factories import ProductFactory, active_contract

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

ORDER_URL = re.compile(r"/orders/(\d+)/$")


def create_customer(owner):
    return customer_services.customer_create(
        actor=owner,
        name="Zhongshan Precision Castings",
        email="purchasing@zs-castings.example.cn",
        phone="13800135678",
        address="88 Harbour Road, Zhongshan",
    )


def open_from_nav(page, name):
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def status_badge(page):
    return page.get_by_role("heading", level=1).locator(".badge")


def screenshot(page, request, name):
    """A full-page screenshot in test-artifacts/, to look at the layout."""
    page.screenshot(path=artifact_path(f"{request.node.nodeid}-{name}", ".png"), full_page=True)


def line_rows(page):
    """The rows of the order form's lines table (a removed row stays, hidden)."""
    return page.get_by_test_id("order-lines").locator("tbody tr[data-order-line]")


def contract_hint(page):
    return page.locator("[data-contract-hint]")


def test_rep_orders_against_a_contract_and_cannot_order_more_than_is_left(page, request, rep, manager, signatory):
    customer = create_customer(rep)
    today = timezone.localdate()
    contract = active_contract(
        rep,
        customer,
        "10000.00",
        manager=manager,
        signatory=signatory,
        start_date=today - datetime.timedelta(days=30),
        end_date=today + datetime.timedelta(days=335),
    )
    product = ProductFactory(name="Hydraulic pump HP-7", unit_price=Decimal("1000.00"))
    product_option = f"{product} — 1,000.00 CNY"

    # The rep opens the active contract: nothing ordered yet.
    log_in(page, rep)
    open_from_nav(page, "Contracts")
    page.get_by_test_id("result-table").get_by_role("link", name=contract.number).click()
    expect(status_badge(page)).to_have_text("Active")
    card = page.get_by_test_id("contract-orders")
    expect(card.get_by_test_id("contract-ordered")).to_have_text("0.00 CNY")
    expect(card.get_by_test_id("contract-remaining")).to_have_text("10,000.00 CNY")
    expect(card).to_contain_text("No orders yet.")
    card.get_by_role("link", name="New order").click()

    # The form comes with the contract and its customer; the lines are built in place.
    expect(page.get_by_role("heading", name="New order")).to_be_visible()
    expect(page.get_by_test_id("order-customer")).to_have_text(customer.name)
    contract_field = page.get_by_label("Contract", exact=True)
    expect(contract_field).to_have_value(str(contract.pk))
    expect(contract_field.locator("option:checked")).to_have_text(
        f"{contract.number} · Annual supply (10,000.00 CNY left)"
    )
    expect(page.get_by_label("Currency")).to_have_value("CNY")
    expect(page.get_by_label("Order date")).to_have_value(today.isoformat())
    expect(contract_hint(page)).to_have_text("The contract has 10,000.00 CNY left.")
    rows = line_rows(page)
    expect(rows).to_have_count(1)
    total = page.get_by_test_id("order-total")
    expect(total).to_have_text("0.00 CNY")

    first = rows.nth(0)
    first.get_by_label("Product").select_option(label=product_option)
    expect(first.locator("[data-price-cell]")).to_have_text("1,000.00")
    expect(first.locator("[data-total-cell]")).to_have_text("1,000.00")  # the quantity starts at 1
    expect(total).to_have_text("1,000.00 CNY")
    quantity = first.get_by_label("Quantity")
    quantity.clear()
    expect(total).to_have_text("0.00 CNY")
    expect(first.locator("[data-total-cell]")).to_have_text("—")
    quantity.press_sequentially("3")
    expect(first.locator("[data-total-cell]")).to_have_text("3,000.00")
    expect(total).to_have_text("3,000.00 CNY")

    page.get_by_role("button", name="Add line").click()
    expect(rows).to_have_count(2)
    second = rows.nth(1)
    expect(second.get_by_label("Product")).to_be_focused()
    second.get_by_label("Product").select_option(label=product_option)
    second.get_by_label("Quantity").fill("2")
    expect(second.locator("[data-total-cell]")).to_have_text("2,000.00")
    expect(total).to_have_text("5,000.00 CNY")
    screenshot(page, request, "lines-in-place")
    second.get_by_role("button", name="Remove line").click()
    expect(second).to_be_hidden()
    expect(total).to_have_text("3,000.00 CNY")
    expect(contract_hint(page)).to_have_text("The contract has 10,000.00 CNY left.")
    page.get_by_role("button", name="Save draft").click()

    # The order page shows the one line kept and the total.
    expect(page).to_have_url(ORDER_URL)
    order = Order.objects.get(pk=ORDER_URL.search(page.url).group(1))
    assert (order.owner, order.customer, order.contract) == (rep, customer, contract)
    expect(page.get_by_role("alert")).to_contain_text(f"Placed order {order.number} as a draft.")
    expect(status_badge(page)).to_have_text("Draft")
    expect(page.get_by_test_id("order-contract")).to_contain_text(f"{contract.number} · Annual supply")
    saved_lines = page.get_by_test_id("order-lines").locator("tbody tr")
    expect(saved_lines).to_have_count(1)
    expect(saved_lines.locator("td")).to_have_text(
        [f"{product.sku} Hydraulic pump HP-7", "3", "1,000.00", "—", "3,000.00"]
    )
    expect(page.get_by_test_id("order-total")).to_have_text("3,000.00 CNY")
    expect(page.locator("#approval")).to_contain_text("When submitted, it is approved straight away.")
    screenshot(page, request, "draft")

    # Submitted against the contract and below every limit, it is approved at once.
    page.get_by_role("link", name="Submit", exact=True).click()
    expect(page.locator("main")).to_contain_text(f"Total 3,000.00 CNY. Placed against contract {contract.number}.")
    expect(page.locator("main")).to_contain_text("No approval is needed: the order is approved when you submit it.")
    page.get_by_role("button", name="Submit order").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/$"))
    expect(page.get_by_role("alert")).to_contain_text(f"{order.number} was approved.")
    expect(status_badge(page)).to_have_text("Approved")

    # Back on the contract: 3,000.00 ordered, 7,000.00 left.
    page.get_by_label("breadcrumb").get_by_role("link", name=contract.number).click()
    card = page.get_by_test_id("contract-orders")
    expect(card.get_by_test_id("contract-ordered")).to_have_text("3,000.00 CNY")
    expect(card.get_by_test_id("contract-remaining")).to_have_text("7,000.00 CNY")
    expect(card.get_by_test_id("contract-executed")).to_have_text("30.0%")
    # The bar's width comes from static JS (the Content-Security-Policy allows no style attribute).
    expect(card.locator(".progress-bar")).to_have_attribute("style", "width: 30%;")
    expect(card.get_by_test_id("contract-order")).to_have_count(1)
    expect(card.get_by_test_id("contract-order")).to_contain_text(order.number)
    expect(card.get_by_test_id("contract-order")).to_contain_text("Approved 3,000.00 CNY")

    # A second order of 8,000.00: the page warns before saving, the server refuses it.
    card.get_by_role("link", name="New order").click()
    expect(page.get_by_role("heading", name="New order")).to_be_visible()
    expect(contract_field.locator("option:checked")).to_have_text(
        f"{contract.number} · Annual supply (7,000.00 CNY left)"
    )
    expect(contract_hint(page)).to_have_text("The contract has 7,000.00 CNY left.")
    first = rows.nth(0)
    first.get_by_label("Product").select_option(label=product_option)
    first.get_by_label("Quantity").fill("8")
    expect(total).to_have_text("8,000.00 CNY")
    expect(contract_hint(page)).to_have_text("The order total is more than the contract has left (7,000.00 CNY).")
    expect(contract_hint(page)).to_have_class(re.compile(r"\btext-danger\b"))
    page.get_by_role("button", name="Save draft").click()

    expect(page).to_have_url(re.compile(rf"/orders/new/\?contract={contract.pk}$"))
    error = page.locator("#div_id_contract .invalid-feedback")
    expect(error).to_be_visible()
    expect(error).to_have_text("The order total 8,000.00 CNY exceeds the contract's remaining 7,000.00 CNY.")
    expect(contract_field).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator(".invalid-feedback")).to_have_count(1)
    expect(page.get_by_test_id("lines-errors")).to_have_count(0)
    # Everything typed is still there, with the live total and the warning.
    expect(contract_field).to_have_value(str(contract.pk))
    expect(rows).to_have_count(1)
    expect(rows.nth(0).get_by_label("Product")).to_have_value(str(product.pk))
    expect(rows.nth(0).get_by_label("Quantity")).to_have_value("8")
    expect(rows.nth(0).locator("[data-total-cell]")).to_have_text("8,000.00")
    expect(total).to_have_text("8,000.00 CNY")
    expect(contract_hint(page)).to_have_text("The order total is more than the contract has left (7,000.00 CNY).")
    screenshot(page, request, "exceeds-remaining")
    assert list(Order.objects.values_list("number", flat=True)) == [order.number]

    # Nothing was saved: the contract still shows one order and 7,000.00 left.
    page.goto(contract.get_absolute_url())
    card = page.get_by_test_id("contract-orders")
    expect(card.get_by_test_id("contract-remaining")).to_have_text("7,000.00 CNY")
    expect(card.get_by_test_id("contract-order")).to_have_count(1)
    card.get_by_role("link", name="All orders of this contract").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Orders · {contract.number}")
    expect(page.get_by_test_id("order-row")).to_have_count(1)
    expect(page.get_by_test_id("order-row")).to_contain_text(order.number)
