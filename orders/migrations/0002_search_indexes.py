"""A trigram index for searching orders by a fragment of their number."""

from django.db import migrations

from crm.core.migration_operations import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [trigram_indexes({"order_number_trgm_idx": "orders_order USING gin (upper(number) gin_trgm_ops)"})]
