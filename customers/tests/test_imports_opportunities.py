"""Importing opportunities from messy files: the customer by reference or name, the form's
rules per row, duplicates (same customer and name) in the file and in the database, won and
lost rows through the stage steps, history kept by an administrator."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from crm.core.imports import services
from crm.core.imports.models import ImportRun
from crm.core.models import AuditEvent
from customers.choices import OpportunityStage
from customers.models import LostReason, Opportunity
from customers.tests.factories import CustomerFactory, OpportunityFactory
from customers.tests.test_imports import csv_bytes, outcomes

pytestmark = pytest.mark.django_db

HEADER = ["客户编号", "客户名称", "商机名称", "阶段", "金额", "币种", "预计成交日期", "来源", "赢率", "丢单原因"]
MESSY = [
    HEADER,
    ["C-001", "", "数控机床升级", "商务谈判", "¥1,234,500.00", "", "2026/12/31", "官网", "60%", ""],
    ["", "Harbour Foods Ltd", "Cold store", "proposal", "1.234,50", "RMB", "15.03.2027", "referral", "", ""],
    ["C-001", "", "  数控机床升级 ", "", "5", "", "2026-12-01", "", "", ""],  # the same as line 2
    ["C-001", "", "Existing deal", "", "100", "", "2026-12-01", "", "", ""],  # in the database
    ["C-404", "", "Nobody's", "", "100", "", "2026-12-01", "", "", ""],
    ["C-001", "", "Bad figures", "somewhere", "abc", "", "31/31/2026", "", "150", ""],
    ["C-001", "", "Lost one", "丢单", "2,000", "", "2026年11月5日", "", "", "Price"],
    ["C-001", "", "Lost without reason", "lost", "2,000", "", "2026-11-05", "", "", ""],
    ["C-001", "", "Won one", "赢单", "3 000", "", "2026-10-01", "", "", ""],
]


@pytest.fixture
def setting(rep):
    machines = CustomerFactory(owner=rep, name="星辰机械", external_ref="C-001")
    harbour = CustomerFactory(owner=rep, name="Harbour Foods Ltd", external_ref="")
    OpportunityFactory(customer=machines, title="Existing deal")
    LostReason.objects.get_or_create(name="Price")
    return harbour


def checked(actor, content, **options):
    run = services.import_run_create(actor=actor, kind="opportunities", file_name="商机.csv", content=content)
    if options:
        services.import_run_configure(actor=actor, run_id=run.pk, mapping=run.mapping, **options)
    return services.import_run_check(actor=actor, run_id=run.pk)


def test_a_messy_gb18030_file_is_checked_row_by_row_and_committed_only_when_clean(manager, setting):
    content = csv_bytes(MESSY, encoding="gb18030", delimiter=";")
    run = checked(manager, content)
    assert (run.encoding, run.delimiter) == ("gb18030", ";")
    assert run.mapping == {
        "客户编号": "customer_ref",
        "客户名称": "customer",
        "商机名称": "title",
        "阶段": "stage",
        "金额": "amount",
        "币种": "currency",
        "预计成交日期": "expected_close_date",
        "来源": "source",
        "赢率": "probability_override",
        "丢单原因": "lost_reason",
    }
    assert outcomes(run) == {
        2: ("create", ""),
        3: ("create", ""),
        4: ("skip", "The same customer and name as row 2 of this file."),
        5: ("skip", "星辰机械 already has this opportunity: Existing deal."),
        6: ("error", "No customer C-404 that you may see."),
        7: (
            "error",
            "abc is not an amount.; 31/31/2026 is not a date.; 150 is not a probability between 0 and 100.; "
            "somewhere is not one of the offered choices.",
        ),
        8: ("create", ""),
        9: ("error", "Say why the opportunity was lost, with one of the offered reasons."),
        10: ("create", ""),
    }

    failed = services.import_run_commit(actor=manager, run_id=run.pk)
    assert failed.state == "failed"
    assert Opportunity.objects.count() == 1

    run = checked(manager, content)
    services.import_run_commit(actor=manager, run_id=run.pk, valid_only=True)
    machine = Opportunity.objects.get(title="数控机床升级")
    assert (machine.stage, machine.amount, machine.currency, machine.source, machine.probability_override) == (
        OpportunityStage.NEGOTIATION,
        Decimal("1234500.00"),
        "CNY",
        "web",
        60,
    )
    assert machine.owner == manager and machine.expected_close_date == datetime.date(2026, 12, 31)
    cold = Opportunity.objects.get(title="Cold store")
    assert (cold.amount, cold.expected_close_date, cold.customer) == (
        Decimal("1234.50"),
        datetime.date(2027, 3, 15),
        setting,
    )
    lost = Opportunity.objects.get(title="Lost one")
    assert (lost.stage, str(lost.lost_reason)) == (OpportunityStage.LOST, "Price")
    assert Opportunity.objects.get(title="Won one").stage == OpportunityStage.WON
    created = AuditEvent.objects.filter(action="opportunity.created", target_id=str(machine.pk)).get()
    assert created.extra["import"] == run.sha256
    assert AuditEvent.objects.filter(action="opportunity.won").count() == 1
    assert AuditEvent.objects.filter(action="opportunity.lost").count() == 1


def test_a_rep_closes_own_deals_but_may_not_give_them_away(rep, other_rep, setting):
    content = csv_bytes(
        [
            ["customer ref", "opportunity", "stage", "amount", "close date", "owner"],
            ["C-001", "Won by a rep", "won", "10", "2026-10-01", ""],
            ["C-001", "For a colleague", "", "10", "2026-10-01", "other_rep"],
            ["C-001", "Mine", "qualification", "10", "2026-10-01", "rep"],
        ]
    )
    assert outcomes(checked(rep, content)) == {
        2: ("create", ""),
        3: ("error", "Only a sales manager can give an opportunity to another owner."),
        4: ("create", ""),
    }


def test_the_update_policy_changes_open_deals_and_refuses_closed_ones(manager, setting):
    existing = Opportunity.objects.get(title="Existing deal")
    OpportunityFactory(customer=existing.customer, title="Closed deal", stage=OpportunityStage.WON)
    content = csv_bytes(
        [
            ["customer ref", "name", "stage", "amount", "close date"],
            ["C-001", "existing DEAL", "proposal", "2,500.00", "2027-01-15"],
            ["C-001", "Closed deal", "", "1", "2027-01-15"],
        ]
    )
    run = checked(manager, content, policy="update")
    assert outcomes(run) == {
        2: ("update", "Updates Existing deal."),
        3: ("error", "A closed opportunity cannot be edited; reopen it first."),
    }
    services.import_run_commit(actor=manager, run_id=run.pk, valid_only=True)
    existing.refresh_from_db()
    assert (existing.amount, existing.stage, existing.title) == (
        Decimal("2500.00"),
        OpportunityStage.PROPOSAL,
        "existing DEAL",
    )
    assert AuditEvent.objects.filter(action="opportunity.advanced", target_id=str(existing.pk)).exists()


def test_an_administrator_keeps_the_original_owner_and_creation_date(admin_user, rep, setting):
    content = csv_bytes(
        [
            ["客户编号", "商机名称", "金额", "预计成交日期", "负责人", "创建日期"],
            ["C-001", "Old deal", "10,000", "2024-06-30", "rep", "2024/1/15"],
        ]
    )
    run = checked(admin_user, content, keep_history=True)
    assert run.mapping["负责人"] == "owner" and run.mapping["创建日期"] == "created_at"
    assert outcomes(run) == {2: ("create", "")}
    services.import_run_commit(actor=admin_user, run_id=run.pk)
    deal = Opportunity.objects.get(title="Old deal")
    assert deal.owner == rep and deal.created_at.date() == datetime.date(2024, 1, 15)
    event = AuditEvent.objects.get(action="opportunity.created", target_id=str(deal.pk))
    assert event.actor == admin_user
    assert event.extra["kept_original"] == {"owner": "rep", "created_at": "2024-01-15T09:00:00+08:00"}


def test_the_command_and_the_browser_import_opportunities(client, manager, setting, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_bytes(
        csv_bytes([["customer ref", "name", "amount", "close date"], ["C-001", "By command", "5", "2027-01-01"]])
    )
    out = io.StringIO()
    call_command("import_records", "opportunities", str(path), "--as", manager.username, stdout=out)
    assert "Imported: 1 created, 0 updated, 0 skipped, 0 errors" in out.getvalue()
    assert Opportunity.objects.filter(title="By command").exists()

    client.force_login(manager)
    content = csv_bytes([["客户编号", "商机名称", "金额", "预计成交日期"], ["C-001", "By browser", "7", "2027-02-01"]])
    response = client.post(
        reverse("imports:run_create"), {"kind": "opportunities", "file": SimpleUploadedFile("d.csv", content)}
    )
    run = ImportRun.objects.get(kind="opportunities", file_name="d.csv")
    page = client.get(response.url).content.decode()
    assert 'value="title" selected' in page
    client.post(
        response.url,
        {
            "column_0": "customer_ref",
            "column_1": "title",
            "column_2": "amount",
            "column_3": "expected_close_date",
            "policy": "skip",
        },
    )
    run.refresh_from_db()
    assert run.state == "checked" and run.created_count == 1
    client.post(reverse("imports:run_commit", args=[run.pk]), {})
    assert Opportunity.objects.filter(title="By browser", owner=manager).exists()
