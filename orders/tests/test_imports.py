"""Importing the product catalog: prices typed with ¥ and thousands separators, SKU duplicates."""

import pytest

from crm.core.imports import services
from orders.models import Product
from orders.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_products_with_messy_prices_and_duplicate_skus(manager):
    ProductFactory(sku="P-OLD", name="Old pump")
    content = (
        "货号\t品名\t单价\t在售\n"
        "P-1\t不锈钢阀门\t¥1,234.50\t是\n"
        "P-2\tGasket\tCNY 12\t\n"
        "P-1\t不锈钢阀门 again\t5\t\n"
        "P-OLD\tOld pump\t99\t否\n"
        "P-3\tBroken\tabc\t\n"
    ).encode("gb18030")
    run = services.import_run_create(actor=manager, kind="products", file_name="p.txt", content=content)
    run = services.import_run_check(actor=manager, run_id=run.pk)
    assert {line: (action, message) for line, action, message in run.results} == {
        2: ("create", ""),
        3: ("create", ""),
        4: ("skip", "The same SKU as row 2 of this file."),
        5: ("skip", "A product with this SKU already exists: P-OLD · Old pump."),
        6: ("error", "abc is not an amount."),
    }
    services.import_run_commit(actor=manager, run_id=run.pk, valid_only=True)
    valve = Product.objects.get(sku="P-1")
    assert (valve.name, str(valve.unit_price), valve.currency) == ("不锈钢阀门", "1234.50", "CNY")
    assert valve.is_active


def test_a_rep_may_not_import_products(rep):
    with pytest.raises(services.DomainError):
        services.import_run_create(actor=rep, kind="products", file_name="p.csv", content=b"sku,name,price\nA,B,1\n")
