"""Contacts keep their customer's owner and name (customers.copies: backfilled here, then
kept by triggers); customers and contacts get their search grams; a rep's lists their indexes."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from customers.copies import customer_copies


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0009_search_gram_functions"),
        ("customers", "0003_list_sort_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The trigram indexes (where pg_trgm was there) are replaced by the gram index: no
        # search reads them any more, and each insert paid for them.
        migrations.RunSQL(
            "DROP INDEX IF EXISTS customer_name_trgm_idx; DROP INDEX IF EXISTS customer_email_trgm_idx; DROP INDEX IF EXISTS customer_phone_trgm_idx; DROP INDEX IF EXISTS contact_name_trgm_idx",
            migrations.RunSQL.noop,
        ),
        migrations.AddField(
            model_name="contact",
            name="customer_name",
            field=models.CharField(default="", editable=False, max_length=200, verbose_name="customer's name"),
        ),
        migrations.AddField(
            model_name="contact",
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
        customer_copies("customers_contact"),
        migrations.AddField(
            model_name="contact",
            name="search_grams",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(
                    models.F("name"),
                    models.F("email"),
                    models.Func(
                        models.F("phone"),
                        models.Value("\\D"),
                        models.Value(""),
                        models.Value("g"),
                        function="regexp_replace",
                    ),
                    models.F("customer_name"),
                    function="crm_search_grams",
                    output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None),
                ),
                output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None),
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="search_grams",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(
                    models.F("name"),
                    models.F("email"),
                    models.Func(
                        models.F("phone"),
                        models.Value("\\D"),
                        models.Value(""),
                        models.Value("g"),
                        function="regexp_replace",
                    ),
                    function="crm_search_grams",
                    output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None),
                ),
                output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None),
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["customer_name", "id"], name="contact_customer_sort_idx"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["customer_owner", "name", "id"], name="contact_owner_name_idx"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["customer_owner", "customer_name", "id"], name="contact_owner_customer_idx"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_grams"], name="contact_search_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["owner", "-created_at", "-id"], name="customer_owner_created_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["owner", "-updated_at", "-id"], name="customer_owner_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["owner", "status", "name", "id"], name="customer_owner_status_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_grams"], name="customer_search_idx"),
        ),
    ]
