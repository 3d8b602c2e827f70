"""The navigation's search box in a real headless Chromium: typing shows the grouped hits."""

import re

import pytest

from crm.core.tests.browser import csp_violations, log_in
from customers import services as customer_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def test_typing_in_the_box_shows_grouped_hits_and_the_keyboard_opens_one(page, rep, other_rep):
    mine = customer_services.customer_create(actor=rep, name="Blue Lotus Textiles", phone="13912345678")
    customer_services.contact_create(actor=rep, customer_id=mine.pk, name="Lotus Wang")
    customer_services.customer_create(actor=other_rep, name="Lotus Garden Hotel")
    violations = csp_violations(page)
    log_in(page, rep)

    box = page.get_by_role("searchbox", name="Search customers, contacts, contracts, orders, quotes and tickets")
    box.press_sequentially("lotus", delay=30)
    results = page.locator("#nav-search-results")
    expect(results.get_by_test_id("search-group-customers")).to_contain_text("Blue Lotus Textiles")
    expect(results.get_by_test_id("search-group-contacts")).to_contain_text("Lotus Wang")
    expect(results.get_by_test_id("search-count-customers")).to_have_text("1")
    expect(results).not_to_contain_text("Lotus Garden Hotel")

    box.press("ArrowDown")
    expect(results.locator("a.search-hit").first).to_be_focused()
    expect(results.locator("a.search-hit").first).to_contain_text("Blue Lotus Textiles")
    page.keyboard.press("Escape")
    expect(box).to_be_focused()
    expect(results.get_by_test_id("search-results")).to_have_count(0)

    box.press("Enter")  # without waiting for htmx: the full page
    expect(page).to_have_url(re.compile(r"/search/\?q=lotus$"))
    expect(page.get_by_test_id("search-group-customers")).to_contain_text("Blue Lotus Textiles")
    page.get_by_role("link", name=re.compile("Blue Lotus Textiles")).first.click()
    expect(page).to_have_url(re.compile(rf"/customers/{mine.pk}/$"))
    assert violations == []
