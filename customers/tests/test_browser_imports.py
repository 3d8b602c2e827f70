"""Importing customers in a real headless Chromium: upload an XLSX, fix the mapping, see the
dry run's errors, download the result file, commit the valid rows."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from crm.core.tests.browser import log_in
from customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def workbook_bytes(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_rep_imports_an_xlsx_fixes_the_mapping_and_commits_the_valid_rows(page, rep, tmp_path):
    path = tmp_path / "客户.xlsx"
    path.write_bytes(
        workbook_bytes(
            [
                ["公司", "Contact mail", "手机"],
                ["杭州西湖茶业", "tea@xihu.example.cn", "+86 138 0013 5678"],
                ["Ningbo Port Supplies", "not-an-address", "13900001111"],
                ["Suzhou Silk Works", "silk@suzhou.example.cn", "137 0000 2222"],
            ]
        )
    )
    log_in(page, rep)
    page.get_by_test_id("nav-imports").click()
    page.get_by_test_id("import-new").click()
    page.get_by_label("What to import").select_option(label="Customers")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()

    # "公司" and "手机" are recognised; "Contact mail" is not: the user maps it.
    expect(page.get_by_label("公司")).to_have_value("name")
    expect(page.get_by_label("手机")).to_have_value("phone")
    expect(page.get_by_label("Contact mail")).to_have_value("")
    page.get_by_label("Contact mail").select_option(value="email")
    page.get_by_test_id("import-check").click()

    expect(page.get_by_test_id("import-state")).to_have_text("Checked")
    expect(page.get_by_test_id("import-error-count")).to_have_text("1 error")
    expect(page.get_by_test_id("import-problems")).to_contain_text("E-mail: Enter a valid email address.")
    assert not Customer.objects.exists()

    with page.expect_download() as download_info:
        page.get_by_test_id("import-result-file").click()
    download = download_info.value
    assert download.suggested_filename == "客户-result.xlsx"
    result = load_workbook(io.BytesIO(download.path().read_bytes()))
    column = [row[-1] for row in result.active.iter_rows(values_only=True)]
    assert column == ["Import result", "create", "error: E-mail: Enter a valid email address.", "create"]

    page.get_by_label("Commit only the valid rows (leave the rows with errors out)").check()
    page.get_by_test_id("import-commit").click()
    expect(page.get_by_test_id("import-state")).to_have_text("Committed")
    assert sorted(Customer.objects.values_list("name", "phone")) == [
        ("Suzhou Silk Works", "13700002222"),
        ("杭州西湖茶业", "13800135678"),
    ]
