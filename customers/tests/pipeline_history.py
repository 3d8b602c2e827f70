"""Closed and open deals of the past, with their whole stage history, for tests that need
two years of pipeline (the models of crm.insight): written through the demo's own loader,
`demo_pipeline_load`, the path `seed_demo` takes (the workflow services stamp "now")."""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.core.tests.factories import UserFactory
from customers.choices import OPEN_STAGES, OpportunityStage
from customers.demo_pipeline import DemoDeal, demo_pipeline_load
from customers.models import LostReason


def deal(customer, *, won, source, created_days_ago, closed_days_ago=None, stages=2, amount=50_000, now=None):
    """A deal through `stages` open stages; closed (won or lost) `closed_days_ago`, or open."""
    now = now or timezone.now()
    created = now - datetime.timedelta(days=created_days_ago)
    end = now - datetime.timedelta(days=closed_days_ago if closed_days_ago is not None else 1)
    visited = list(OPEN_STAGES[:stages])
    final = [] if closed_days_ago is None else [OpportunityStage.WON if won else OpportunityStage.LOST]
    path_stages = visited + final
    step = (end - created) / max(len(path_stages) - 1, 1)
    path = [(stage, created + step * n) for n, stage in enumerate(path_stages)]
    lost = not won and closed_days_ago is not None
    return DemoDeal(
        customer_id=customer.pk,
        owner_id=customer.owner_id,
        title="Deal",
        amount=Decimal(amount),
        currency="CNY",
        source=source,
        created_at=created,
        path=path,
        lost_reason_id=LostReason.objects.order_by("pk").values_list("pk", flat=True).first() if lost else None,
        updated_at=path[-1][1],
        expected_close_date=timezone.localdate() + datetime.timedelta(days=30),
    )


def deals_load(deals) -> dict:
    admin = get_user_model().objects.filter(username="history_admin").first() or UserFactory(
        username="history_admin", is_superuser=True, is_staff=True
    )
    return demo_pipeline_load(deals=deals, admin=admin, seed=0)
