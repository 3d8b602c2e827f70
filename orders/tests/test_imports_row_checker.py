"""RowChecker says of messy amounts, yes/no values and long texts what the row form says
(the customers' rows: customers/tests/test_imports_row_checker.py)."""

import itertools
from decimal import Decimal

import pytest
from django import forms
from django.utils import translation

from crm.core.imports.rows import RowChecker, RowFormMixin
from customers.tests.test_imports_row_checker import verdict_of_checker, verdict_of_form
from orders.models import Product


class ProductRowForm(RowFormMixin, forms.ModelForm):
    """A row form over the product's fields, without ProductForm's `clean_` methods and the
    currency (its callable default makes a form field that reads two values): amounts with
    their validators and a yes/no go through the checker's per-field path."""

    class Meta:
        model = Product
        fields = ["sku", "name", "unit_price", "is_active", "description"]


PRODUCT_ROWS = [
    {"sku": "HP-100", "name": "Pump", "unit_price": "1000", "is_active": "on"},
    {"sku": "HP-100", "name": "Pump", "unit_price": "1,234.50"},
    {"sku": "HP-100", "name": "Pump", "unit_price": "1 234,50"},
    {"sku": "HP-100", "name": "Pump", "unit_price": "¥99"},
    {"sku": "HP-100", "name": "Pump", "unit_price": Decimal("1234.567")},
    {"sku": "HP-100", "name": "Pump", "unit_price": 1e15},
    {"sku": "HP-100", "name": "Pump", "unit_price": "-5"},
    {"sku": "HP-100", "name": "Pump", "unit_price": "NaN"},
    {"sku": "HP-100", "name": "Pump", "unit_price": ""},
    {"sku": "HP-100", "name": "Pump", "unit_price": "0.001"},
    {"sku": "HP-100", "name": "Pump", "unit_price": "12", "is_active": "false", "description": "a\x00b"},
    {"sku": "", "name": "", "unit_price": "12"},
    {"sku": "S" * 41, "name": "N" * 201, "unit_price": "12", "is_active": "false"},
    {"unit_price": "12"},
    # A model field's error (the price's minimum) comes after the form fields' (the NUL), as the form says them.
    {"sku": "HP-100", "name": "Pump", "unit_price": "-5", "description": "a\x00b"},
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_checker_says_of_each_messy_amount_what_the_form_says(language):
    checker = RowChecker(ProductRowForm)
    assert checker.per_field
    with translation.override(language):
        for data in itertools.chain(PRODUCT_ROWS, reversed(PRODUCT_ROWS)):
            assert verdict_of_checker(checker, data) == verdict_of_form(ProductRowForm, data), data
