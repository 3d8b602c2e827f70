"""The quote discount limits' one row and a default terms template per language (both
edited in the admin afterwards)."""

from django.db import migrations

TERMS = {
    "en": (
        "Standard terms (English)",
        "Prices are valid until the date above. Payment within 30 days of invoice. "
        "Delivery within 4 weeks of the signed contract. Our general terms of sale apply.",
    ),
    "zh-hans": (
        "标准条款（中文）",
        "以上价格在有效期内有效。发票开具后 30 天内付款。合同签署后 4 周内交货。适用本公司一般销售条款。",
    ),
}


def seed(apps, schema_editor):
    QuoteDiscountLimit = apps.get_model("orders", "QuoteDiscountLimit")
    QuoteTermsTemplate = apps.get_model("orders", "QuoteTermsTemplate")
    QuoteDiscountLimit.objects.get_or_create(pk=1)
    for language, (name, body) in TERMS.items():
        QuoteTermsTemplate.objects.get_or_create(
            name=name, defaults={"language": language, "body": body, "is_default": True}
        )


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_quotes")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
