"""A search's results: in the list's order while they are few, newest first (and saying so)
once they pass the count cap, in the lists and in the navigation's box alike."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from customers.views import CustomerListView

pytestmark = pytest.mark.django_db
CUSTOMERS = reverse("customers:customer_list")
CREATED_IN_NAME_ORDER = ["Aspen Harbour", "Birch Harbour", "Xylo Harbour", "Yew Harbour", "Zephyr Harbour"]


@pytest.fixture
def harbours(rep):
    """Five "Harbour" customers of `rep`, created in name order (the newest sorts last by name)."""
    return [CustomerFactory(owner=rep, name=name) for name in CREATED_IN_NAME_ORDER]


def names_on(html):
    return re.findall(r">(\w+ Harbour)</a></td>", html)


def test_a_search_with_few_matches_lists_them_by_name(client_for, rep, harbours):
    html = client_for(rep).get(CUSTOMERS, {"q": "harbour"}).content.decode()

    assert names_on(html) == CREATED_IN_NAME_ORDER
    assert 'data-testid="many-matches"' not in html


def test_a_search_past_the_cap_lists_the_newest_first_and_says_so(client_for, rep, harbours, monkeypatch):
    monkeypatch.setattr(CustomerListView, "search_count_cap", 3)
    client = client_for(rep)

    html = client.get(CUSTOMERS, {"q": "harbour"}).content.decode()
    assert names_on(html) == ["Zephyr Harbour", "Yew Harbour", "Xylo Harbour"]  # the counted rows
    assert 'data-testid="many-matches"' in html
    assert "More than 3 rows match: the newest are shown first." in html
    assert "of more than 3" in html
    following = re.search(r'href="([^"]*after=\d+[^"]*)" data-testid="keyset-next"', html).group(1)
    rest = client.get(CUSTOMERS + following.replace("&amp;", "&")).content.decode()
    assert names_on(rest) == ["Birch Harbour", "Aspen Harbour"]

    chosen = client.get(CUSTOMERS, {"q": "harbour", "sort": "name"}).content.decode()
    assert names_on(chosen) == CREATED_IN_NAME_ORDER[:3]
    assert 'data-testid="many-matches"' not in chosen


def read_while_set(client, url, query, setting="enable_sort", value="off") -> list[str]:
    """The SQL a page ran while a planner setting had `value` (crm.core.gram_search)."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query).status_code == 200
    inside, read = False, []
    for sql in (entry["sql"] for entry in captured.captured_queries):
        if f"set_config('{setting}'" in sql:
            inside = f"set_config('{setting}', '{value}'" in sql
        elif inside:
            read.append(sql)
    return read


def test_past_the_cap_the_newest_are_read_walking_the_key_and_a_chosen_sort_is_planned_as_ever(
    client_for, rep, harbours, monkeypatch
):
    monkeypatch.setattr(CustomerListView, "search_count_cap", 3)
    monkeypatch.setattr("crm.core.search.SEARCH_COUNT_CAP", 3)
    client = client_for(rep)

    first = read_while_set(client, CUSTOMERS, {"q": "harbour"})
    assert len(first) == 1 and first[0].endswith("ORDER BY 1 DESC LIMIT 3")  # the page's ids, newest first
    following = read_while_set(client, CUSTOMERS, {"q": "harbour", "after": harbours[2].pk})
    assert len(following) == 1 and f'"customers_customer"."id" < {harbours[2].pk}' in following[0]
    box = read_while_set(client, reverse("dashboard:search"), {"q": "harbour"})
    assert len(box) == 1 and '"customers_customer"' in box[0]
    assert read_while_set(client, CUSTOMERS, {"q": "harbour", "sort": "name"}) == []


def test_a_search_is_counted_with_the_page_costs_of_data_in_memory_in_the_list_and_the_box(client_for, rep, harbours):
    client = client_for(rep)
    counted = read_while_set(client, CUSTOMERS, {"q": "harbour"}, "random_page_cost", "0.1")
    assert any(sql.startswith("SELECT COUNT(*)") and "harbour" in sql for sql in counted)
    box = read_while_set(client, reverse("dashboard:search"), {"q": "harbour"}, "random_page_cost", "0.1")
    assert sum(sql.startswith("SELECT COUNT(*)") for sql in box) >= 2  # every kind under the one setting


def test_the_notice_speaks_chinese(client_for, rep, harbours, monkeypatch):
    monkeypatch.setattr(CustomerListView, "search_count_cap", 3)
    html = client_for(rep).get(CUSTOMERS, {"q": "harbour"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "超过 3 条记录匹配" in html


def test_the_box_shows_the_newest_first_past_its_cap(client_for, rep, harbours, monkeypatch):
    monkeypatch.setattr("crm.core.search.SEARCH_COUNT_CAP", 3)
    box = client_for(rep).get(reverse("dashboard:search"), {"q": "harbour"}, HTTP_HX_REQUEST="true").content.decode()
    assert box.index("Zephyr Harbour") < box.index("Yew Harbour") < box.index("Birch Harbour")

    monkeypatch.setattr("crm.core.search.SEARCH_COUNT_CAP", 100)
    box = client_for(rep).get(reverse("dashboard:search"), {"q": "harbour"}, HTTP_HX_REQUEST="true").content.decode()
    assert box.index("Aspen Harbour") < box.index("Birch Harbour") < box.index("Zephyr Harbour")


def test_past_the_cap_another_reps_newest_matches_stay_out(client_for, rep, other_rep, harbours, monkeypatch):
    CustomerFactory(owner=other_rep, name="Secret Harbour")  # the newest of all
    monkeypatch.setattr(CustomerListView, "search_count_cap", 3)
    monkeypatch.setattr("crm.core.search.SEARCH_COUNT_CAP", 3)
    client = client_for(rep)

    html = client.get(CUSTOMERS, {"q": "harbour"}).content.decode()
    assert names_on(html) == ["Zephyr Harbour", "Yew Harbour", "Xylo Harbour"]
    box = client.get(reverse("dashboard:search"), {"q": "harbour"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Zephyr Harbour" in box and "Secret Harbour" not in box


def test_a_typed_cursor_on_a_search_of_few_matches_goes_on_in_name_order(client_for, rep, other_rep, harbours):
    CustomerFactory(owner=other_rep, name="Bay Harbour")  # sorts among them, but not the rep's
    birch = harbours[1]
    html = client_for(rep).get(CUSTOMERS, {"q": "harbour", "after": birch.pk}).content.decode()

    assert names_on(html) == ["Xylo Harbour", "Yew Harbour", "Zephyr Harbour"]
