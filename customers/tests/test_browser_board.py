"""The pipeline board in a real headless Chromium: dragging a card to another column moves
the deal (through the same step as the "move to" form), and the form works from the
keyboard alone."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.core.tests.browser import log_in
from crm.core.tests.waiting import wait_until
from customers.choices import OpportunityStage as S
from customers.models import Opportunity
from customers.services import opportunity_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def _deal(rep, customer, title):
    return opportunity_create(
        actor=rep,
        customer=customer,
        title=title,
        amount=Decimal("120000"),
        currency="CNY",
        expected_close_date=timezone.localdate() + datetime.timedelta(days=20),
    )


def column(page, stage):
    return page.locator(f"[data-testid=board-column][data-stage={stage}]")


def test_dragging_a_card_to_another_column_moves_the_deal(page, rep, customer):
    deal = _deal(rep, customer, "Harbour cranes")
    log_in(page, rep)
    page.get_by_test_id("nav-pipeline").click()
    expect(page.get_by_role("heading", name="Pipeline board")).to_be_visible()
    page.wait_for_load_state()  # the board's scripts bound to the columns: a drag before is lost
    card = column(page, "prospecting").get_by_test_id("board-card").filter(has_text="Harbour cranes")
    target = column(page, "proposal").get_by_test_id("column-cards")

    # Grab the card by its text (links and the form on it do not start a drag).
    box, drop = card.get_by_test_id("card-customer").bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 40, box["y"] + 30, steps=5)
    page.mouse.move(drop["x"] + drop["width"] / 2, drop["y"] + 20, steps=15)
    page.mouse.up()

    expect(page.get_by_test_id("board-status")).to_contain_text("Harbour cranes moved to its new stage.")
    expect(column(page, "proposal").get_by_test_id("column-count")).to_have_text("1")
    expect(column(page, "prospecting").get_by_test_id("column-count")).to_have_text("0")
    wait_until(lambda: Opportunity.objects.get(pk=deal.pk).stage == S.PROPOSAL)
    # After the move the next step is offered as an activity.
    page.get_by_test_id("plan-next-step").click()
    expect(page.get_by_test_id("next-step-suggestion")).to_be_visible()
    expect(page.get_by_label("Subject")).to_have_value("Send the proposal and book a review")


def test_the_move_to_form_works_with_the_keyboard_alone(page, rep, customer):
    deal = _deal(rep, customer, "Cold store racks")
    log_in(page, rep)
    page.goto("/customers/opportunities/board/")
    card = page.get_by_test_id("board-card").filter(has_text="Cold store racks")
    card.get_by_label("Move to").focus()
    card.get_by_label("Move to").select_option("negotiation")
    page.keyboard.press("Tab")  # to the Move button
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(column(page, "negotiation").get_by_test_id("board-card").filter(has_text="Cold store racks")).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).stage == S.NEGOTIATION
