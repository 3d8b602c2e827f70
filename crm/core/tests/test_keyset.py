"""Past the capped count the lists go on one page at a time (`?after=<id>`), so every row
can be reached; hostile cursors answer the first page, never an error."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.core.views import DeferredJoinPaginator
from customers.models import Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
ROWS, CAP = 60, 30  # two numbered pages (25 + 5 rows), then the keyset pages


@pytest.fixture
def many(rep, monkeypatch):
    monkeypatch.setattr(DeferredJoinPaginator, "count_cap", CAP)
    start = timezone.now() - datetime.timedelta(days=1)
    for index in range(ROWS):
        customer = CustomerFactory(owner=rep, name=f"Row {index:03d}")
        Customer.objects.filter(pk=customer.pk).update(created_at=start + datetime.timedelta(minutes=index % 7))
    return Customer.objects.filter(owner=rep)


def next_link(html: str) -> str | None:
    marker = 'data-testid="keyset-next"'
    if marker not in html:
        return None
    anchor = html[: html.index(marker)]
    return anchor[anchor.rindex('href="') + 6 :].split('"', 1)[0].replace("&amp;", "&")


def walk(client, first_url):
    """Every row name shown from the last numbered page on, following Next to the end."""
    response = client.get(first_url)
    html = response.content.decode()
    seen = [line.split("Row ", 1)[1][:3] for line in html.splitlines() if ">Row " in line]
    link = next_link(html)
    pages = 0
    while link:
        pages += 1
        response = client.get(reverse("customers:customer_list") + link)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Past the first 30 rows" in html
        seen += [line.split("Row ", 1)[1][:3] for line in html.splitlines() if ">Row " in line]
        link = next_link(html)
    return seen, pages


@pytest.mark.parametrize("sort", ["", "-created", "created", "-name"])
def test_next_past_the_cap_reaches_every_row_once_in_order(client_for, rep, many, sort):
    client = client_for(rep)
    url = reverse("customers:customer_list") + f"?page=2&sort={sort}"
    ordering = {"": ["name", "id"], "-created": ["-created_at", "-id"], "created": ["created_at", "id"]}
    expected = [
        name[4:] for name in many.order_by(*ordering.get(sort, ["-name", "-id"])).values_list("name", flat=True)
    ]
    seen, pages = walk(client, url)
    assert pages == 2  # the 30 rows past the cap: a page of 25, then the last 5
    assert seen == expected[25:]


@pytest.mark.parametrize("cursor", ["abc", "-1", "0", "٣", "9" * 40, "99999999", "1e5", "%00"])
def test_a_hostile_or_unknown_cursor_answers_the_first_page(client_for, rep, many, cursor):
    response = client_for(rep).get(reverse("customers:customer_list"), {"after": cursor})
    assert response.status_code == 200
    assert "Row 000" in response.content.decode()


def test_a_cursor_of_someone_elses_row_reveals_nothing(client_for, rep, other_rep, many):
    hidden = CustomerFactory(owner=other_rep, name="Hidden Row Ltd")
    response = client_for(rep).get(reverse("customers:customer_list"), {"after": hidden.pk})
    assert response.status_code == 200
    assert "Past the first" not in response.content.decode()  # the first page, not a keyset page


def test_a_keyset_page_runs_few_queries(client_for, rep, many):
    client = client_for(rep)
    cursor_row = many.order_by("name", "id")[30]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("customers:customer_list"), {"after": cursor_row.pk})
        response.content  # noqa: B018 - render inside the measured block
    assert response.status_code == 200
    assert len(captured) <= 12


def test_a_search_counts_fewer_rows_and_goes_on_by_keyset(client_for, rep, many, monkeypatch):
    from crm.core.views import FilteredListMixin

    monkeypatch.setattr(FilteredListMixin, "search_count_cap", 3)
    client = client_for(rep)
    # In name order, as chosen (by default a search past its cap lists the newest first:
    # customers/tests/test_search_order.py).
    html = client.get(reverse("customers:customer_list"), {"q": "Row 00", "sort": "name"}).content.decode()
    assert "1–3 of more than 3" in html
    link = next_link(html)
    assert link and "q=Row" in link
    html = client.get(reverse("customers:customer_list") + link).content.decode()
    assert "Past the first 3 rows" in html
    assert "Row 003" in html and "Row 009" in html and "Row 010" not in html


@pytest.mark.parametrize("page", ["4001", "3", "0", "-2", "abc", "9" * 40])
def test_a_page_number_past_the_numbered_pages_shows_the_last_one_and_goes_on(client_for, rep, many, page):
    client = client_for(rep)
    response = client.get(reverse("customers:customer_list") + f"?page={page}")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="page-not-found"' in html and "Page 2 of 2" in html
    seen, pages = walk(client, reverse("customers:customer_list") + f"?page={page}")
    assert seen == [name[4:] for name in many.order_by("name", "id").values_list("name", flat=True)][25:]


def test_a_page_past_the_end_of_a_short_list_says_there_is_no_such_page(client_for, rep):
    CustomerFactory(owner=rep, name="Only one")
    html = client_for(rep).get(reverse("customers:customer_list") + "?page=7").content.decode()
    assert "There is no such page" in html and "Only one" in html
