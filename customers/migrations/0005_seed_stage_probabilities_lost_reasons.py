"""Each stage's default win probability, and a first list of lost reasons (both edited in
the admin afterwards)."""

from django.db import migrations

PROBABILITIES = {
    "prospecting": 10,
    "qualification": 25,
    "proposal": 50,
    "negotiation": 75,
    "won": 100,
    "lost": 0,
}

LOST_REASONS = [
    "Price too high",
    "Chose a competitor",
    "No budget",
    "No decision / went quiet",
    "Missing feature or product",
    "Timing: not now",
]


def seed(apps, schema_editor):
    StageProbability = apps.get_model("customers", "StageProbability")
    LostReason = apps.get_model("customers", "LostReason")
    for stage, probability in PROBABILITIES.items():
        StageProbability.objects.get_or_create(stage=stage, defaults={"probability": probability})
    for position, name in enumerate(LOST_REASONS):
        LostReason.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_opportunities_activities")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
