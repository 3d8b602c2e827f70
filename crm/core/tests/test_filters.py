"""Filter drop-downs say "All", "Any" or "Default order", never `---------`."""

import importlib

import django_filters
import pytest
from django.apps import apps
from django.urls import reverse
from django.utils.module_loading import module_has_submodule

from crm.core.filters import CrmFilterSet

LIST_PAGES = ["customers:customer_list", "customers:contact_list", "contracts:contract_list", "orders:order_list"]
LIST_PAGES += ["orders:product_list"]


@pytest.mark.parametrize("url_name", LIST_PAGES)
def test_no_filter_drop_down_shows_dashes(client_for, admin_user, url_name):
    page = client_for(admin_user).get(reverse(url_name)).content.decode()
    assert "<select" in page
    assert "---------" not in page


def test_status_says_all_owner_says_any_and_sort_says_default(client_for, admin_user):
    page = client_for(admin_user).get(reverse("customers:customer_list")).content.decode()
    status = page[page.index('name="status"') :]
    assert '<option value="" selected>All</option>' in status[: status.index("</select>")]
    owner = page[page.index('name="owner"') :]
    assert '<option value="" selected>Any</option>' in owner[: owner.index("</select>")]
    sort = page[page.index('name="sort"') :]
    assert '<option value="" selected>Default order</option>' in sort[: sort.index("</select>")]


def test_every_filterset_of_our_apps_is_a_crm_filterset():
    found = []
    for config in apps.get_app_configs():
        if not module_has_submodule(config.module, "filters"):
            continue
        module = importlib.import_module(f"{config.name}.filters")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, django_filters.FilterSet)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    assert len(found) >= 5
    assert [cls.__name__ for cls in found if not issubclass(cls, CrmFilterSet)] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=-updated", '<option value="-updated" selected>'),
        ("sort=name", '<option value="name" selected>'),
        ("sort=name,-created", '<input type="text" name="sort" value="name,-created"'),  # kept, not lost
    ],
)
def test_the_sort_drop_down_shows_the_chosen_order(client_for, admin_user, query, expected):
    page = client_for(admin_user).get(reverse("customers:customer_list") + "?" + query).content.decode()
    sort = page[page.index('name="sort"') - 20 :]
    assert expected in sort[: sort.index(">", sort.index(expected)) + 1]
    assert sort.count(" selected>", 0, sort.find("</select>")) <= 1
