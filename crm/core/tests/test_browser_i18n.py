"""A sales rep switches to Chinese in a real Chromium and works through the main journey
reading Chinese labels; the choice follows them to their next login in another browser."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from contracts.tests.factories import ContractFactory, default_approval_rules, pending_contract
from crm.core.services import user_language_set
from crm.core.tests.browser import ARTIFACTS_DIR, log_in
from customers import services as customer_services
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def test_a_rep_switches_to_chinese_and_works_in_chinese(page, browser, live_server, rep):
    customer = CustomerFactory(owner=rep, name="杭州西湖贸易有限公司")
    contract = ContractFactory(owner=rep, customer=customer, title="年度液压泵供货合同", amount="1200000.00")
    log_in(page, rep)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation").get_by_role("link", name="Customers")).to_be_visible()

    with page.expect_navigation():
        page.get_by_test_id("language-zh-hans").click()

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    nav = page.get_by_role("navigation").first
    expect(nav.get_by_role("link", name="工作台")).to_be_visible()
    expect(nav.get_by_role("button", name="退出登录")).to_be_visible()
    expect(page.get_by_test_id("language-zh-hans")).to_have_attribute("aria-current", "true")

    nav.get_by_role("link", name="客户", exact=True).click()
    expect(page.get_by_role("heading", name="客户", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="新建客户")).to_be_visible()
    expect(page.get_by_role("button", name="筛选")).to_be_visible()
    page.get_by_role("link", name="杭州西湖贸易有限公司").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("杭州西湖贸易有限公司")
    expect(page.locator("main")).to_contain_text("联系人")
    expect(page.locator("main")).to_contain_text("历史记录")

    page.get_by_role("navigation").first.get_by_role("link", name="合同", exact=True).click()
    expect(page.get_by_role("heading", name="合同", exact=True)).to_be_visible()
    page.get_by_role("link", name=contract.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("草稿")
    expect(page.get_by_test_id("contract-amount")).to_have_text("1,200,000.00 CNY")
    expect(page.locator("main")).to_contain_text("金额")
    expect(page.locator("main")).to_contain_text("付款期限")
    expect(page.get_by_role("link", name="提交审批").or_(page.get_by_role("button", name="提交审批"))).to_be_visible()

    # Another browser, no cookie, an English Accept-Language: the login page is English,
    # and after logging in the rep's own choice applies.
    other = browser.new_context(base_url=live_server.url, locale="en-US")
    try:
        second = other.new_page()
        log_in(second, rep)
        expect(second.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(second.get_by_role("navigation").first.get_by_role("link", name="工作台")).to_be_visible()
        with second.expect_navigation():
            second.get_by_test_id("language-en").click()
        expect(second.get_by_role("navigation").first.get_by_role("link", name="Dashboard")).to_be_visible()
    finally:
        other.close()


def test_the_login_page_follows_the_browser_and_its_switcher(page, browser, live_server):
    chinese = browser.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        login = chinese.new_page()
        login.goto("/accounts/login/")
        expect(login.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(login.get_by_label("用户名")).to_be_visible()
        expect(login.get_by_role("button", name="登录")).to_be_visible()
    finally:
        chinese.close()

    page.goto("/accounts/login/")
    expect(page.get_by_label("Username")).to_be_visible()
    with page.expect_navigation():
        page.get_by_test_id("language-zh-hans").click()
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def screenshot_dir() -> Path:
    """`docs/screenshots/` when UPDATE_SCREENSHOTS=1 (then commit them), else test-artifacts/."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        return Path(settings.BASE_DIR) / "docs" / "screenshots"
    return ARTIFACTS_DIR / "screenshots"


def test_a_manager_works_the_approvals_inbox_in_chinese(page, rep, manager):
    default_approval_rules()
    customer = customer_services.customer_create(
        actor=rep, name="杭州西湖贸易有限公司", email="caigou@xihu-trade.cn", phone="13812345678"
    )
    contract = pending_contract(
        owner=rep, customer=customer, title="年度液压泵供货合同", amount=Decimal("1200000.00"), currency="CNY"
    )
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    user_language_set(actor=manager, language="zh-hans")
    log_in(page, manager)

    page.get_by_role("navigation").first.get_by_role("link", name="审批", exact=True).click()
    expect(page.get_by_role("heading", name="等待您审批")).to_be_visible()
    row = page.get_by_test_id("inbox").get_by_role("row").filter(has_text=contract.number)
    expect(row).to_contain_text("杭州西湖贸易有限公司")
    expect(row).to_contain_text("1,200,000.00")
    for column in ("客户", "金额", "提交人", "等待时长"):
        expect(page.get_by_test_id("inbox").get_by_role("columnheader", name=column)).to_be_visible()
    page.screenshot(path=folder / "approvals-inbox-zh.png", full_page=True)

    row.get_by_role("link", name=contract.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("年度液压泵供货合同")
    expect(page.locator("main")).to_contain_text("历史记录")
    page.screenshot(path=folder / "contract-zh.png", full_page=True)

    page.get_by_role("link", name="杭州西湖贸易有限公司").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("杭州西湖贸易有限公司")
    expect(page.locator("main")).to_contain_text("联系人")
    page.screenshot(path=folder / "customer-zh.png", full_page=True)
