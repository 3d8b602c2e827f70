"""Trigram indexes for fragment search, where the server has pg_trgm.

The embedded development server (pgserver) ships without the extension; there the
search still works, by scanning.
"""

from django.db import migrations

INDEXES = {
    "customer_name_trgm_idx": "customers_customer USING gin (name_key gin_trgm_ops)",
    "customer_email_trgm_idx": "customers_customer USING gin (email_key gin_trgm_ops)",
    "customer_phone_trgm_idx": "customers_customer USING gin (phone_key gin_trgm_ops)",
    "contact_name_trgm_idx": "customers_contact USING gin (upper(name) gin_trgm_ops)",
}


def create_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, definition in INDEXES.items():
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
