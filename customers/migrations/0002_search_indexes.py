"""Trigram indexes for fragment search, where the server has pg_trgm."""

from django.db import migrations

from crm.core.migration_operations import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        trigram_indexes(
            {
                "customer_name_trgm_idx": "customers_customer USING gin (name_key gin_trgm_ops)",
                "customer_email_trgm_idx": "customers_customer USING gin (email_key gin_trgm_ops)",
                "customer_phone_trgm_idx": "customers_customer USING gin (phone_key gin_trgm_ops)",
                "contact_name_trgm_idx": "customers_contact USING gin (upper(name) gin_trgm_ops)",
            }
        )
    ]
