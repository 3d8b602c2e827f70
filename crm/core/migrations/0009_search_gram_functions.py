"""The SQL functions of the gram search (crm/core/gram_search.py), which the generated
`search_grams` columns of the apps are computed with."""

from django.db import migrations

from crm.core.gram_search import DROP_SQL_FUNCTIONS, SQL_FUNCTIONS


class Migration(migrations.Migration):
    dependencies = [("core", "0008_audit_seal_after_commit")]

    operations = [migrations.RunSQL(SQL_FUNCTIONS, DROP_SQL_FUNCTIONS)]
