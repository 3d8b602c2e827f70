"""The approvals inbox: what each row tells the approver, its order, and approving with a
confirmation and an optional comment."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.assistant import approval_model_cache_clear, approval_model_train
from contracts.models import ApprovalStep, Contract
from contracts.tests.factories import LARGE, default_approval_rules, pending_contract
from contracts.tests.test_assistant import decided_history
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from crm.core.views import DeferredJoinPaginator
from customers.tests.factories import CustomerFactory

INBOX = reverse("contracts:approval_inbox")


@pytest.fixture(autouse=True)
def rules(db):
    approval_model_cache_clear()
    yield default_approval_rules()
    approval_model_cache_clear()


@pytest.fixture
def owner(db):
    return UserFactory(username="owner_li", first_name="Wei", last_name="Li", role=Role.SALES_REP)


@pytest.fixture
def submitter(db):
    return UserFactory(username="submitter_wang", first_name="Mei", last_name="Wang", role=Role.SALES_MANAGER)


def waiting_since(contract, **ago):
    Contract.objects.filter(pk=contract.pk).update(submitted_at=timezone.now() - datetime.timedelta(**ago))


def rows(page):
    return re.findall(r'<tr data-testid="inbox-row">(.*?)</tr>', page, re.S)


def test_a_row_shows_amount_customer_submitter_waiting_time_and_advice(client_for, owner, submitter, manager):
    customer = CustomerFactory(owner=owner, name="Huaxin Machinery")
    contract = pending_contract(owner=owner, customer=customer, submitter=submitter, amount=Decimal("1200000"))
    waiting_since(contract, days=3, hours=2)

    (row,) = rows(client_for(manager).get(INBOX).content.decode())
    assert "1,200,000.00 CNY" in row
    assert "Huaxin Machinery" in row
    assert "Mei Wang" in row and "Wei Li" not in row  # the submitter, not the owner
    assert "3\xa0days" in row
    assert "No advice" in row  # no model trained yet, and the row says so


def test_the_assistants_recommendation_is_shown_in_the_row(client_for, rep, manager, other_rep):
    customers = [CustomerFactory(owner=rep, tier=tier) for tier in ("small", "standard", "key")]
    decided_history(owner=rep, approver=manager, customers=customers, count=24)
    approval_model_train(min_samples=20)
    pending_contract(owner=rep, customer=customers[1], payment_terms_days=90)

    (row,) = rows(client_for(manager).get(INBOX).content.decode())
    assert ">Reject</span>" in row and "100%" in row


def test_the_longest_waiting_comes_first_and_columns_sort(client_for, owner, manager):
    newest = pending_contract(owner=owner, amount=Decimal("90000"))
    oldest = pending_contract(owner=owner, amount=Decimal("10000"))
    middle = pending_contract(owner=owner, amount=Decimal("50000"))
    waiting_since(newest, hours=1)
    waiting_since(oldest, days=5)
    waiting_since(middle, days=2)
    client = client_for(manager)

    def order(query=""):
        page = client.get(INBOX + query).content.decode()
        return [re.search(r"CT-\d{4}-\d+", row).group() for row in rows(page)]

    assert order() == [oldest.number, middle.number, newest.number]
    assert order("?sort=-waiting") == [newest.number, middle.number, oldest.number]
    assert order("?sort=-amount") == [newest.number, middle.number, oldest.number]
    assert order("?sort=amount") == [oldest.number, middle.number, newest.number]
    assert order("?sort=number") == sorted([oldest.number, middle.number, newest.number])
    assert order("?sort=nonsense'--") == [oldest.number, middle.number, newest.number]


@pytest.mark.parametrize("sort", ["", "-amount", "number"])
def test_past_the_capped_count_next_goes_on_to_every_waiting_contract(client_for, owner, manager, monkeypatch, sort):
    monkeypatch.setattr(DeferredJoinPaginator, "count_cap", 26)
    waiting = [pending_contract(owner=owner, amount=Decimal(1000 + index * 10)) for index in range(30)]
    for index, contract in enumerate(waiting):
        waiting_since(contract, hours=30 - index)
    client = client_for(manager)
    page = client.get(f"{INBOX}?page=2&sort={sort}").content.decode()
    seen = [re.search(r"CT-\d{4}-\d+", row).group() for row in rows(page)]
    assert len(seen) == 1  # row 26, the last one counted
    cursor = re.search(r'href="\?(?:sort=[^&"]*&amp;)?after=(\d+)(?:&amp;sort=[^"]*)?" data-testid="keyset-next"', page)
    following = client.get(INBOX, {"after": cursor.group(1), "sort": sort}).content.decode()
    seen += [re.search(r"CT-\d{4}-\d+", row).group() for row in rows(following)]
    expected = {
        "": [contract.number for contract in waiting],
        "-amount": [contract.number for contract in reversed(waiting)],
        "number": sorted(contract.number for contract in waiting),
    }[sort]
    assert seen == expected[25:]


def test_a_sorted_column_links_to_its_reverse(client_for, manager):
    page = client_for(manager).get(INBOX + "?sort=amount").content.decode()
    assert 'href="?sort=-amount"' in page
    assert 'href="?sort=-waiting"' not in page and 'href="?sort=waiting"' in page


def test_approving_from_the_inbox_asks_to_confirm_and_takes_a_comment(client_for, owner, manager):
    contract = pending_contract(owner=owner, amount=LARGE)
    client = client_for(manager)

    page = client.get(INBOX).content.decode()
    (row,) = rows(page)
    # No one-click approve: the button only opens the confirmation, which names the amount.
    assert '<summary class="btn btn-sm btn-success">Approve…</summary>' in row
    assert f"Approve {contract.number} for 1,000,000.00 CNY?" in row
    assert "Comment (optional)" in row and "Confirm approval" in row

    response = client.post(
        reverse("contracts:contract_approve", args=[contract.pk]), {"next": "inbox", "comment": "Margin checked."}
    )
    assert response.status_code == 302 and response.url == INBOX
    step = ApprovalStep.objects.get(contract=contract)
    assert (step.approver, step.comment) == (manager, "Margin checked.")
