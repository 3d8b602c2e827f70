"""Attachments point at the customer's message they came with; resolution codes (a list the
admin keeps, seeded with a first one) are chosen when a ticket is resolved."""

import django.db.models.deletion
from django.db import migrations, models

RESOLUTION_CODES = [
    "Answered the question",
    "Repaired",
    "Replaced under warranty",
    "Credit or refund issued",
    "No fault found",
    "Duplicate request",
    "Customer did not respond",
]


def codes_seed(apps, schema_editor):
    ResolutionCode = apps.get_model("service", "ResolutionCode")
    for position, name in enumerate(RESOLUTION_CODES):
        ResolutionCode.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0004_ticket_search_grams'),
    ]

    operations = [
        migrations.CreateModel(
            name='ResolutionCode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=120, unique=True, verbose_name='name')),
                ('is_active', models.BooleanField(default=True, verbose_name='offered')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='position')),
            ],
            options={
                'verbose_name': 'resolution code',
                'verbose_name_plural': 'resolution codes',
                'ordering': ['position', 'name'],
            },
        ),
        migrations.AddField(
            model_name='ticketattachment',
            name='entry',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='attachments', to='service.ticketentry', verbose_name='entry'),
        ),
        migrations.AddField(
            model_name='ticket',
            name='resolution_code',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='service.resolutioncode', verbose_name='resolution code'),
        ),
        migrations.RunPython(codes_seed, migrations.RunPython.noop),
    ]
