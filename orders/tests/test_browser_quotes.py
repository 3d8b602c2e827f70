"""The front half of the lifecycle in a real headless Chromium: a rep opens an opportunity,
plans a follow-up call and completes it, drags the deal to proposal, writes a quote whose
discount needs approval; a manager approves; the rep sends it; the customer accepts
through the link in the mail; the rep finds the contract draft with the quote's amount."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from contracts.tests.test_browser import log_out, logged_out_page
from crm.core.tests.browser import log_in
from crm.core.tests.waiting import wait_until
from customers.models import Activity, Opportunity
from customers.tests.factories import CustomerFactory
from orders.models import Quote, QuoteDiscountLimit
from orders.tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def test_from_opportunity_to_quote_to_contract_draft(
    page, request, browser, live_server, settings, mailoutbox, rep, manager
):
    settings.SITE_URL = live_server.url
    QuoteDiscountLimit.objects.update_or_create(pk=1, defaults={"line_percent": 10, "total_percent": 10})
    customer = CustomerFactory(owner=rep, name="Hangzhou Tea Co", email="buyer@tea.example.com")
    pump = ProductFactory(actor=manager, sku="HP-100", name="Hydraulic pump", unit_price=Decimal("1000.00"))

    # The rep opens the deal.
    log_in(page, rep)
    page.goto(f"/customers/opportunities/new/?customer={customer.pk}")
    page.locator("main").get_by_label("Customer").select_option(str(customer.pk))
    page.locator("main").get_by_label("Title").fill("Tea line upgrade")
    page.locator("main").get_by_label("Amount").fill("50000")
    page.locator("main").get_by_label("Expected close date").fill(
        (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("opportunity-stage")).to_contain_text("Prospecting")
    deal = Opportunity.objects.get(title="Tea line upgrade")

    # A follow-up call, planned from the deal's page and completed with its outcome.
    plan = page.locator("#plan")
    plan.get_by_label("Subject").fill("Call the buyer about volumes")
    due = (timezone.localtime() + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    plan.get_by_label("Due").fill(due)
    plan.get_by_role("button", name="Plan activity").click()
    wait_until(lambda: Activity.objects.filter(opportunity=deal).exists())
    activity = Activity.objects.get(opportunity=deal)
    page.goto(f"/customers/activities/{activity.pk}/")
    page.locator("main").get_by_label("Outcome").fill("Wants 20 pumps, asks for a discount")
    page.get_by_role("button", name="Mark done").click()
    wait_until(lambda: Activity.objects.get(pk=activity.pk).status == "done")

    # Dragged to proposal on the board.
    page.get_by_test_id("nav-pipeline").click()
    page.wait_for_load_state()  # the board's scripts bound to the columns: a drag before is lost
    column = page.locator("[data-testid=board-column][data-stage=prospecting]")
    card = column.get_by_test_id("board-card").filter(has_text="Tea line upgrade")
    box = card.get_by_test_id("card-customer").bounding_box()
    drop = page.locator("[data-testid=board-column][data-stage=proposal]").get_by_test_id("column-cards").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 40, box["y"] + 30, steps=5)
    page.mouse.move(drop["x"] + drop["width"] / 2, drop["y"] + 20, steps=15)
    page.mouse.up()
    wait_until(lambda: Opportunity.objects.get(pk=deal.pk).stage == "proposal")

    # The quote, with a 15 % discount: above the limit.
    page.goto(deal.get_absolute_url())
    page.get_by_test_id("new-quote").click()
    page.locator("main").get_by_label("Product").select_option(str(pump.pk))
    page.locator("main").get_by_label("Quantity").fill("20")
    page.locator("main").get_by_label("Discount %").fill("15")
    expect(page.get_by_test_id("quote-total")).to_contain_text("19,210.00")  # 17,000 net + 13 % tax
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_test_id("quote-gross")).to_contain_text("19,210.00 CNY")
    quote = Quote.objects.get(opportunity=deal)
    page.get_by_role("link", name="Submit for approval").click()
    page.get_by_role("button", name="Submit the discount for approval").click()
    expect(page.get_by_test_id("approval-reasons")).to_be_visible()
    log_out(page)

    # A sales manager approves the discount.
    log_in(page, manager)
    page.goto(quote.get_absolute_url())
    page.get_by_role("link", name="Approve discount").click()
    page.get_by_role("button", name="Approve discount").click()
    expect(page.get_by_role("alert")).to_contain_text("You approved the discount")
    log_out(page)

    # The rep sends it.
    log_in(page, rep)
    page.goto(quote.get_absolute_url())
    page.get_by_role("link", name="Send to customer").click()
    page.get_by_role("button", name="Send the quote to the customer").click()
    expect(page.get_by_role("alert")).to_contain_text("was e-mailed")
    wait_until(lambda: any(customer.email in message.to for message in mailoutbox))
    message = next(message for message in mailoutbox if customer.email in message.to)
    assert message.attachments[0][0].endswith(".pdf")
    link = re.search(r"http\S+/orders/quotes/view/\S+/", message.body).group(0)
    log_out(page)

    # The customer, with no account, accepts through the link in the mail.
    with logged_out_page(browser, live_server, request, "customer") as customer_page:
        customer_page.goto(link)
        expect(customer_page).to_have_url(f"{live_server.url}/orders/quotes/view/")
        expect(customer_page.get_by_test_id("public-quote-total")).to_contain_text("19,210.00 CNY")
        customer_page.locator("main").get_by_label("Your full name").fill("Zhao Lei")
        customer_page.locator("main").get_by_label(
            "I have read this quote and accept it on behalf of the customer."
        ).check()
        customer_page.get_by_role("button", name="Accept the quote").click()
        expect(customer_page.get_by_test_id("quote-accepted")).to_contain_text("Zhao Lei accepted quote")

    # The rep finds the contract draft with the quote's amount.
    log_in(page, rep)
    page.goto(quote.get_absolute_url())
    page.get_by_test_id("quote-contract").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft")
    expect(page.get_by_text("19,210.00 CNY").first).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).stage == "negotiation"
