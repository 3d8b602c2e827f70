"""Contracts keep their customer's owner and name (customers.copies: backfilled here, then
kept by triggers), get their search grams, and an index for each sort of a rep's list."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from customers.copies import customer_copies


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0012_verbose_names"),
        ("customers", "0004_customer_copies_and_search_grams"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The trigram indexes (where pg_trgm was there) are replaced by the gram index: no
        # search reads them any more, and each insert paid for them.
        migrations.RunSQL(
            "DROP INDEX IF EXISTS contract_number_trgm_idx; DROP INDEX IF EXISTS contract_title_trgm_idx",
            migrations.RunSQL.noop,
        ),
        migrations.RemoveIndex(
            model_name="contract",
            name="contract_end_date_idx",
        ),
        migrations.RemoveIndex(
            model_name="contract",
            name="contract_amount_idx",
        ),
        migrations.AddField(
            model_name="contract",
            name="customer_name",
            field=models.CharField(default="", editable=False, max_length=200, verbose_name="customer's name"),
        ),
        migrations.AddField(
            model_name="contract",
            name="customer_owner",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="customer's owner",
            ),
        ),
        customer_copies("contracts_contract"),
        migrations.AddField(
            model_name="contract",
            name="search_grams",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(
                    models.F("number"),
                    models.F("title"),
                    models.F("customer_name"),
                    function="crm_search_grams",
                    output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None),
                ),
                output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None),
            ),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["end_date", "id"], name="contract_end_date_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["amount", "id"], name="contract_amount_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["customer_owner", "-created_at", "-id"], name="contract_rep_created_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["customer_owner", "amount", "id"], name="contract_rep_amount_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["customer_owner", "ordered_amount", "id"], name="contract_rep_ordered_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["customer_owner", "end_date", "id"], name="contract_rep_end_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["customer_owner", "number", "id"], name="contract_rep_number_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["customer_owner", "status", "awaiting_role"], name="contract_rep_inbox_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_grams"], name="contract_search_idx"),
        ),
    ]
