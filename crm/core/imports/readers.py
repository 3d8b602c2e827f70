"""Reading CSV and XLSX files as they come, and writing them back with a result column.

CSV: UTF-8 with or without a byte-order mark, else GB18030 (the superset of the GBK that
Excel writes in China); `,`, `;` or tab between the values. XLSX: the first sheet, read
with openpyxl, once its zip has been looked at (`xlsx_refusal`: an .xlsx is a zip, and a zip
of a few kilobytes can unpack to gigabytes). The result file is the original with one more column, in the same format:
a CSV in the same encoding (with its BOM, if it had one) and separator, an XLSX as XLSX.
"""

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

XLSX_MAGIC = b"PK\x03\x04"
DELIMITERS = [",", ";", "\t"]
# A member of the zip unpacking to more than this is refused when it is compressed more than
# MAX_RATIO to 1: sheets of real data compress 5 to 20 times, a run of one byte a thousand times.
RATIO_CHECKED_BYTES = 4 * 2**20
MAX_RATIO = 100
# A cell of the table costs a slot of 8 bytes in its row: the rows openpyxl fills up to the
# farthest cell a sheet names (a few bytes of XML can name XFD1048576) count against the same
# budget as the unpacked bytes.
CELL_BYTES = 8


class FileUnreadable(ValueError):
    pass


@dataclass
class Table:
    file_format: str  # csv | xlsx
    encoding: str
    delimiter: str
    headers: list[str]
    rows: list[list[Any]]  # data rows, the header left out

    def records(self, mapping: dict[str, str]) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line, {field: value}) for every data row that is not blank; the header is line 1."""
        positions = [(index, mapping[header]) for index, header in enumerate(self.headers) if mapping.get(header)]
        for number, row in enumerate(self.rows, start=2):
            if all(value is None or str(value).strip() == "" for value in row):
                continue
            yield number, {name: row[index] if index < len(row) else None for index, name in positions}

    def count(self) -> int:
        return sum(1 for row in self.rows if any(value is not None and str(value).strip() != "" for value in row))


def decode(content: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: utf-8-sig (with a BOM), utf-8, else gb18030."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8"), "utf-8-sig"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise FileUnreadable(_("The file is neither UTF-8 nor GB18030/GBK text.")) from None


def sniff_delimiter(text: str) -> str:
    """The separator that splits the header line into the most columns, consistently."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if counts[0] <= 1:
            continue
        score = counts[0] * 10 + sum(1 for count in counts if count == counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read(content: bytes, file_name: str = "") -> Table:
    if not content.strip():
        raise FileUnreadable(_("The file is empty."))
    if content.startswith(XLSX_MAGIC) or file_name.lower().endswith(".xlsx"):
        return _read_xlsx(content)
    text, encoding = decode(content)
    delimiter = sniff_delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise FileUnreadable(_("The CSV file cannot be read: %(error)s") % {"error": error}) from None
    if not rows:
        raise FileUnreadable(_("The file is empty."))
    headers = [header.strip() for header in rows[0]]
    return Table("csv", encoding, delimiter, _unique(headers), rows[1:])


def xlsx_refusal(content: bytes) -> str:
    """Why the zip `content` is not read as a workbook ("" when it may be): not a zip, no
    workbook inside, more than IMPORT_MAX_UNPACKED_BYTES unpacked, or a member compressed
    more than MAX_RATIO to 1. The sizes are the zip's own; Python's zipfile never unpacks a
    member past its stated size (and fails its checksum if the data goes on)."""
    not_a_workbook = _("The file is not an Excel workbook (.xlsx).")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return not_a_workbook
    if "xl/workbook.xml" not in {member.filename for member in members}:
        return not_a_workbook
    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    if sum(member.file_size for member in members) > limit:
        return _("The workbook unpacks to more than %(size)s MB; split it into smaller files.") % {
            "size": limit // 2**20
        }
    for member in members:
        if member.file_size > RATIO_CHECKED_BYTES and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            return _("The workbook is compressed more than %(ratio)s to 1, as no spreadsheet is; it is not read.") % {
                "ratio": MAX_RATIO
            }
    return ""


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    refusal = xlsx_refusal(content)
    if refusal:
        raise FileUnreadable(refusal)
    budget = settings.IMPORT_MAX_UNPACKED_BYTES // CELL_BYTES
    rows = []
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # rows as long as their own cells, not as the sheet claims
            for row in sheet.iter_rows(values_only=True):
                budget -= len(row) + 1
                if budget < 0:
                    raise FileUnreadable(
                        _("The workbook's first sheet has more cells than can be read; split it into smaller files.")
                    )
                rows.append(list(row))
        finally:
            workbook.close()
    except FileUnreadable:
        raise
    except Exception:  # noqa: BLE001 - zip, XML or openpyxl's own errors: all mean "not a workbook"
        raise FileUnreadable(_("The file is not an Excel workbook (.xlsx).")) from None
    if not rows:
        raise FileUnreadable(_("The file is empty."))
    headers = [str(value).strip() if value is not None else "" for value in rows[0]]
    return Table("xlsx", "", "", _unique(headers), rows[1:])


def _unique(headers: Sequence[str]) -> list[str]:
    """Headers as keys of the mapping: a blank one is named by its column, a repeated one numbered."""
    seen: dict[str, int] = {}
    named = []
    for index, header in enumerate(headers, start=1):
        header = header or f"#{index}"
        if header in seen:
            seen[header] += 1
            header = f"{header} ({seen[header]})"
        else:
            seen[header] = 1
        named.append(header)
    return named


def result_file(content: bytes, table: Table, outcomes: dict[int, str], header: str) -> bytes:
    """The original file with a `header` column holding each line's outcome."""
    if table.file_format == "xlsx":
        return _result_xlsx(content, outcomes, header)
    text, _encoding = decode(content)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=table.delimiter))
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=table.delimiter, lineterminator="\r\n")
    for number, row in enumerate(rows, start=1):
        writer.writerow([*row, header if number == 1 else outcomes.get(number, "")])
    encoded = out.getvalue().encode("utf-8" if table.encoding == "utf-8-sig" else table.encoding or "utf-8")
    return (b"\xef\xbb\xbf" if table.encoding == "utf-8-sig" else b"") + encoded


def _result_xlsx(content: bytes, outcomes: dict[int, str], header: str) -> bytes:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    column = sheet.max_column + 1
    sheet.cell(row=1, column=column, value=header)
    for line, outcome in outcomes.items():
        sheet.cell(row=line, column=column, value=outcome)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
