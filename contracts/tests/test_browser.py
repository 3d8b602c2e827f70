"""The contract journeys in a real headless Chromium, against the live server.

Approval over two levels (sales manager, then finance), then signing: the company's
signatory in the app, the customer through the one-time link, and anyone checking the
signatures on the public verification page. Each user logs in through the login form
and each step asserts what that user sees.
"""

import re
from contextlib import contextmanager
from decimal import Decimal

import pytest

from contracts.models import ApprovalStep, Contract
from contracts.tests.factories import approved_contract, default_approval_rules
from crm.core.tests.browser import artifact_path, browser_page, log_in, save_artifacts
from crm.core.tests.factories import PASSWORD
from customers import services as customer_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

CONTRACT_URL = re.compile(r"/contracts/(\d+)/$")
BODY = (
    "SUPPLY AGREEMENT\n"
    "1. Scope: castings for the 2026 pump range.\n"
    "2. Price and payment as stated above.\n"
    "3. Confidentiality\n"
    "4. Governing law: PRC.\n"
)


def create_customer(owner):
    return customer_services.customer_create(
        actor=owner,
        name="Zhongshan Precision Castings",
        email="purchasing@zs-castings.example.cn",
        phone="13800135678",
        address="88 Harbour Road, Zhongshan",
    )


def full_name(user):
    return user.get_full_name() or user.get_username()


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def open_from_nav(page, name):
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def status_badge(page):
    return page.get_by_role("heading", level=1).locator(".badge")


def approval_level(page, level):
    return page.get_by_test_id("approval-level").filter(has_text=f"Level {level}")


def screenshot(page, request, name):
    """A full-page screenshot in test-artifacts/, to look at the layout."""
    page.screenshot(path=artifact_path(f"{request.node.nodeid}-{name}", ".png"), full_page=True)


@contextmanager
def logged_out_page(browser, live_server, request, name):
    """A fresh browser context with no login (its own cookies); its screenshot and HTML
    land in test-artifacts/ when a step in it fails."""
    nodeid = f"{request.node.nodeid}-{name}"
    with browser_page(browser, live_server.url, nodeid, failed=lambda: False) as fresh:
        try:
            yield fresh
        except BaseException:
            save_artifacts(fresh, nodeid)
            raise


def test_large_contract_is_approved_by_the_manager_then_finance(page, request, rep, manager, finance):
    default_approval_rules()
    customer = create_customer(rep)

    # The rep drafts the contract from their customer's page and submits it.
    log_in(page, rep)
    open_from_nav(page, "Customers")
    page.get_by_test_id("result-table").get_by_role("link", name=customer.name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(customer.name)
    page.get_by_role("link", name="New contract").click()
    expect(page.get_by_role("heading", name="New contract")).to_be_visible()
    page.get_by_label("Title").fill("Pump castings 2026")
    page.get_by_label("Amount").fill("1500000")
    page.get_by_label("Currency").fill("CNY")
    page.get_by_label("Payment terms (days)").fill("45")
    page.get_by_label("Start date").fill("2026-03-01")
    page.get_by_label("End date").fill("2027-02-28")
    page.get_by_label("Body").fill(BODY)
    page.get_by_role("button", name="Save draft").click()

    expect(page).to_have_url(CONTRACT_URL)
    contract = Contract.objects.get(pk=CONTRACT_URL.search(page.url).group(1))
    assert (contract.owner, contract.customer) == (rep, customer)
    expect(page.get_by_role("alert")).to_contain_text(f"Drafted contract {contract.number} Pump castings 2026.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{contract.number} · Pump castings 2026")
    expect(status_badge(page)).to_have_text("Draft")
    expect(page.get_by_test_id("contract-amount")).to_have_text("1,500,000.00 CNY")
    expect(page.locator("main")).to_contain_text("2026-03-01 – 2027-02-28 (364 days)")
    expect(page.locator("main")).to_contain_text("45 days")
    expect(page.locator("main pre")).to_contain_text("1. Scope: castings for the 2026 pump range.")

    page.get_by_role("link", name="Submit for approval").click()
    levels = page.locator("main .card ol li")
    expect(levels).to_have_text(["Sales manager", "Finance approver"])
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"{contract.number} Pump castings 2026 was submitted for approval."
    )
    expect(status_badge(page)).to_have_text("Pending approval")
    expect(approval_level(page, 1)).to_contain_text("Sales manager: waiting")
    expect(approval_level(page, 2)).to_contain_text("Finance approver: —")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # nobody approves their own
    log_out(page)

    # The sales manager finds it in the inbox and approves level 1.
    log_in(page, manager)
    open_from_nav(page, "Approvals")
    row = page.get_by_test_id("inbox").get_by_role("row").filter(has_text=contract.number)
    expect(row).to_contain_text("Pump castings 2026")
    expect(row).to_contain_text("1,500,000.00 CNY")
    row.get_by_role("link", name=contract.number).click()
    expect(page).to_have_url(re.compile(rf"/contracts/{contract.pk}/$"))
    page.get_by_label("Comment (optional)").fill("Margin is fine.")
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("alert")).to_contain_text(f"You approved {contract.number} Pump castings 2026.")
    expect(approval_level(page, 1)).to_contain_text(f"Sales manager: Approved by {full_name(manager)}")
    expect(approval_level(page, 1)).to_contain_text("“Margin is fine.”")
    expect(approval_level(page, 2)).to_contain_text("Finance approver: waiting")
    expect(status_badge(page)).to_have_text("Pending approval")
    screenshot(page, request, "level-1-approved")

    # Level 2 is not the manager's: no form here, nothing in the inbox, and a POST is refused.
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    open_from_nav(page, "Approvals")
    expect(page.get_by_test_id("inbox")).to_contain_text("Nothing waits for you.")
    page.goto(f"/contracts/{contract.pk}/approve/")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("main")).to_contain_text("This level waits for a decision by a finance approver.")
    assert ApprovalStep.objects.filter(contract=contract).count() == 1
    log_out(page)

    # The finance approver approves from the inbox.
    log_in(page, finance)
    open_from_nav(page, "Approvals")
    row = page.get_by_test_id("inbox").get_by_role("row").filter(has_text=contract.number)
    expect(row.get_by_test_id("inbox-submitter")).to_have_text(full_name(rep))
    row.get_by_text("Approve…").click()  # opens the confirmation; nothing is approved yet
    expect(row).to_contain_text(f"Approve {contract.number} for 1,500,000.00 CNY?")
    row.get_by_label("Comment (optional)").fill("Within budget.")
    row.get_by_role("button", name="Confirm approval").click()
    expect(page.get_by_role("alert")).to_contain_text(f"You approved {contract.number} Pump castings 2026.")
    expect(page.get_by_test_id("inbox")).to_contain_text("Nothing waits for you.")
    log_out(page)

    # The rep sees it approved, in the list and on the contract.
    log_in(page, rep)
    open_from_nav(page, "Contracts")
    row = page.get_by_test_id("result-table").get_by_role("row").filter(has_text=contract.number)
    expect(row.locator(".badge")).to_have_text("Approved")
    row.get_by_role("link", name=contract.number).click()
    expect(status_badge(page)).to_have_text("Approved")
    expect(approval_level(page, 1)).to_contain_text(f"Approved by {full_name(manager)}")
    expect(approval_level(page, 2)).to_contain_text(f"Finance approver: Approved by {full_name(finance)}")


def test_signatory_and_customer_sign_and_anyone_can_verify(
    page, request, browser, live_server, settings, mailoutbox, rep, manager, signatory
):
    default_approval_rules()
    settings.SITE_URL = live_server.url  # the link in the message and the e-mail points here
    customer = create_customer(rep)
    contract = approved_contract(
        approvers=[manager],
        owner=rep,
        customer=customer,
        title="Pump castings 2026",
        body=BODY,
        amount=Decimal("250000.00"),
    )
    label = f"{contract.number} Pump castings 2026"

    # The signatory signs for the company, confirming with their password.
    log_in(page, signatory)
    open_from_nav(page, "Contracts")
    page.get_by_test_id("result-table").get_by_role("link", name=contract.number).click()
    expect(status_badge(page)).to_have_text("Approved")
    expect(page.get_by_test_id("signature")).to_have_count(0)
    page.get_by_role("link", name="Sign for the company").click()
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Sign for the company").click()
    expect(page.locator("#div_id_password .invalid-feedback")).to_contain_text("The password is not correct.")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign for the company").click()

    expect(page).to_have_url(re.compile(rf"/contracts/{contract.pk}/$"))
    expect(page.get_by_role("alert")).to_contain_text(f"You signed {label} for the company.")
    expect(status_badge(page)).to_have_text("Signing")
    company = page.get_by_test_id("signature")
    expect(company).to_have_count(1)
    expect(company).to_contain_text(f"Company: {full_name(signatory)}")
    expect(company.get_by_test_id("signature-status")).to_have_text("valid")
    expect(page.get_by_role("link", name="Sign for the company")).to_have_count(0)
    screenshot(page, request, "company-signed")
    log_out(page)

    # The owner sends the customer the one-time link.
    log_in(page, rep)
    page.goto(contract.get_absolute_url())
    page.get_by_role("link", name="Send signing link").click()
    expect(page.get_by_label("Send the link to")).to_have_value(customer.email)
    page.get_by_role("button", name="Send signing link to the customer").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Signing link e-mailed to {customer.email}. It works once:")
    signing_url = page.get_by_test_id("signing-url").inner_text()
    assert signing_url.startswith(f"{live_server.url}/contracts/sign/"), signing_url
    expect(page.get_by_test_id("signing-url")).to_have_attribute("href", signing_url)
    # One mail to the customer (the staff's notifications go to the staff).
    to_customer = [message for message in mailoutbox if customer.email in message.to]
    assert [message.to for message in to_customer] == [[customer.email]]
    assert signing_url in to_customer[0].body
    log_out(page)

    # The customer, with no account, reads the contract and accepts it through the link.
    with logged_out_page(browser, live_server, request, "customer") as customer_page:
        assert customer_page.goto(signing_url).ok
        # The token was exchanged for a session: the page's address carries none.
        expect(customer_page).to_have_url(f"{live_server.url}/contracts/sign/")
        expect(customer_page.get_by_role("heading", level=1)).to_have_text(
            f"Contract {contract.number} from {settings.COMPANY_NAME}"
        )
        expect(customer_page.get_by_test_id("current-user")).to_have_count(0)
        expect(customer_page.locator("main pre")).to_have_text(BODY.strip())
        expect(customer_page.locator("main")).to_contain_text("250,000.00 CNY")
        expect(customer_page.locator("textarea")).to_have_count(0)  # the terms are read-only
        customer_page.get_by_label("Your full name").fill("Li Wei")
        customer_page.get_by_role("button", name="Sign and accept").click()
        expect(customer_page.locator("main")).to_contain_text("Tick the box to accept the contract.")
        expect(customer_page.get_by_label("Your full name")).to_have_value("Li Wei")
        customer_page.get_by_label("I have read this contract and accept it on behalf of the customer.").check()
        screenshot(customer_page, request, "customer-signing")
        customer_page.get_by_role("button", name="Sign and accept").click()

        expect(customer_page.get_by_role("heading", level=1)).to_have_text("Thank you")
        expect(customer_page.get_by_test_id("signed-confirmation")).to_contain_text(
            f"Li Wei accepted contract {contract.number} at"
        )

        response = customer_page.goto(signing_url)
        assert response.status == 410
        expect(customer_page.get_by_role("heading", level=1)).to_have_text("This link does not work")
        expect(customer_page.get_by_test_id("link-error")).to_have_text("This signing link was already used.")
        assert BODY.splitlines()[1] not in customer_page.content()

    # The owner sees the contract active with both signatures valid, and the certificate.
    log_in(page, rep)
    page.goto(contract.get_absolute_url())
    expect(status_badge(page)).to_have_text("Active")
    signatures = page.get_by_test_id("signature")
    expect(signatures).to_have_count(2)
    expect(signatures.filter(has_text=f"Company: {full_name(signatory)}")).to_have_count(1)
    expect(signatures.filter(has_text="Customer: Li Wei")).to_have_count(1)
    expect(page.get_by_test_id("signature-status")).to_have_text(["valid", "valid"])
    expect(page.locator("#signatures")).to_contain_text(f"{customer.email} · ")
    expect(page.locator("#signatures")).to_contain_text("used")
    screenshot(page, request, "active")
    page.locator("#signatures").get_by_role("link", name="Certificate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificate of completion")
    expect(page.locator("main")).to_contain_text(f"{contract.number} · Pump castings 2026 (v1)")
    expect(page.locator("main")).to_contain_text(f"{settings.COMPANY_NAME} · {customer.name}")
    code = page.get_by_test_id("verification-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code), code
    expect(page.get_by_test_id("verify-qr")).to_be_visible()
    verify_link = page.get_by_test_id("verify-link").get_attribute("href")
    log_out(page)

    # Anyone holding the certificate checks it on the public page.
    with logged_out_page(browser, live_server, request, "verify") as public:
        public.goto("/contracts/verify/")
        expect(public.get_by_role("heading", level=1)).to_have_text("Verify a signed contract")
        public.get_by_label("Contract number").fill(contract.number)
        public.get_by_label("Verification code").fill("WRONG-CODE")
        public.get_by_role("button", name="Verify").click()
        expect(public.locator("main")).to_contain_text("No signed contract has this number and verification code.")
        expect(public.get_by_test_id("verify-result")).to_have_count(0)

        public.get_by_label("Verification code").fill(code)
        public.get_by_role("button", name="Verify").click()
        result = public.get_by_test_id("verify-result")
        expect(result).to_contain_text(f"{contract.number} · Pump castings 2026")
        entries = result.get_by_role("listitem")
        expect(entries).to_have_count(2)
        expect(entries.filter(has_text=f"Company: {full_name(signatory)}")).to_contain_text("valid")
        expect(entries.filter(has_text="Customer: Li Wei")).to_contain_text("valid")
        expect(result).not_to_contain_text("INVALID")
        expect(public.get_by_test_id("verdict")).to_contain_text("Valid")
        expect(public.get_by_test_id("signed-terms")).to_contain_text(f"{settings.COMPANY_NAME} · {customer.name}")
        screenshot(public, request, "verified")

        # The certificate's link (and QR code) opens the same verdict at once.
        public.goto(verify_link.replace(settings.SITE_URL.rstrip("/"), live_server.url))
        expect(public.get_by_test_id("verdict")).to_contain_text("Valid")


def test_the_policy_refuses_inline_script_and_says_so(page):
    """The guard the other browser tests rely on: an inline script is blocked, and the
    console report of it is what `page.csp_violations` collects."""
    assert page.goto("/accounts/login/").ok
    page.evaluate(
        """() => { const script = document.createElement("script");
                   script.textContent = "window.injected = true"; document.head.appendChild(script); }"""
    )
    assert page.evaluate("() => window.injected === true") is False
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert any("script-src" in violation for violation in page.csp_violations), page.csp_violations
    page.csp_violations.clear()
