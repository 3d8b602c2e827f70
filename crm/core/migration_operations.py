"""Migration operations shared by the apps."""

from django.db import migrations


def trigram_indexes(indexes: dict[str, str]) -> migrations.RunPython:
    """Create GIN trigram indexes ({name: "table USING gin (expression gin_trgm_ops)"}) where
    the server has pg_trgm. The embedded development server ships without it; there the
    fragment search works by scanning."""

    def create(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
            if cursor.fetchone() is None:
                return
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for name, definition in indexes.items():
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")

    def drop(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for name in indexes:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(create, drop)
