"""A dashboard chart in a real headless Chromium: Chart.js draws the canvas, and the
button switches to the table view with the same figures."""

from decimal import Decimal

import pytest
from django.utils import timezone

from crm.core.tests.browser import csp_violations, log_in
from crm.core.workflow import SYSTEM
from crm.dashboard.services import dashboard_refresh
from customers.choices import OpportunityStage
from customers.tests.factories import CustomerFactory, OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def test_the_pipeline_chart_is_drawn_and_its_table_is_one_click_away(page, rep):
    customer = CustomerFactory(owner=rep)
    OpportunityFactory(
        customer=customer,
        stage=OpportunityStage.PROPOSAL,
        amount=Decimal("123456"),
        expected_close_date=timezone.localdate(),
    )
    dashboard_refresh(actor=SYSTEM)
    violations = csp_violations(page)
    log_in(page, rep)

    card = page.get_by_test_id("chart-rep_pipeline")
    expect(card).to_have_attribute("data-chart-drawn", "true")
    canvas = card.locator("canvas")
    expect(canvas).to_be_visible()
    painted = canvas.evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n; }"""
    )
    assert painted > 100, "the canvas is blank"
    table = card.locator("[data-chart-table]")
    expect(table).to_be_hidden()

    card.get_by_role("button", name="Show table").click()
    expect(table).to_be_visible()
    expect(table).to_contain_text("123,456.00")
    expect(canvas).to_be_hidden()
    card.get_by_role("button", name="Show chart").click()
    expect(canvas).to_be_visible()
    assert violations == []
