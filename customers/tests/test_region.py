"""A customer's region: chosen on the form, filtered on the list, read from an import's
province column."""

import csv
import io

import pytest
from django.urls import reverse

from crm.core.imports import services as imports
from customers.models import Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_form_saves_the_region_and_the_list_filters_by_it(client_for, rep, manager):
    response = client_for(rep).post(
        reverse("customers:customer_create"),
        {"kind": "company", "name": "Pearl River Pumps", "industry": "manufacturing", "tier": "standard"}
        | {"status": "lead", "region": "guangdong"},
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Customer.objects.get(name="Pearl River Pumps").region == "guangdong"
    CustomerFactory(owner=rep, name="Bund Traders", region="shanghai")
    CustomerFactory(owner=rep, name="No Region Co")

    listed = client_for(manager).get(reverse("customers:customer_list"), {"region": "guangdong"})
    assert [customer.name for customer in listed.context["object_list"]] == ["Pearl River Pumps"]
    assert client_for(manager).get(reverse("customers:customer_list"), {"region": "atlantis"}).status_code == 200


def test_a_region_outside_the_list_is_a_field_error(client_for, rep):
    response = client_for(rep).post(
        reverse("customers:customer_create"),
        {"kind": "company", "name": "Nowhere Ltd", "industry": "other", "tier": "standard", "status": "lead"}
        | {"region": "atlantis"},
    )
    assert response.status_code == 200
    assert "region" in response.context["form"].errors
    assert not Customer.objects.filter(name="Nowhere Ltd").exists()


def test_an_import_reads_the_province_column_in_either_language(rep):
    out = io.StringIO(newline="")
    csv.writer(out).writerows(
        [
            ["客户名称", "省份"],
            ["粤海泵业有限公司", "广东"],
            ["Harbour Foods Ltd", "Outside China"],
            ["某某公司", "火星"],
        ]
    )
    run = imports.import_run_create(
        actor=rep, kind="customers", file_name="customers.csv", content=out.getvalue().encode()
    )
    assert run.mapping == {"客户名称": "name", "省份": "region"}
    run = imports.import_run_check(actor=rep, run_id=run.pk)
    results = {line: (action, message) for line, action, message in run.results}
    assert results[2] == ("create", "") and results[3] == ("create", "")
    assert results[4][0] == "error" and "火星" in results[4][1]
    run = imports.import_run_commit(actor=rep, run_id=run.pk, valid_only=True)
    regions = dict(Customer.objects.values_list("name", "region"))
    assert regions == {"粤海泵业有限公司": "guangdong", "Harbour Foods Ltd": "outside_china"}
