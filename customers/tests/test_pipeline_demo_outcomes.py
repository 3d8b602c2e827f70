"""The demo pipeline's closed deals are won or lost for reasons the win-probability model can
learn (source, size, follow-ups, cycle time), with chance left: checked without the database."""

import datetime
from collections import defaultdict

from customers.choices import ActivityStatus, OpportunitySource, OpportunityStage
from customers.demo_pipeline import DemoPipeline, _rows

NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def closed_deals(count=3000, seed=5):
    pipeline = DemoPipeline(seed=seed, customers={1: 10, 2: 11}, now=NOW, lost_reason_ids=[1])
    return list(pipeline.closed(count))


def win_rate(deals):
    return sum(deal.stage == OpportunityStage.WON for deal in deals) / len(deals)


def test_outcomes_follow_source_followups_and_cycle_with_chance_left():
    deals = closed_deals()
    by_source = defaultdict(list)
    for deal in deals:
        by_source[deal.source].append(deal)
    assert win_rate(by_source[OpportunitySource.REFERRAL]) > win_rate(by_source[OpportunitySource.OUTBOUND]) + 0.15
    worked = [deal for deal in deals if len(deal.activities) >= 5]
    idle = [deal for deal in deals if len(deal.activities) <= 1]
    assert win_rate(worked) > win_rate(idle) + 0.15
    quick = [deal for deal in deals if (deal.path[-1][1] - deal.created_at).days < 40]
    slow = [deal for deal in deals if (deal.path[-1][1] - deal.created_at).days > 110]
    assert win_rate(quick) > win_rate(slow)
    assert 0.2 < win_rate(deals) < 0.5  # still mostly lost, as pipelines are
    assert win_rate(by_source[OpportunitySource.OUTBOUND]) > 0.05 and win_rate(worked) < 0.95  # never certain


def test_a_closed_deals_followups_are_done_inside_its_life():
    for deal in closed_deals(200):
        _opportunity, _changes, activities = _rows(deal, 1)
        for row in activities:
            assert row[7] == ActivityStatus.DONE and deal.created_at <= row[8] <= deal.path[-1][1]
