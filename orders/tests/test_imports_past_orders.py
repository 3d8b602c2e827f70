"""Importing past orders: one row per line grouped by the order's external number, recorded
delivered on its own date, numbered in its year's gap-free sequence, within its contract's
ceiling, skipped when already imported, nothing committed when a row fails, an order never
committed in part."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from contracts.models import Contract
from crm.core.imports import engine, services
from crm.core.imports.models import ImportRun
from crm.core.models import AuditEvent
from customers.tests.factories import CustomerFactory
from customers.tests.test_imports import csv_bytes, outcomes
from orders import services as order_services
from orders.choices import OrderStatus
from orders.models import Order
from orders.tests.factories import ProductFactory, active_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(rep, manager):
    customer = CustomerFactory(owner=rep, name="星辰机械", external_ref="C-100")
    pump = ProductFactory(actor=manager, sku="HP-100", name="Hydraulic pump", unit_price=Decimal("1000.00"))
    valve = ProductFactory(actor=manager, sku="V-1", name="Valve", unit_price=Decimal("60.00"))
    contract = active_contract(rep, customer, "10000.00")
    order_services.order_import_past(
        actor=manager,
        customer_id=customer.pk,
        external_ref="PO-OLD",
        order_date=datetime.date(2026, 5, 1),
        lines=[{"product": pump, "quantity": Decimal(1), "unit_price": Decimal(5)}],
    )
    return {"customer": customer, "pump": pump, "valve": valve, "contract": contract}


def messy_file(contract_number):
    rows = [
        ["订单号", "客户编号", "合同号", "下单日期", "货号", "数量", "单价", "折扣"],
        ["PO-1", "C-100", contract_number, "2026/6/1", "HP-100", "2", "1,000.00", ""],
        ["PO-1", "C-100", contract_number, "2026/6/1", "V-1", "10", "¥50.50", "10"],
        ["PO-2", "C-100", "", "15.06.2026", "HP-100", "1", "900", ""],
        ["PO-3", "C-100", contract_number, "2026年7月1日", "HP-100", "8", "1.000,00", ""],
        ["PO-4", "C-100", "", "2026-07-01", "NOPE", "1", "5", ""],
        ["PO-4", "C-100", "", "2026-07-01", "HP-100", "1", "5", ""],
        ["PO-OLD", "C-100", "", "2026-05-01", "HP-100", "1", "5", ""],
        ["PO-5", "C-404", "", "2026-05-01", "HP-100", "1", "5", ""],
        ["PO-6", "C-100", "", "31/31/2026", "HP-100", "0", "5", ""],
        ["PO-7", "C-100", "", "2026-08-01", "HP-100", "1", "5", ""],
        ["PO-7", "C-100", "", "2026-08-02", "V-1", "1", "5", ""],
    ]
    return csv_bytes(rows, encoding="gb18030", delimiter=";")


def checked(actor, content, **options):
    run = services.import_run_create(actor=actor, kind="orders", file_name="订单.csv", content=content)
    if options:
        services.import_run_configure(actor=actor, run_id=run.pk, mapping=run.mapping, **options)
    return services.import_run_check(actor=actor, run_id=run.pk)


def test_a_messy_file_of_past_orders_is_checked_line_by_line_and_committed_all_or_valid(manager, shop):
    contract = shop["contract"]
    content = messy_file(contract.number)
    run = checked(manager, content)
    assert run.mapping == {
        "订单号": "external_ref",
        "客户编号": "customer_ref",
        "合同号": "contract",
        "下单日期": "order_date",
        "货号": "sku",
        "数量": "quantity",
        "单价": "unit_price",
        "折扣": "discount_percent",
    }
    assert outcomes(run) == {
        2: ("create", "Order PO-1, 2454.50 CNY: line 1 of 2."),
        3: ("create", "Order PO-1: line 2 of 2."),
        4: ("create", "Order PO-2, 900.00 CNY: line 1 of 1."),
        5: ("error", "The order total 8,000.00 CNY exceeds the contract's remaining 7,545.50 CNY."),
        6: ("error", "No product with SKU NOPE."),
        7: ("error", "Order PO-4 is not imported: row 6 has errors."),
        8: ("skip", "Order PO-OLD was imported already as ORD-2026-000001."),
        9: ("error", "No customer C-404 that you may see."),
        10: ("error", "31/31/2026 is not a date.; Quantities must be above zero."),
        11: ("error", "Order PO-7 is not imported: row 12 has errors."),
        12: ("error", "Differs from row 11, the same order, in: order date."),
    }
    failed = services.import_run_commit(actor=manager, run_id=run.pk)
    assert failed.state == "failed" and failed.error_count == 7
    assert list(Order.objects.values_list("external_ref", flat=True)) == ["PO-OLD"]

    run = checked(manager, content)
    services.import_run_commit(actor=manager, run_id=run.pk, valid_only=True)
    first = Order.objects.get(external_ref="PO-1")
    assert (first.status, first.order_date, first.total, first.contract, first.owner) == (
        OrderStatus.DELIVERED,
        datetime.date(2026, 6, 1),
        Decimal("2454.50"),
        contract,
        manager,
    )
    assert [(line.product.sku, line.quantity, line.unit_price, line.line_total) for line in first.lines.all()] == [
        ("HP-100", Decimal("2.00"), Decimal("1000.00"), Decimal("2000.00")),
        ("V-1", Decimal("10.00"), Decimal("50.50"), Decimal("454.50")),
    ]
    assert first.delivered_at.date() == datetime.date(2026, 6, 1)
    # The rolled-back commit gave its numbers back: no gap after PO-OLD's.
    assert sorted(Order.objects.values_list("number", flat=True)) == [
        "ORD-2026-000001",
        "ORD-2026-000002",
        "ORD-2026-000003",
    ]
    assert Contract.objects.get(pk=contract.pk).ordered_amount == Decimal("2454.50")
    event = AuditEvent.objects.get(action="order.created", target_id=str(first.pk))
    assert event.actor == manager and event.extra["import"] == run.sha256
    assert event.changes["status"] == [None, "delivered"] and event.changes["external_ref"] == [None, "PO-1"]


def test_a_past_order_must_fit_its_contract_also_at_the_commit(manager, shop):
    contract = shop["contract"]
    content = csv_bytes(
        [
            ["order no", "customer ref", "contract no", "date", "sku", "qty", "price"],
            ["A-1", "C-100", contract.number, "2026-03-01", "HP-100", "6", "1000"],
            ["A-2", "C-100", contract.number, "2026-03-02", "HP-100", "5", "1000"],
            ["A-3", "C-100", contract.number, "2025-12-31", "HP-100", "1", "1000"],
        ]
    )
    run = checked(manager, content)
    assert outcomes(run) == {
        2: ("create", "Order A-1, 6000.00 CNY: line 1 of 1."),
        3: ("error", "The order total 5,000.00 CNY exceeds the contract's remaining 4,000.00 CNY."),
        4: ("error", "The order date must lie within the contract period, 2026-01-01 to 2026-12-31."),
    }
    services.import_run_commit(actor=manager, run_id=run.pk, valid_only=True)
    assert Contract.objects.get(pk=contract.pk).ordered_amount == Decimal("6000.00")


def test_a_rep_may_not_import_past_orders(rep, client):
    with pytest.raises(services.DomainError):
        services.import_run_create(actor=rep, kind="orders", file_name="o.csv", content=b"order,sku\nA,B\n")
    client.force_login(rep)
    assert "Past orders" not in client.get(reverse("imports:run_create")).content.decode()


def test_an_administrator_keeps_the_original_owner_and_date(admin_user, rep, shop):
    content = csv_bytes(
        [
            ["订单号", "客户名称", "下单日期", "交货日期", "货号", "数量", "单价", "负责人"],
            ["H-1", "星辰机械", "2024-03-05", "2024-03-20", "HP-100", "1", "800", "rep"],
        ]
    )
    run = checked(admin_user, content, keep_history=True)
    assert outcomes(run) == {2: ("create", "Order H-1, 800.00 CNY: line 1 of 1.")}
    services.import_run_commit(actor=admin_user, run_id=run.pk)
    order = Order.objects.get(external_ref="H-1")
    assert (order.owner, order.created_at.date(), order.delivered_at.date()) == (
        rep,
        datetime.date(2024, 3, 5),
        datetime.date(2024, 3, 20),
    )
    assert re.fullmatch(r"ORD-2024-\d{6}", order.number)
    event = AuditEvent.objects.get(action="order.created", target_id=str(order.pk))
    assert event.extra["kept_original"]["owner"] == "rep"


def test_the_command_and_the_browser_import_past_orders(client, manager, shop, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["order no", "customer ref", "date", "sku", "qty", "price"],
                ["K-1", "C-100", "2026-02-01", "V-1", "3", "1,200"],
            ]
        )
    )
    out = io.StringIO()
    call_command("import_records", "orders", str(path), "--as", manager.username, stdout=out)
    assert "Imported: 1 created, 0 updated, 0 skipped, 0 errors" in out.getvalue()
    assert Order.objects.get(external_ref="K-1").total == Decimal("3600.00")

    client.force_login(manager)
    content = csv_bytes(
        [["订单号", "客户编号", "下单日期", "货号", "数量", "单价"], ["B-1", "C-100", "2026-02-02", "V-1", "1", "10"]]
    )
    response = client.post(
        reverse("imports:run_create"), {"kind": "orders", "file": SimpleUploadedFile("b.csv", content)}
    )
    run = ImportRun.objects.get(file_name="b.csv")
    assert 'value="external_ref" selected' in client.get(response.url).content.decode()
    mapping = {
        f"column_{index}": name
        for index, name in enumerate(["external_ref", "customer_ref", "order_date", "sku", "quantity", "unit_price"])
    }
    client.post(response.url, {**mapping, "policy": "skip"})
    run.refresh_from_db()
    assert run.state == "checked" and run.created_count == 1
    client.post(reverse("imports:run_commit", args=[run.pk]), {})
    assert Order.objects.get(external_ref="B-1").status == OrderStatus.DELIVERED


def test_an_order_longer_than_the_engines_batch_is_checked_whole(manager, shop):
    rows = [["order no", "customer ref", "date", "sku", "qty", "price"]]
    rows += [["BIG", "C-100", "2026-02-01", "V-1", "1", "1"]] * 2001
    run = services.import_run_create(actor=manager, kind="orders", file_name="big.csv", content=csv_bytes(rows))
    run = services.import_run_check(actor=manager, run_id=run.pk, background=False)
    found = outcomes(run)
    assert found[2] == ("create", "Order BIG, 2001.00 CNY: line 1 of 2001.")
    assert found[2002] == ("create", "Order BIG: line 2001 of 2001.")


def test_only_the_valid_orders_are_committed_when_bad_rows_fall_in_different_batches(manager, shop, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 3)  # the engine's parts of 2,000 rows, made small
    rows = [
        ["order no", "customer ref", "date", "sku", "qty", "price"],
        ["P-1", "C-100", "2026-02-01", "V-1", "1", "10"],  # the first part
        ["P-2", "C-100", "2026-02-01", "NOPE", "1", "10"],
        ["P-3", "C-100", "2026-02-01", "V-1", "3", "10"],
        ["P-4", "C-100", "2026-02-01", "V-1", "4", "10"],  # the second part
        ["P-5", "C-100", "31/31/2026", "V-1", "1", "10"],
        ["P-6", "C-100", "2026-02-01", "V-1", "1", "10"],
        ["P-6", "C-100", "2026-02-01", "HP-100", "1", "900"],  # the third part, the same order
        ["P-7", "C-100", "2026-02-01", "V-1", "7", "10"],
        ["P-1", "C-100", "2026-02-01", "HP-100", "1", "800"],  # P-1's second line, far from its first
        ["P-2", "C-100", "2026-02-01", "V-1", "1", "10"],  # P-2's good line, far from its bad one
    ]
    run = checked(manager, csv_bytes(rows), valid_only=True)
    expected = {
        2: ("create", "Order P-1, 810.00 CNY: line 1 of 2."),
        3: ("error", "No product with SKU NOPE."),
        4: ("create", "Order P-3, 30.00 CNY: line 1 of 1."),
        5: ("create", "Order P-4, 40.00 CNY: line 1 of 1."),
        6: ("error", "31/31/2026 is not a date."),
        7: ("create", "Order P-6, 910.00 CNY: line 1 of 2."),
        8: ("create", "Order P-6: line 2 of 2."),
        9: ("create", "Order P-7, 70.00 CNY: line 1 of 1."),
        10: ("create", "Order P-1: line 2 of 2."),
        11: ("error", "Order P-2 is not imported: row 3 has errors."),
    }
    assert outcomes(run) == expected
    assert [line for line, _action, _message in run.results] == sorted(expected)

    run = services.import_run_commit(actor=manager, run_id=run.pk)

    assert (run.state, run.created_count, run.error_count) == ("committed", 7, 3)
    assert outcomes(run) == expected
    committed = {
        order.external_ref: sorted((line.product.sku, line.quantity) for line in order.lines.all())
        for order in Order.objects.exclude(external_ref="PO-OLD").prefetch_related("lines__product")
    }
    assert committed == {
        "P-1": [("HP-100", Decimal("1.00")), ("V-1", Decimal("1.00"))],
        "P-3": [("V-1", Decimal("3.00"))],
        "P-4": [("V-1", Decimal("4.00"))],
        "P-6": [("HP-100", Decimal("1.00")), ("V-1", Decimal("1.00"))],
        "P-7": [("V-1", Decimal("7.00"))],
    }
