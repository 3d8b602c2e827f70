"""List and detail pages must not run one query per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers import services
from customers.tests.factories import ContactFactory, CustomerFactory, InteractionFactory

FEW, MANY = 5, 40
CEILING = 15
# The customer page also shows the panels higher apps add (crm.core.page_extras): crm.insight's
# segment and next-order likelihood, read in one query with the active model versions in another.
DETAIL_CEILING = CEILING + 2


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
        response.content  # noqa: B018 - render everything inside the measured block
    return len(captured)


def fill_customers(owner, count):
    for _ in range(count):
        ContactFactory(customer=CustomerFactory(owner=owner), is_primary=True)


def fill_detail(customer, actor, count):
    """Contacts, timeline entries and history events, each through the service."""
    for number in range(count):
        services.contact_create(actor=actor, customer_id=customer.pk, name=f"Contact {number}")
        InteractionFactory(customer=customer, author=actor)
        services.customer_update(actor=actor, customer_id=customer.pk, notes=f"Revision {number}")


@pytest.mark.parametrize("role", ["rep", "manager", "agent"])
@pytest.mark.parametrize("url_name", ["customers:customer_list", "customers:contact_list"])
def test_list_query_count_does_not_grow_with_rows(request, client, rep, url_name, role):
    client.force_login(request.getfixturevalue(role))
    url = reverse(url_name)

    fill_customers(rep, FEW)
    few = queries_for(client, url)
    fill_customers(rep, MANY - FEW)
    many = queries_for(client, url)

    assert few == many
    assert many <= CEILING


def test_customer_detail_query_count_does_not_grow_with_contacts_timeline_or_history(client, rep):
    client.force_login(rep)
    few_customer = CustomerFactory(owner=rep)
    many_customer = CustomerFactory(owner=rep)
    fill_detail(few_customer, rep, FEW)
    fill_detail(many_customer, rep, MANY)

    few = queries_for(client, few_customer.get_absolute_url())
    many = queries_for(client, many_customer.get_absolute_url())

    assert few == many
    assert many <= DETAIL_CEILING


def test_dashboard_query_count_does_not_grow_with_customers(client, rep):
    client.force_login(rep)
    fill_customers(rep, FEW)
    few = queries_for(client, reverse("dashboard:home"))
    fill_customers(rep, MANY - FEW)
    many = queries_for(client, reverse("dashboard:home"))
    assert few == many
    assert many <= CEILING + 3  # the currencies of its money sections (crm.dashboard.selectors)
