"""The API reads and writes a customer's region like the pages."""

import pytest

from customers.models import Customer

pytestmark = pytest.mark.django_db


def test_the_region_is_read_and_written_through_the_api(api_for, rep):
    api = api_for(rep)
    response = api.post("/api/v1/customers/", {"name": "Chengdu Valves", "region": "sichuan"}, format="json")
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.region == "sichuan"
    assert api.get(f"/api/v1/customers/{customer.pk}/").json()["region"] == "sichuan"
    refused = api.post("/api/v1/customers/", {"name": "Atlantis Ltd", "region": "atlantis"}, format="json")
    assert refused.status_code == 400 and "region" in refused.content.decode()
