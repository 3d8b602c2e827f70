"""A segment can select customers by region."""

import pytest

from customers.tests.factories import CustomerFactory
from marketing import selectors

pytestmark = pytest.mark.django_db


def test_a_segment_selects_customers_by_region(rep, manager):
    CustomerFactory(owner=rep, name="Canton Tea", region="guangdong")
    CustomerFactory(owner=rep, name="Hangzhou Silk", region="zhejiang")
    CustomerFactory(owner=rep, name="Somewhere Co")

    def matching(**criteria):
        found = selectors.customers_matching(criteria=criteria, owner=manager, user=manager)
        return sorted(found.values_list("name", flat=True))

    assert matching(regions=["guangdong", "zhejiang"]) == ["Canton Tea", "Hangzhou Silk"]
    assert matching(regions=["zhejiang"]) == ["Hangzhou Silk"]
    assert len(matching()) == 3
