"""seed_demo's pipeline: every stage, two years of won and lost deals, and stage history
that adds up to each deal's life."""

import datetime
import io
import random

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from crm.core.audit import audit_chain_verify
from crm.core.demo import demo_users_ensure
from crm.core.models import AuditEvent
from customers.choices import OpportunityStage
from customers.demo import demo_step
from customers.models import Activity, Opportunity

pytestmark = pytest.mark.django_db


def test_the_demo_pipeline_has_every_stage_and_a_consistent_history():
    call_command("seed_demo", customers=40, contracts=0, stdout=io.StringIO(), verbosity=0)
    counts = demo_step(rng=random.Random(7), users=demo_users_ensure(), contracts=100)

    assert set(Opportunity.objects.values_list("stage", flat=True)) == set(OpportunityStage.values)
    assert counts["won"] > 20 and counts["lost"] > 20 and Activity.objects.exists()
    two_years_ago = timezone.now() - datetime.timedelta(days=731)
    closed = Opportunity.objects.filter(stage__in=["won", "lost"])
    assert not closed.filter(closed_at__lt=two_years_ago).exists()
    assert closed.filter(closed_at__lt=timezone.now() - datetime.timedelta(days=365)).exists()
    assert not Opportunity.objects.filter(stage="lost", lost_reason__isnull=True).exists()
    for deal in Opportunity.objects.order_by("?")[:30]:
        changes = list(deal.stage_changes.order_by("changed_at", "id"))
        assert changes[0].from_stage == "" and changes[-1].to_stage == deal.stage
        assert changes[-1].changed_at == deal.stage_entered_at
        spent = deal.stage_changes.aggregate(total=Sum("seconds_in_from"))["total"] or 0
        assert abs(spent - (deal.stage_entered_at - deal.created_at).total_seconds()) < len(changes)
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_stage == before.to_stage
    assert (
        AuditEvent.objects.filter(action="demo.pipeline_seeded").get().extra["opportunities"] == counts["opportunities"]
    )
    assert audit_chain_verify() is None
