"""An .xlsx is a zip: a workbook that unpacks to far more than it weighs, or that is no
workbook at all, is refused before it is read, as a form error on the upload page and a
one-line reason with a non-zero exit from `import_records`."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from crm.core.exceptions import DomainError
from crm.core.imports import services
from crm.core.imports.models import ImportRun

pytestmark = pytest.mark.django_db

CHUNK = b"A" * 2**20


def bomb(sheet_megabytes):
    """A tiny zip shaped as a workbook whose sheet is `sheet_megabytes` MB of one repeated byte."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for _ in range(sheet_megabytes):
                sheet.write(CHUNK)
    return out.getvalue()


@pytest.fixture(scope="module")
def large_bomb():
    content = bomb(300)
    assert len(content) < 2**20  # it weighs less than a megabyte
    return content


def test_a_workbook_unpacking_past_the_limit_is_a_form_error_on_the_upload_page(client, rep, large_bomb):
    client.force_login(rep)
    response = client.post(
        reverse("imports:run_create"), {"kind": "customers", "file": SimpleUploadedFile("bomb.xlsx", large_bomb)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The workbook unpacks to more than 200 MB; split it into smaller files."
    ]
    assert not ImportRun.objects.exists()


def test_a_workbook_unpacking_past_the_limit_stops_the_command_with_its_reason(rep, large_bomb, tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(large_bomb)
    with pytest.raises(
        CommandError, match=r"^The workbook unpacks to more than 200 MB; split it into smaller files\.$"
    ):
        call_command("import_records", "customers", str(path), "--as", rep.username, stdout=io.StringIO())
    assert not ImportRun.objects.exists()


def test_the_limit_is_a_setting_and_is_said_in_the_users_language(client, rep, settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = 2 * 2**20
    client.force_login(rep)
    response = client.post(
        reverse("imports:run_create"),
        {"kind": "customers", "file": SimpleUploadedFile("bomb.xlsx", bomb(3))},
        headers={"accept-language": "zh-hans"},
    )
    assert response.context["form"].errors["file"] == ["该工作簿解压后超过 2 MB，请拆分成较小的文件。"]


def test_a_member_compressed_beyond_any_spreadsheet_is_refused_under_the_size_limit(rep, tmp_path):
    path = tmp_path / "dense.xlsx"
    path.write_bytes(bomb(20))
    with pytest.raises(CommandError, match="compressed more than 100 to 1"):
        call_command("import_records", "customers", str(path), "--as", rep.username, stdout=io.StringIO())
    with pytest.raises(DomainError, match="compressed more than 100 to 1") as refused:
        services.import_run_create(actor=rep, kind="customers", file_name="dense.xlsx", content=bomb(20))
    assert refused.value.field == "file"


def test_a_sheet_naming_its_farthest_cell_is_not_filled_out_to_it(rep, settings):
    """A few bytes of XML can name cell XFD1048576; openpyxl would fill every row up to it."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "email"])
    sheet.append(["Far Co", "far@example.com"])
    sheet.cell(row=1_048_576, column=16_384, value="x")
    out = io.BytesIO()
    workbook.save(out)
    settings.IMPORT_MAX_UNPACKED_BYTES = 2**20
    with pytest.raises(DomainError, match="more cells than can be read"):
        services.import_run_create(actor=rep, kind="customers", file_name="far.xlsx", content=out.getvalue())


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04junk", b"PK\x03\x04" + bytes(range(256)) * 8, b"not a zip at all"],
    ids=["truncated zip", "garbage after the zip magic", "text named .xlsx"],
)
def test_a_file_that_is_no_zip_is_refused_as_no_workbook(client, rep, tmp_path, content):
    client.force_login(rep)
    response = client.post(
        reverse("imports:run_create"), {"kind": "customers", "file": SimpleUploadedFile("x.xlsx", content)}
    )
    assert response.context["form"].errors["file"] == ["The file is not an Excel workbook (.xlsx)."]
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=r"^The file is not an Excel workbook \(\.xlsx\)\.$"):
        call_command("import_records", "customers", str(path), "--as", rep.username, stdout=io.StringIO())


def test_a_zip_without_a_workbook_or_with_a_broken_sheet_is_refused_as_no_workbook(rep):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(DomainError, match=r"not an Excel workbook"):
        services.import_run_create(actor=rep, kind="customers", file_name="letter.xlsx", content=out.getvalue())

    workbook = Workbook()
    workbook.active.append(["name"])
    good = io.BytesIO()
    workbook.save(good)
    broken = io.BytesIO()
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # the sheet's XML cut off halfway
            target.writestr(member, data)
    with pytest.raises(DomainError, match=r"not an Excel workbook"):
        services.import_run_create(actor=rep, kind="customers", file_name="cut.xlsx", content=broken.getvalue())


def test_a_workbook_whose_limit_is_lowered_after_the_upload_fails_its_run_cleanly(
    rep, settings, django_capture_on_commit_callbacks
):
    """The background task reads the file again: the refusal ends the run, it does not crash it."""
    workbook = Workbook()
    workbook.active.append(["name", "notes"])
    for number in range(50):
        workbook.active.append([f"Long Notes Co {number}", f"{number} " + "notes " * 5000])
    out = io.BytesIO()
    workbook.save(out)
    run = services.import_run_create(actor=rep, kind="customers", file_name="long.xlsx", content=out.getvalue())
    settings.IMPORT_MAX_UNPACKED_BYTES = 2**20
    with django_capture_on_commit_callbacks(execute=True):
        services.import_run_check(actor=rep, run_id=run.pk, background=True)
    run.refresh_from_db()
    assert (run.state, run.message) == (
        "failed",
        "The workbook unpacks to more than 1 MB; split it into smaller files.",
    )
