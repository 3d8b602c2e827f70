"""Trigram indexes for searching contracts by fragments of number and title."""

from django.db import migrations

from crm.core.migration_operations import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("contracts", "0005_freeze_signed_terms")]

    operations = [
        trigram_indexes(
            {
                "contract_number_trgm_idx": "contracts_contract USING gin (upper(number) gin_trgm_ops)",
                "contract_title_trgm_idx": "contracts_contract USING gin (upper(title) gin_trgm_ops)",
            }
        )
    ]
