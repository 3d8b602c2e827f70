"""Bulk loading for the demo data and the benchmarks: PostgreSQL COPY and id reservation.

These bypass the services on purpose (a hundred thousand rows in seconds); the callers
run them inside one transaction and record what they loaded in the audit trail.
"""

import io
from collections.abc import Iterable, Iterator, Sequence

from django.db import connection


def copy_value(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY `rows` (sequences in `columns` order) into `table` through a Django cursor;
    a constraint violation raises Django's IntegrityError, as a plain insert would."""
    buffer = io.StringIO()
    buffer.writelines("\t".join(copy_value(value) for value in row) + "\n" for row in rows)
    if not buffer.tell():
        return
    buffer.seek(0)
    quoted = connection.ops.quote_name
    sql = f"COPY {quoted(table)} ({', '.join(quoted(column) for column in columns)}) FROM STDIN"
    with connection.wrap_database_errors:
        cursor.copy_expert(sql, buffer)


def ids_reserve(cursor, table: str, count: int) -> list[int]:
    """Take `count` ids from the table's identity sequence, as plain inserts would."""
    if not count:
        return []
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
    return sorted(row[0] for row in cursor.fetchall())


def batches(iterable: Iterable, size: int) -> Iterator[list]:
    """The items in lists of `size` (the last one shorter)."""
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
