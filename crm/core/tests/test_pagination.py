"""Long lists: pages fetched by their keys, counts that stop at a cap."""

import pytest

from crm.core.views import DeferredJoinPaginator
from customers.models import Customer
from customers.tests.factories import CustomerFactory


@pytest.fixture
def customers(rep):
    return [CustomerFactory(owner=rep, name=f"Customer {index:02d}") for index in range(7)]


def test_a_deep_page_holds_the_rows_of_that_page_in_order(customers):
    queryset = Customer.objects.select_related("owner").order_by("-name", "id")
    page = DeferredJoinPaginator(queryset, per_page=3).page(2)
    assert [customer.name for customer in page] == ["Customer 03", "Customer 02", "Customer 01"]
    assert page.object_list[0].owner.username == "rep"


def test_a_list_longer_than_the_cap_says_more_than(client_for, rep, customers, monkeypatch):
    monkeypatch.setattr(DeferredJoinPaginator, "count_cap", 5)
    response = client_for(rep).get("/customers/")
    text = response.content.decode()
    assert "of more than 5" in text
    assert "1–5 of" in text  # the page holds as many rows as the count admits


def test_a_short_list_gives_its_exact_count(client_for, rep, customers):
    response = client_for(rep).get("/customers/")
    assert "1–7 of 7" in response.content.decode()
