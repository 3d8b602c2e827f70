"""Contract lists use a fixed number of queries, however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.tests.factories import ContractFactory, pending_contract
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.usefixtures("rules")


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/contracts/", "/contracts/?sort=-ordered", "/contracts/approvals/"])
def test_contract_lists_do_not_query_per_row(client_for, rep, manager, url):
    client = client_for(manager)

    def add(count):
        for _ in range(count):
            customer = CustomerFactory(owner=rep)
            ContractFactory(owner=rep, customer=customer)
            pending_contract(owner=rep, customer=customer)

    add(2)
    few = queries_for(client, url)
    add(10)
    many = queries_for(client, url)

    assert many == few
    assert (
        many <= 14
    )  # with the navigation's counts (unread notifications, approvals, My day) and a page's keys read before its rows
