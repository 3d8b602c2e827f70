import datetime
import random

import pytest
from django.utils import timezone

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from crm.insight.tests.history import deal, deals_load, orders_load
from customers.choices import CustomerStatus, OpportunitySource
from customers.models import StageProbability
from customers.tests.factories import CustomerFactory


@pytest.fixture
def rep(db):
    return UserFactory(username="insight_rep", role=Role.SALES_REP)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="insight_other_rep", role=Role.SALES_REP)


@pytest.fixture
def manager(db):
    return UserFactory(username="insight_manager", role=Role.SALES_MANAGER)


BUYERS = {
    # (days since the last order: from, to; days between orders; value of an order)
    "loyal": (0, 20, 20, 40_000),
    "lapsed": (380, 450, 120, 1_500),
    # Orders twice a year: just after an order, the next is far off, so a recent order
    # alone does not say "soon" (the loyal buyers' frequency does).
    "occasional": (0, 150, 150, 8_000),
}


@pytest.fixture
def buyers(rep):
    """Fifteen customers of each kind of buyer, with two years of orders."""
    today = timezone.localdate()
    customers, rows = {}, []
    rng = random.Random(7)
    for kind, (first, last, gap, value) in BUYERS.items():
        customers[kind] = []
        for n in range(15):
            customer = CustomerFactory(owner=rep, name=f"{kind} buyer {n}", status=CustomerStatus.ACTIVE)
            customers[kind].append(customer)
            day = today - datetime.timedelta(days=rng.randint(first, last))
            while day > today - datetime.timedelta(days=730):
                rows.append((customer, day, value * rng.uniform(0.9, 1.1)))
                day -= datetime.timedelta(days=gap + rng.randint(-2, 2))
    orders_load(rows, owner=rep)
    return customers


@pytest.fixture
def deal_history(rep):
    """Two years of closed deals where the source decides: referrals are nearly always won,
    web leads nearly never, whatever the stage; and one open deal of each."""

    def load(pattern=True, count=240):
        rng = random.Random(11)
        customers = [CustomerFactory(owner=rep, name=f"Deal customer {n}") for n in range(12)]
        deals = []
        for n in range(count):
            source = [OpportunitySource.REFERRAL, OpportunitySource.WEB][n % 2]
            chance = (0.9 if source == OpportunitySource.REFERRAL else 0.1) if pattern else 0.4
            closed = rng.randint(5, 700)
            deals.append(
                deal(
                    rng.choice(customers),
                    won=rng.random() < chance,
                    source=source,
                    created_days_ago=closed + rng.randint(20, 90),
                    closed_days_ago=closed,
                    stages=rng.randint(1, 4),
                )
            )
        if not pattern:
            StageProbability.objects.update(probability=40)
        deals_load(deals)
        referral = deal(customers[0], won=False, source=OpportunitySource.REFERRAL, created_days_ago=30, stages=2)
        web = deal(customers[0], won=False, source=OpportunitySource.WEB, created_days_ago=30, stages=2)
        deals_load([referral, web])
        return customers[0]

    return load
