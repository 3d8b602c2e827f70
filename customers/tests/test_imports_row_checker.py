"""RowChecker, the imports' fast path of a row form, says of every customer row what the
form itself says (the same verdict, cleaned data and words, in each language), and what
the page's form and the service say of the same record."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from crm.core.exceptions import DomainError
from crm.core.imports.rows import RowChecker, form_errors
from customers import services as customer_services
from customers.forms import CustomerForm
from customers.imports import CustomerRowForm

pytestmark = pytest.mark.django_db

COMPLETE = {
    "kind": "company",
    "name": "Messy Rows Ltd",
    "external_ref": "",
    "industry": "other",
    "tier": "standard",
    "status": "lead",
    "email": "",
    "phone": "",
    "address": "",
    "region": "",
    "notes": "",
}

CUSTOMER_ROWS = [
    {},
    {"name": "Messy Rows Ltd"},
    {"email": "not-an-email"},
    {"email": "a@b"},
    {"email": " buyer@example.com "},
    {"email": "采购@例子.公司"},
    {"email": "x" * 250 + "@example.com"},
    {"email": "two@@example.com", "name": ""},
    {"phone": "+86 138 0013 5678"},
    {"phone": "138-0013-5678 转 123"},
    {"phone": "1" * 41},
    {"name": "N" * 201},
    {"name": "名" * 200},
    {"name": "   "},
    {"name": ""},
    {"name": None},
    {"name": 12345},
    {"name": 1.5},
    {"notes": datetime.datetime(2024, 3, 5, 9, 30)},
    {"notes": "a\x00b"},
    {"external_ref": "R" * 101},
    {"external_ref": " C-100 "},
    {"kind": "bogus"},
    {"kind": ""},
    {"industry": "Manufacturing"},
    {"tier": "vip", "status": "won", "region": "Atlantis"},
    {"region": "gd"},
    {"address": "广东省深圳市南山区\n科技园"},
    {"kind": "individual", "email": "bad", "phone": "2" * 50, "name": "N" * 300, "region": "mars"},
]


def customer_rows():
    """Each messy row over a complete one, and the same row with the fields it names only
    (what a file that maps fewer columns gives)."""
    for row in CUSTOMER_ROWS:
        yield {**COMPLETE, **row}
        yield row


def verdict_of_form(form_class, data, **kwargs):
    form = form_class(data=data, **kwargs)
    valid = form.is_valid()
    return valid, form.cleaned_data, form_errors(form)


def verdict_of_checker(checker, data):
    check = checker.check(data)
    return check.is_valid(), check.cleaned_data, check.errors


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_checker_says_of_each_messy_customer_row_what_the_form_says(language):
    checker = RowChecker(CustomerRowForm)
    assert checker.per_field  # the fast path, not the form
    rows = list(customer_rows())
    with translation.override(language):
        # Twice over, the second time in another order: the checker remembers verdicts.
        for data in [*rows, *reversed(rows)]:
            assert verdict_of_checker(checker, data) == verdict_of_form(CustomerRowForm, data), data


def test_the_row_form_says_what_the_page_form_says(rep):
    for data in customer_rows():
        assert verdict_of_form(CustomerRowForm, data) == verdict_of_form(CustomerForm, data, user=rep), data


def test_a_row_the_checker_passes_is_created_by_the_service_and_a_row_it_refuses_is_refused(rep):
    checker = RowChecker(CustomerRowForm)
    for number, row in enumerate(CUSTOMER_ROWS):
        data = {**COMPLETE, "name": f"Messy Rows {number}", **row}
        if "\x00" in str(data["notes"]):
            continue  # only the forms refuse a NUL character; the model would hand it to PostgreSQL
        check = checker.check(data)
        try:
            with transaction.atomic():
                values = check.cleaned_data if check.is_valid() else data
                customer_services.customer_create(
                    actor=rep, **{name: "" if value is None else value for name, value in values.items()}
                )
                transaction.set_rollback(True)
        except (ValidationError, DomainError) as error:
            assert not check.is_valid(), (data, error)
        else:
            # The form alone refuses a name of spaces (its fields strip what they read).
            assert check.is_valid() or data["name"].strip() == "", (data, check.errors)
