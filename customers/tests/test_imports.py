"""Importing customers and contacts from messy files: per-row outcomes, duplicates in the
file and against the database, nothing committed on failure, the result file."""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from crm.core.exceptions import DomainError
from crm.core.imports import engine, services
from crm.core.imports.models import ImportRun, ImportState
from crm.core.models import AuditEvent
from customers.models import Contact, Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def csv_bytes(rows, *, encoding="utf-8", delimiter=","):
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def outcomes(run):
    return {line: (action, message) for line, action, message in run.results}


def checked(actor, content, name, kind="customers", **options):
    run = services.import_run_create(actor=actor, kind=kind, file_name=name, content=content)
    if options:
        services.import_run_configure(actor=actor, run_id=run.pk, mapping=run.mapping, **options)
    return services.import_run_check(actor=actor, run_id=run.pk)


MESSY_CUSTOMERS = [
    ["客户编号", "客户名称", "邮箱", "电话", "状态", "行业"],
    ["C-001", "上海星辰贸易有限公司", "Sales@XingChen.cn", "+86 138 0013 5678", "有效", "制造业"],
    ["C-002", "北京远航科技", "not-an-email", "139 0000 1111", "lead", "other"],
    ["C-003", "  上海星辰贸易有限公司 ", "", "", "", ""],  # the same name as line 2
    ["C-004", "Harbour Foods Ltd", "buy@harbour.example.com", "0086-137-1234-5678", "prospect", ""],
    ["C-005", "Existing Co", "", "", "", ""],  # already in the database
    ["", "", "", "", "", ""],  # blank: left out
    ["C-007", "Nameless phone", "", "12ab", "", ""],
    ["C-008", "Second Harbour", "BUY@harbour.example.com", "", "", ""],  # line 5's e-mail
]


def test_a_gb18030_csv_with_semicolons_is_checked_row_by_row(rep):
    CustomerFactory(owner=rep, name="Existing Co", email="", phone="")
    run = checked(rep, csv_bytes(MESSY_CUSTOMERS, encoding="gb18030", delimiter=";"), "客户.csv")

    assert (run.file_format, run.encoding, run.delimiter) == ("csv", "gb18030", ";")
    assert run.mapping == {
        "客户编号": "external_ref",
        "客户名称": "name",
        "邮箱": "email",
        "电话": "phone",
        "状态": "status",
        "行业": "industry",
    }
    assert run.state == ImportState.CHECKED
    found = outcomes(run)
    assert sorted(found) == [2, 3, 4, 5, 6, 8, 9]
    assert found[2] == ("create", "")
    assert found[3] == ("error", "E-mail: Enter a valid email address.")
    assert found[4] == ("skip", "The same name as row 2 of this file.")
    assert found[5] == ("create", "")
    assert found[6] == ("skip", "A customer with this name already exists: Existing Co.")
    assert found[8] == ("error", "12ab is not a phone number.")
    assert found[9] == ("skip", "The same e-mail as row 5 of this file.")
    assert (run.created_count, run.skipped_count, run.error_count) == (2, 3, 2)
    assert Customer.objects.count() == 1  # a dry run writes nothing


def test_all_or_nothing_commits_nothing_when_a_row_fails(rep):
    run = checked(rep, csv_bytes(MESSY_CUSTOMERS, encoding="gb18030", delimiter=";"), "客户.csv")
    run = services.import_run_commit(actor=rep, run_id=run.pk)

    assert run.state == ImportState.FAILED
    assert "Nothing was imported" in run.message
    assert not Customer.objects.exists()
    assert not AuditEvent.objects.filter(action="customer.created").exists()


def test_valid_rows_only_commits_them_with_their_events_and_one_import_event(rep):
    CustomerFactory(owner=rep, name="Existing Co", email="", phone="", external_ref="OLD")
    run = checked(rep, csv_bytes(MESSY_CUSTOMERS, encoding="gb18030", delimiter=";"), "客户.csv")
    run = services.import_run_commit(actor=rep, run_id=run.pk, valid_only=True)

    assert run.state == ImportState.COMMITTED
    created = Customer.objects.exclude(external_ref="OLD").order_by("external_ref")
    assert [(c.external_ref, c.name, c.email, c.phone, c.status, c.owner) for c in created] == [
        ("C-001", "上海星辰贸易有限公司", "Sales@XingChen.cn", "13800135678", "active", rep),
        ("C-004", "Harbour Foods Ltd", "buy@harbour.example.com", "13712345678", "prospect", rep),
    ]
    assert AuditEvent.objects.filter(action="customer.created").count() == 2
    event = AuditEvent.objects.get(action="import.committed")
    assert event.extra["sha256"] == run.sha256
    assert event.extra["created"] == 2


def test_the_result_file_is_the_original_in_its_encoding_with_the_outcome_column(rep):
    content = csv_bytes(MESSY_CUSTOMERS, encoding="gb18030", delimiter=";")
    run = checked(rep, content, "客户.csv")
    result = engine.result_file(run).decode("gb18030")
    rows = list(csv.reader(io.StringIO(result, newline=""), delimiter=";"))

    assert rows[0] == [*MESSY_CUSTOMERS[0], "Import result"]
    assert rows[1] == [*MESSY_CUSTOMERS[1], "create"]
    assert rows[3] == [*MESSY_CUSTOMERS[3], "skip: The same name as row 2 of this file."]
    assert rows[6] == [*MESSY_CUSTOMERS[6], ""]
    assert rows[7] == [*MESSY_CUSTOMERS[7], "error: 12ab is not a phone number."]


def test_utf8_with_bom_and_update_policy(rep, other_rep):
    mine = CustomerFactory(owner=rep, name="Mine Ltd", email="hello@mine.example.com", phone="")
    CustomerFactory(owner=other_rep, name="Theirs Ltd", email="", phone="13911112222")
    rows = [
        ["Name", "E-mail", "Phone", "Notes"],
        ["Mine Ltd (renamed)", "HELLO@mine.example.com ", "", "Updated by import"],
        ["Someone", "", "+86 139 1111 2222", ""],
    ]
    run = checked(rep, b"\xef\xbb\xbf" + csv_bytes(rows), "bom.csv", policy="update")
    assert run.encoding == "utf-8-sig"
    found = outcomes(run)
    assert found[2] == ("update", "Updates Mine Ltd.")
    assert found[3] == (
        "error",
        "A customer with this phone number already exists and belongs to another owner; ask a sales manager.",
    )
    run = services.import_run_commit(actor=rep, run_id=run.pk, valid_only=True)
    mine.refresh_from_db()
    assert (mine.name, mine.notes) == ("Mine Ltd (renamed)", "Updated by import")
    result = engine.result_file(run)
    assert result.startswith(b"\xef\xbb\xbf")


def test_an_xlsx_with_dates_and_numbers(admin_user, rep):
    rows = [
        ["external id", "customer name", "mobile", "owner", "created"],
        ["X1", "Old Friend Ltd", 13800001111, rep.username, datetime.datetime(2019, 4, 1)],
        ["X2", "Older Friend Ltd", "138 0000 2222", rep.username, "2018年5月6日"],
        ["X3", "Bad Date Ltd", "", rep.username, "3/4/2019"],
    ]
    run = services.import_run_create(actor=admin_user, kind="customers", file_name="old.xlsx", content=xlsx_bytes(rows))
    assert run.mapping["created"] == "created_at"
    services.import_run_configure(actor=admin_user, run_id=run.pk, mapping=run.mapping, keep_history=True)
    run = services.import_run_check(actor=admin_user, run_id=run.pk)
    found = outcomes(run)
    assert found[4] == ("error", "3/4/2019 is ambiguous (day and month); write it as YYYY-MM-DD.")
    run = services.import_run_commit(actor=admin_user, run_id=run.pk, valid_only=True)
    old = Customer.objects.get(external_ref="X1")
    assert (old.owner, old.created_at.date(), old.phone) == (rep, datetime.date(2019, 4, 1), "13800001111")
    assert Customer.objects.get(external_ref="X2").created_at.date() == datetime.date(2018, 5, 6)
    event = AuditEvent.objects.get(action="customer.created", target_id=str(old.pk))
    assert event.extra["import"] == run.sha256
    assert event.extra["kept_original"]["owner"] == rep.username
    assert datetime.datetime.fromisoformat(event.extra["kept_original"]["created_at"]) == old.created_at
    assert AuditEvent.objects.get(action="import.committed").extra["kept_owners_and_dates"] is True

    workbook = load_workbook(io.BytesIO(engine.result_file(run)))
    values = [[cell.value for cell in row] for row in workbook.active.iter_rows()]
    assert values[0][-1] == "Import result"
    assert values[1][-1] == "create"
    assert values[3][-1].startswith("error: 3/4/2019 is ambiguous")


def test_a_rep_may_not_keep_owners(rep):
    run = services.import_run_create(actor=rep, kind="customers", file_name="a.csv", content=b"name\nA\n")
    with pytest.raises(services.DomainError):
        services.import_run_configure(actor=rep, run_id=run.pk, mapping=run.mapping, keep_history=True)


def test_contacts_name_their_customer_by_external_reference(rep, other_rep):
    acme = CustomerFactory(owner=rep, name="Acme", external_ref="A-1")
    CustomerFactory(owner=other_rep, name="Other", external_ref="O-1")
    acme.contacts.create(name="Li Na", email="li@acme.example.com")
    rows = [
        ["客户编号", "联系人", "邮箱", "手机", "主要联系人"],
        ["A-1", "Wang Wei", "wang@acme.example.com", "+86 137 0000 1111", "是"],
        ["A-1", "Li Na (again)", "LI@acme.example.com", "", ""],
        ["O-1", "Hidden", "", "", ""],
        ["A-9", "Nobody", "", "", ""],
        ["A-1", "Wang Wei", "", "", "maybe"],
    ]
    run = checked(rep, csv_bytes(rows, delimiter="\t"), "contacts.txt", kind="contacts")
    found = outcomes(run)
    assert found[2] == ("create", "")
    assert found[3] == ("skip", "Acme already has this contact: Li Na.")
    assert found[4] == ("error", "No customer O-1 that you may change.")
    assert found[5] == ("error", "No customer A-9 that you may change.")
    assert found[6] == ("error", "maybe is not yes or no.")
    run = services.import_run_commit(actor=rep, run_id=run.pk, valid_only=True)
    wang = Contact.objects.get(name="Wang Wei")
    assert (wang.customer, wang.phone, wang.is_primary) == (acme, "13700001111", True)


def test_the_command_prints_a_summary_and_fails_with_a_reason(rep, tmp_path, capsys):
    CustomerFactory(owner=rep, name="Existing Co", email="", phone="")
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes(MESSY_CUSTOMERS, encoding="gb18030", delimiter=";"))
    with pytest.raises(CommandError, match="Nothing imported: 2 rows have errors"):
        call_command("import_records", "customers", str(path), "--as", rep.username)
    assert Customer.objects.count() == 1
    out = io.StringIO()
    call_command("import_records", "customers", str(path), "--as", rep.username, "--valid-only", stdout=out)
    assert "Imported: 2 created, 0 updated, 3 skipped, 2 errors" in out.getvalue()
    with pytest.raises(CommandError, match="Unknown kind"):
        call_command("import_records", "planets", str(path))


def test_upload_map_check_and_commit_in_the_browser(client, rep):
    client.force_login(rep)
    content = csv_bytes([["Company", "Email", "Whatever"], ["Page Co", "page@example.com", "x"], ["Bad", "bad", ""]])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("imports:run_create"), {"kind": "customers", "file": SimpleUploadedFile("p.csv", content)}
    )
    run = ImportRun.objects.get()
    assert response.url == run.get_absolute_url()
    page = client.get(response.url).content.decode()
    assert 'name="column_2"' in page
    response = client.post(
        response.url,
        {"column_0": "name", "column_1": "email", "column_2": "", "policy": "skip", "preset_name": "Shop export"},
    )
    run.refresh_from_db()
    assert run.state == ImportState.CHECKED and run.error_count == 1
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Enter a valid email address." in page
    result = client.get(reverse("imports:run_result", args=[run.pk]))
    assert result["Content-Type"] == "text/csv"
    assert b"error: E-mail: Enter a valid email address." in result.content
    client.post(reverse("imports:run_commit", args=[run.pk]), {"valid_only": "1"})
    assert list(Customer.objects.values_list("name", flat=True)) == ["Page Co"]
    assert client.get(f"{run.get_absolute_url()}?preset=abc").status_code == 200


def test_an_unreadable_file_is_a_form_error(client, rep):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(rep)
    response = client.post(
        reverse("imports:run_create"), {"kind": "customers", "file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04junk")}
    )
    assert response.status_code == 200
    assert "not an Excel workbook" in response.content.decode()


def test_the_region_is_read_from_full_short_and_english_province_names(rep):
    rows = [
        ["客户名称", "省份"],
        ["广州一号", "广东省"],
        ["南宁二号", "广西壮族自治区"],
        ["北京三号", "北京市"],
        ["深圳四号", "广东"],
        ["Shenzhen Five", "Guangdong"],
        ["Hohhot Six", "Inner Mongolia"],
        ["Nowhere Seven", "Atlantis"],
    ]
    run = checked(rep, csv_bytes(rows), "regions.csv")
    assert run.mapping["省份"] == "region"
    assert outcomes(run)[8][0] == "error"
    run = services.import_run_commit(actor=rep, run_id=run.pk, valid_only=True)
    assert dict(Customer.objects.values_list("name", "region")) == {
        "广州一号": "guangdong",
        "南宁二号": "guangxi",
        "北京三号": "beijing",
        "深圳四号": "guangdong",
        "Shenzhen Five": "guangdong",
        "Hohhot Six": "inner_mongolia",
    }


def test_a_changed_mapping_asks_for_a_new_dry_run_and_the_commit_writes_what_that_one_checked(rep):
    rows = [["Name", "E-mail", "Notes"], ["Acme Ltd", "first@acme.example.com", "second@acme.example.com"]]
    content = csv_bytes(rows)
    run = checked(rep, content, "customers.csv")
    assert run.state == ImportState.CHECKED and run.mapping["E-mail"] == "email"

    run = services.import_run_configure(actor=rep, run_id=run.pk, mapping={"Name": "name", "Notes": "email"})

    assert (run.state, run.results, run.created_count) == (ImportState.UPLOADED, [], 0)
    with pytest.raises(DomainError):
        services.import_run_commit(actor=rep, run_id=run.pk)
    assert not Customer.objects.exists()
    services.import_run_check(actor=rep, run_id=run.pk)
    run = services.import_run_commit(actor=rep, run_id=run.pk)
    assert run.state == ImportState.COMMITTED
    assert Customer.objects.get().email == "second@acme.example.com"
