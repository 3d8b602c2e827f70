"""The main customer journeys in a real headless Chromium, against the live server.

Each test logs in through the login form and asserts what the user sees.
"""

import re

import pytest

from crm.core.tests.browser import log_in, page_text
from customers import services
from customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

DETAIL_URL = re.compile(r"/customers/(\d+)/$")


def create_customer(owner, **values):
    """A customer as a rep would create it, through the service (so it has history)."""
    defaults = {
        "name": "Zhongshan Precision Castings",
        "email": "purchasing@zs-castings.example.cn",
        "phone": "13800135678",
        "address": "88 Harbour Road, Zhongshan",
        "notes": "Met at the Canton Fair.",
    }
    return services.customer_create(actor=owner, **{**defaults, **values})


def search(page, text):
    page.get_by_label("Search", exact=True).fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    return page.get_by_test_id("result-table")


def test_rep_creates_a_customer_and_finds_it_by_name_and_phone(page, rep):
    create_customer(rep, name="Harbin Cold Chain Logistics", email="ops@hcc.example.cn", phone="13911112222")
    log_in(page, rep)

    page.get_by_role("navigation").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    page.get_by_role("link", name="New customer").click()
    expect(page.get_by_role("heading", name="New customer")).to_be_visible()

    page.get_by_label("Name").fill("Guangzhou Blue Lotus Textiles")
    page.get_by_label("Kind").select_option(label="Company")
    page.get_by_label("Industry").select_option(label="Manufacturing")
    page.get_by_label("Tier").select_option(label="Key account")
    page.get_by_label("Status").select_option(label="Prospect")
    page.get_by_label("E-mail").fill("sourcing@bluelotus.example.cn")
    page.get_by_label("Phone").fill("+86 138-0013-5678")
    page.get_by_label("Address").fill("12 Pearl River Avenue\nGuangzhou")
    page.get_by_label("Notes").fill("Wants samples of the spring range.")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(DETAIL_URL)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Guangzhou Blue Lotus Textiles")
    expect(page.get_by_role("alert")).to_contain_text("Created customer Guangzhou Blue Lotus Textiles.")
    expect(page.get_by_test_id("customer-email")).to_have_text("sourcing@bluelotus.example.cn")
    expect(page.get_by_test_id("customer-phone")).to_have_text("+86 138-0013-5678")
    expect(page.locator("main")).to_contain_text("Key account")
    created = page.get_by_test_id("audit-event").first
    expect(created).to_contain_text(f"{rep.get_full_name()} created the customer Guangzhou Blue Lotus Textiles")
    expect(created).to_contain_text("Key account")  # the tier by its label, as the page shows it
    expect(created).to_contain_text(re.compile(r"Web · 127\.0\.0\.1"))
    assert_bootstrap_applied(page)
    customer_id = DETAIL_URL.search(page.url).group(1)
    assert Customer.objects.get(pk=customer_id).owner == rep

    page.get_by_label("breadcrumb").get_by_role("link", name="Customers").click()
    table = search(page, "blue lot")
    expect(table.get_by_role("link", name="Guangzhou Blue Lotus Textiles")).to_be_visible()
    expect(table).not_to_contain_text("Harbin Cold Chain Logistics")
    expect(page.get_by_test_id("result-count")).to_contain_text("1–1 of 1")

    table = search(page, "0013 56")
    expect(table.get_by_role("link", name="Guangzhou Blue Lotus Textiles")).to_be_visible()
    expect(table).not_to_contain_text("Harbin Cold Chain Logistics")

    table = search(page, "nothing like this")
    expect(table).to_contain_text("No customers match.")

    page.get_by_role("link", name="Reset").click()
    table = page.get_by_test_id("result-table")
    expect(table.get_by_role("link", name="Guangzhou Blue Lotus Textiles")).to_be_visible()
    expect(table.get_by_role("link", name="Harbin Cold Chain Logistics")).to_be_visible()


def test_other_rep_gets_404_and_no_data_for_a_customer_not_theirs(page, rep, other_rep):
    customer = create_customer(rep)
    log_in(page, other_rep)

    response = page.goto(customer.get_absolute_url())
    assert response.status == 404
    content = page_text(page)
    for secret in (customer.name, "Zhongshan", customer.phone, "138****5678", customer.email, "zs-castings"):
        assert secret not in content

    for url in (f"/customers/{customer.pk}/edit/", f"/customers/{customer.pk}/delete/"):
        assert page.goto(url).status == 404

    page.goto("/customers/")
    table = search(page, "Zhongshan")
    expect(table).to_contain_text("No customers match.")
    table = search(page, "00135678")
    expect(table).to_contain_text("No customers match.")
    assert "Zhongshan" not in page_text(page)


def test_service_agent_sees_the_phone_and_email_masked(page, rep, agent):
    customer = create_customer(rep, phone="13800135678", email="purchasing@zs-castings.example.cn")
    log_in(page, agent)

    response = page.goto(customer.get_absolute_url())
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zhongshan Precision Castings")
    expect(page.get_by_test_id("customer-phone")).to_have_text("138****5678")
    expect(page.get_by_test_id("customer-email")).to_have_text("p***@zs-castings.example.cn")
    # The history shows the creation with the phone and e-mail masked as well.
    expect(page.get_by_test_id("audit-event").first).to_contain_text("138****5678")
    content = page_text(page)
    assert "13800135678" not in content
    assert "purchasing@" not in content
    # A read-only role gets no buttons that change the customer.
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    assert_bootstrap_applied(page)

    page.goto("/customers/")
    table = search(page, "Zhongshan")
    row = table.get_by_role("row").filter(has_text="Zhongshan Precision Castings")
    expect(row.get_by_test_id("customer-phone")).to_have_text("138****5678")
    expect(row).to_contain_text("p***@zs-castings.example.cn")
    content = page_text(page)
    assert "13800135678" not in content
    assert "purchasing@" not in content

    # Searching by the hidden number must not reveal who has it.
    table = search(page, "0013 5678")
    expect(table).to_contain_text("No customers match.")


def test_duplicate_email_shows_the_error_with_a_link_and_keeps_the_input(page, rep):
    existing = create_customer(rep, name="Shenzhen Bright Star Electronics", email="info@brightstar.example.cn")
    log_in(page, rep)
    page.goto("/customers/new/")

    page.get_by_label("Name").fill("Bright Star Trading Co")
    page.get_by_label("Industry").select_option(label="Retail")
    page.get_by_label("E-mail").fill("  INFO@BrightStar.example.cn ")
    page.get_by_label("Phone").fill("139 0000 1111")
    page.get_by_label("Notes").fill("Maybe the same group?")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/customers/new/$"))
    email_field = page.locator("#div_id_email")
    error = email_field.locator(".invalid-feedback")
    expect(error).to_be_visible()
    expect(error).to_contain_text("A customer with this e-mail already exists: Shenzhen Bright Star Electronics.")
    expect(page.get_by_label("E-mail")).to_have_attribute("class", re.compile(r"\bis-invalid\b"))
    expect(page.locator(".invalid-feedback")).to_have_count(1)

    expect(page.get_by_label("Name")).to_have_value("Bright Star Trading Co")
    expect(page.get_by_label("Industry")).to_have_value("retail")
    expect(page.get_by_label("E-mail")).to_have_value(re.compile(r"INFO@BrightStar\.example\.cn"))
    expect(page.get_by_label("Phone")).to_have_value("139 0000 1111")
    expect(page.get_by_label("Notes")).to_have_value("Maybe the same group?")
    assert Customer.objects.filter(name="Bright Star Trading Co").count() == 0

    email_field.get_by_role("link", name="Open it").click()
    expect(page).to_have_url(re.compile(rf"/customers/{existing.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Shenzhen Bright Star Electronics")


def test_duplicate_of_another_reps_customer_does_not_name_or_link_it(page, rep, other_rep):
    create_customer(other_rep, name="Wuhan Riverside Hotels", phone="027 8765 4321")
    log_in(page, rep)
    page.goto("/customers/new/")

    page.get_by_label("Name").fill("Riverside Hospitality")
    page.get_by_label("Phone").fill("02787654321")
    page.get_by_role("button", name="Save").click()

    error = page.locator("#div_id_phone .invalid-feedback")
    expect(error).to_contain_text("belongs to another owner; ask a sales manager")
    expect(error.get_by_role("link")).to_have_count(0)
    assert "Wuhan" not in page_text(page)
    expect(page.get_by_label("Phone")).to_have_value("02787654321")


def assert_bootstrap_applied(page):
    """Bootstrap's CSS and JavaScript and htmx were served (static files work)."""
    navbar_background = page.locator("nav.navbar").evaluate("el => getComputedStyle(el).backgroundColor")
    assert navbar_background == "rgb(33, 37, 41)", navbar_background
    assert page.evaluate("typeof window.bootstrap !== 'undefined' && typeof window.htmx !== 'undefined'")
