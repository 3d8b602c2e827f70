"""Gap-free document numbers such as CT-2026-000123, safe under concurrent creation."""

from django.db import connection
from django.utils import timezone

from crm.core.models import DocumentSequence


def number_allocate(prefix: str, *, year: int | None = None, width: int = 6) -> str:
    """Take the next number for `prefix` and year inside the caller's transaction.

    The upsert locks the counter row until the transaction ends, so two transactions
    never get the same number, and a rolled-back one gives its number back.
    """
    year = year or timezone.localdate().year
    key = f"{prefix}-{year}"
    table = DocumentSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (key, last_value) VALUES (%s, 1)
            ON CONFLICT (key) DO UPDATE SET last_value = {table}.last_value + 1
            RETURNING last_value
            """,
            [key],
        )
        (value,) = cursor.fetchone()
    return f"{key}-{value:0{width}d}"
