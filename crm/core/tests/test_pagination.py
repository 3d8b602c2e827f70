"""Long lists: pages fetched by their keys, counts that stop at a cap."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.core import capped_count
from crm.core.capped_count import capped_count_forget
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


@pytest.fixture
def remembered(settings, monkeypatch):
    """Counts remembered for a minute, and a cap of 5 rows."""
    monkeypatch.setattr(DeferredJoinPaginator, "count_cap", 5)
    settings.CAPPED_COUNT_SECONDS = 60
    capped_count_forget()
    yield
    capped_count_forget()


def count_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response, [query["sql"] for query in queries if query["sql"].startswith("SELECT COUNT(*) FROM (SELECT")]


def test_a_list_past_its_cap_is_not_counted_again_for_a_while(client_for, rep, customers, remembered):
    client = client_for(rep)
    _response, first = count_queries(client, "/customers/")
    response, again = count_queries(client, "/customers/?page=2")
    assert len(first) == 1 and again == []
    assert "of more than 5" in response.content.decode()
    _response, narrowed = count_queries(client, "/customers/?status=active")  # another list counts
    assert len(narrowed) == 1


def test_a_list_past_its_cap_is_counted_again_once_the_memory_ends(client_for, rep, customers, monkeypatch, remembered):
    client = client_for(rep)
    count_queries(client, "/customers/")
    later = capped_count.monotonic() + 61
    monkeypatch.setattr(capped_count, "monotonic", lambda: later)
    Customer.objects.filter(pk__in=[customer.pk for customer in customers[:3]]).delete()
    response, counted = count_queries(client, "/customers/")
    assert len(counted) == 1
    assert "1–4 of 4" in response.content.decode()


def test_an_exact_count_is_never_remembered(client_for, rep, customers, settings):
    settings.CAPPED_COUNT_SECONDS = 60
    client = client_for(rep)
    count_queries(client, "/customers/")
    CustomerFactory(owner=rep, name="Customer 99")
    response, counted = count_queries(client, "/customers/")
    assert len(counted) == 1
    assert "1–8 of 8" in response.content.decode()


def test_one_reps_remembered_count_is_not_another_reps(client_for, rep, other_rep, customers, remembered):
    count_queries(client_for(rep), "/customers/")
    CustomerFactory(owner=other_rep, name="Theirs")
    response, counted = count_queries(client_for(other_rep), "/customers/")
    assert len(counted) == 1
    assert "1–1 of 1" in response.content.decode()
