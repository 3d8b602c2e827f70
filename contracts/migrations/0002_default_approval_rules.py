"""Every contract needs a sales manager; from 1,000,000 upwards a finance approver too."""

from decimal import Decimal

from django.db import migrations

DEFAULT_RULES = [
    (1, Decimal("0"), "Sales manager"),
    (2, Decimal("1000000"), "Finance approver"),
]


def create_rules(apps, schema_editor):
    ApprovalRule = apps.get_model("contracts", "ApprovalRule")
    for level, min_amount, role in DEFAULT_RULES:
        ApprovalRule.objects.get_or_create(level=level, is_active=True, defaults={"min_amount": min_amount, "role": role})


def remove_rules(apps, schema_editor):
    ApprovalRule = apps.get_model("contracts", "ApprovalRule")
    for level, min_amount, role in DEFAULT_RULES:
        ApprovalRule.objects.filter(level=level, min_amount=min_amount, role=role).delete()


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(create_rules, remove_rules)]
