"""Fixtures shared by the orders tests."""

from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory


@pytest.fixture
def pump(manager):
    """A product in the catalogue, at 1,000.00 a unit."""
    return ProductFactory(actor=manager, sku="HP-100", name="Hydraulic pump", unit_price=Decimal("1000.00"))
