"""Orders keep their customer's owner and name (customers.copies: backfilled here, then
kept by triggers), get their search grams, and an index for each sort of a rep's list."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from customers.copies import customer_copies


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_verbose_names"),
        ("customers", "0004_customer_copies_and_search_grams"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The trigram indexes (where pg_trgm was there) are replaced by the gram index: no
        # search reads them any more, and each insert paid for them.
        migrations.RunSQL("DROP INDEX IF EXISTS order_number_trgm_idx", migrations.RunSQL.noop),
        migrations.AddField(
            model_name="order",
            name="customer_name",
            field=models.CharField(default="", editable=False, max_length=200, verbose_name="customer's name"),
        ),
        migrations.AddField(
            model_name="order",
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
        customer_copies("orders_order"),
        migrations.AddField(
            model_name="order",
            name="search_grams",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(
                    models.F("number"),
                    models.F("customer_name"),
                    function="crm_search_grams",
                    output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None),
                ),
                output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None),
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["customer_owner", "-order_date", "-id"], name="order_rep_date_idx"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["customer_owner", "-total", "-id"], name="order_rep_total_idx"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["customer_owner", "number", "id"], name="order_rep_number_idx"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_grams"], name="order_search_idx"),
        ),
    ]
