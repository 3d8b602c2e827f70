"""The demo pipeline: opportunities with a two-year history of won and lost deals, the open
deals in every stage, their stage history and the follow-up activities, bulk-loaded.

Like the customers (customers/demo.py), the rows are COPYed in one transaction and the load
is recorded by one audit event (`demo.pipeline_seeded`, with the counts), so the trail says
exactly what put them there. Each deal's stage history is whole and consistent with the
deal: a first row when it entered its first stage, one row per move with the seconds spent
in the stage it left, the deal's `stage_entered_at` the time of its last move and, for a
closed deal, `closed_at` that same time. The same seed gives the same pipeline (times are
relative to `now`). The benchmark loads 100,000 open deals through the same generator.
"""

import datetime
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction

from crm.core.audit import audit_record
from crm.core.bulk import batches, copy_rows, ids_reserve
from customers.choices import OPEN_STAGES, ActivityKind, ActivityStatus, OpportunitySource, OpportunityStage
from customers.models import Activity, LostReason, Opportunity, OpportunityStageChange

BATCH_SIZE = 5000
DAY = 86400

TITLES = [
    "ERP rollout",
    "Warehouse robots",
    "Cold-chain sensors",
    "Fleet telematics",
    "Annual maintenance",
    "Cloud migration",
    "Packaging line upgrade",
    "Solar rooftop",
    "Training programme",
    "Spare parts framework",
    "POS terminals",
    "Data platform",
    "仓储自动化",
    "年度维保服务",
    "生产线改造",
    "门店收银系统",
]
SOURCES = [
    (OpportunitySource.REFERRAL, 18),
    (OpportunitySource.WEB, 22),
    (OpportunitySource.CAMPAIGN, 15),
    (OpportunitySource.EVENT, 12),
    (OpportunitySource.PARTNER, 10),
    (OpportunitySource.OUTBOUND, 13),
    (OpportunitySource.EXISTING, 10),
]
#: How a closed deal's source moves its odds of being won (log-odds): a referral or an
#: existing customer trusts you already, a cold call or a web form less so.
SOURCE_ODDS = {
    OpportunitySource.REFERRAL: 0.9,
    OpportunitySource.EXISTING: 0.8,
    OpportunitySource.PARTNER: 0.3,
    OpportunitySource.EVENT: 0.0,
    OpportunitySource.CAMPAIGN: -0.2,
    OpportunitySource.WEB: -0.5,
    OpportunitySource.OUTBOUND: -0.9,
}
#: Follow-ups logged on a closed deal (0 to 8), and what each adds to its odds.
TOUCH_WEIGHTS = [14, 14, 16, 16, 12, 10, 8, 6, 4]
TOUCH_ODDS = 0.3
#: A big deal is harder to win (per tenfold of the amount above 50,000) …
AMOUNT_ODDS = -0.6
#: … and so is one that drags on (per 30 days from opening to closing).
CYCLE_ODDS = -0.45
WIN_BASE = -0.3
TOUCH_SUBJECTS = ["Discovery call", "Site visit", "Demo", "Send the proposal", "Pricing review", "技术交流", "商务洽谈"]
# Where open deals stand: the funnel narrows.
OPEN_WEIGHTS = [35, 30, 20, 15]
NEXT_STEPS = {
    OpportunityStage.PROSPECTING: "Call to qualify the need",
    OpportunityStage.QUALIFICATION: "Confirm budget, decision makers and timeline",
    OpportunityStage.PROPOSAL: "Send the proposal and book a review",
    OpportunityStage.NEGOTIATION: "Agree the final terms",
}

OPPORTUNITY_COLUMNS = [
    "id",
    "customer_id",
    "title",
    "owner_id",
    "amount",
    "currency",
    "expected_close_date",
    "source",
    "next_step",
    "next_step_date",
    "stage",
    "probability_override",
    "lost_reason_id",
    "stage_entered_at",
    "closed_at",
    "created_at",
    "updated_at",
]
CHANGE_COLUMNS = ["opportunity_id", "from_stage", "to_stage", "changed_by_id", "changed_at", "seconds_in_from", "note"]
ACTIVITY_COLUMNS = [
    "kind",
    "subject",
    "notes",
    "due_at",
    "assignee_id",
    "customer_id",
    "opportunity_id",
    "status",
    "done_at",
    "outcome",
    "created_by_id",
    "created_at",
    "updated_at",
]


@dataclass
class DemoDeal:
    customer_id: int
    owner_id: int
    title: str
    amount: Decimal
    currency: str
    source: str
    created_at: datetime.datetime
    # [(stage, entered at)], in order; the last is where the deal stands.
    path: list[tuple[str, datetime.datetime]]
    lost_reason_id: int | None = None
    probability_override: int | None = None
    updated_at: datetime.datetime | None = None
    expected_close_date: datetime.date | None = None
    # [(kind, subject, due, done at or None)]: a done follow-up was logged when it was done.
    activities: list[tuple] = field(default_factory=list)

    @property
    def stage(self) -> str:
        return self.path[-1][0]


class DemoPipeline:
    """Deals for the given customers ({customer id: owner id}), reproducible from the seed."""

    def __init__(self, *, seed: int, customers: dict[int, int], now: datetime.datetime, lost_reason_ids: list[int]):
        self.rng = random.Random(seed)
        self.customers = sorted(customers.items())
        self.now = now
        self.lost_reason_ids = lost_reason_ids

    def _amount(self) -> Decimal:
        # Most deals are modest, a few are large: a log-uniform spread from 5,000 to 2,000,000.
        return Decimal(round(5000 * (400 ** self.rng.random()), -2)).quantize(Decimal("0.01"))

    def _deal(self, created_at: datetime.datetime) -> DemoDeal:
        customer_id, owner_id = self.rng.choice(self.customers)
        return DemoDeal(
            customer_id=customer_id,
            owner_id=owner_id,
            title=self.rng.choice(TITLES),
            amount=self._amount(),
            currency="USD" if self.rng.random() < 0.08 else "CNY",
            source=self.rng.choices([s for s, _w in SOURCES], [w for _s, w in SOURCES])[0],
            created_at=created_at,
            path=[],
        )

    def _walk(self, deal: DemoDeal, stages: list[str], end: datetime.datetime) -> None:
        """Spread the moves through `stages` between the deal's creation and `end`, when it
        reaches the last one."""
        span = max((end - deal.created_at).total_seconds(), 3600)
        cuts = [*sorted(self.rng.random() for _stage in stages[2:]), 1.0]
        deal.path = [(stages[0], deal.created_at)]
        for stage, cut in zip(stages[1:], cuts[-len(stages[1:]) :] if stages[1:] else [], strict=True):
            deal.path.append((stage, deal.created_at + datetime.timedelta(seconds=int(span * cut))))

    def closed(self, count: int):
        """Won and lost deals closed over the last two years (about a third won).

        Whether a deal is won depends, as in a real pipeline, on what the win-probability
        model reads (with plenty of chance left): its source, its size, how much it was
        worked (the follow-ups logged on it) and how long it took (`SOURCE_ODDS`, ...)."""
        for _number in range(count):
            closed_at = self.now - datetime.timedelta(seconds=self.rng.randrange(2 * DAY, 730 * DAY))
            cycle = self.rng.randrange(7 * DAY, 150 * DAY)
            deal = self._deal(closed_at - datetime.timedelta(seconds=cycle))
            touches = self.rng.choices(range(len(TOUCH_WEIGHTS)), TOUCH_WEIGHTS)[0]
            odds = (
                WIN_BASE
                + SOURCE_ODDS[deal.source]
                + TOUCH_ODDS * touches
                + AMOUNT_ODDS * math.log10(float(deal.amount) / 50000)
                + CYCLE_ODDS * cycle / (30 * DAY)
            )
            if self.rng.random() < 1 / (1 + math.exp(-odds)):
                reached = list(OPEN_STAGES[: self.rng.choice([3, 4, 4, 4])])
                self._walk(deal, [*reached, OpportunityStage.WON], closed_at)
            else:
                reached = list(OPEN_STAGES[: self.rng.randint(1, 4)])
                self._walk(deal, [*reached, OpportunityStage.LOST], closed_at)
                deal.lost_reason_id = self.rng.choice(self.lost_reason_ids)
            for _touch in range(touches):
                done = deal.created_at + (closed_at - deal.created_at) * self.rng.random()
                kind = self.rng.choice([ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL])
                deal.activities.append((kind, self.rng.choice(TOUCH_SUBJECTS), done, done))
            deal.updated_at = closed_at
            deal.expected_close_date = self._local_date(closed_at)
            yield deal

    def open(self, count: int, *, activities: bool = True):
        """Deals still being worked, in every open stage; some idle for weeks."""
        for _number in range(count):
            deal = self._deal(self.now - datetime.timedelta(seconds=self.rng.randrange(DAY, 180 * DAY)))
            depth = self.rng.choices(range(1, 5), OPEN_WEIGHTS)[0]
            last_move = deal.created_at + (self.now - deal.created_at) * self.rng.uniform(0.3, 0.95)
            self._walk(deal, list(OPEN_STAGES[:depth]), last_move)
            touched = last_move + (self.now - last_move) * self.rng.random()
            deal.updated_at = touched if self.rng.random() < 0.7 else last_move
            deal.expected_close_date = self._local_date(self.now) + datetime.timedelta(days=self.rng.randint(7, 150))
            if self.rng.random() < 0.1:
                deal.probability_override = self.rng.choice([15, 30, 40, 60, 80, 90])
            if activities and self.rng.random() < 0.6:
                due = self.now + datetime.timedelta(seconds=self.rng.randrange(-3 * DAY, 10 * DAY))
                kind = self.rng.choice([ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL, ActivityKind.TODO])
                deal.activities.append(
                    (kind, NEXT_STEPS[deal.stage], due.replace(minute=0, second=0, microsecond=0), None)
                )
            yield deal

    @staticmethod
    def _local_date(moment: datetime.datetime) -> datetime.date:
        from django.utils import timezone

        return timezone.localtime(moment).date()


def _rows(deal: DemoDeal, opportunity_id: int):
    stage, entered = deal.path[-1]
    closed = stage in (OpportunityStage.WON, OpportunityStage.LOST)
    is_open = not closed
    opportunity = (
        opportunity_id,
        deal.customer_id,
        deal.title,
        deal.owner_id,
        deal.amount,
        deal.currency,
        deal.expected_close_date,
        deal.source,
        NEXT_STEPS.get(stage, "") if is_open else "",
        deal.expected_close_date - datetime.timedelta(days=3) if is_open else None,
        stage,
        deal.probability_override,
        deal.lost_reason_id,
        entered,
        entered if closed else None,
        deal.created_at,
        max(deal.updated_at or entered, entered),
    )
    changes = [(opportunity_id, "", deal.path[0][0], deal.owner_id, deal.path[0][1], None, "")]
    for (before, left_at), (after, moved_at) in zip(deal.path, deal.path[1:], strict=False):
        seconds = int((moved_at - left_at).total_seconds())
        changes.append((opportunity_id, before, after, deal.owner_id, moved_at, seconds, ""))
    activities = []
    for kind, subject, due, done in deal.activities:
        status, logged = (ActivityStatus.DONE, done) if done else (ActivityStatus.OPEN, entered)
        activities.append(
            (kind, subject, "", due, deal.owner_id, deal.customer_id, opportunity_id, status, done, "")
            + (deal.owner_id, logged, logged)
        )
    return opportunity, changes, activities


@transaction.atomic
def demo_pipeline_load(*, deals, admin, seed: int, progress=None) -> dict:
    """COPY the deals with their stage history and activities in one transaction, recorded by
    one `demo.pipeline_seeded` event; returns the counts."""
    counts = {"opportunities": 0, "won": 0, "lost": 0, "open": 0, "stage_changes": 0, "activities": 0}
    tables = {model: model._meta.db_table for model in (Opportunity, OpportunityStageChange, Activity)}
    with connection.cursor() as cursor:
        for batch in batches(deals, BATCH_SIZE):
            ids = ids_reserve(cursor, tables[Opportunity], len(batch))
            opportunities, changes, activities = [], [], []
            for opportunity_id, deal in zip(ids, batch, strict=True):
                row, deal_changes, deal_activities = _rows(deal, opportunity_id)
                opportunities.append(row)
                changes += deal_changes
                activities += deal_activities
                counts[deal.stage if deal.stage in ("won", "lost") else "open"] += 1
            copy_rows(cursor, tables[Opportunity], OPPORTUNITY_COLUMNS, opportunities)
            copy_rows(cursor, tables[OpportunityStageChange], CHANGE_COLUMNS, changes)
            copy_rows(cursor, tables[Activity], ACTIVITY_COLUMNS, activities)
            counts["opportunities"] += len(opportunities)
            counts["stage_changes"] += len(changes)
            counts["activities"] += len(activities)
            if progress:
                progress(len(batch))
    audit_record(actor=None, action="demo.pipeline_seeded", target=admin, extra={**counts, "seed": seed})
    return counts


def demo_pipeline_seed(*, seed: int, customers: dict[int, int], now, admin, closed: int, open_: int) -> dict:
    """The demo's pipeline over these customers: `closed` won and lost deals, `open_` open ones."""
    reasons = list(LostReason.objects.filter(is_active=True).values_list("pk", flat=True))
    if not reasons:
        reasons = [LostReason.objects.create(name="No budget").pk]
    pipeline = DemoPipeline(seed=seed, customers=customers, now=now, lost_reason_ids=reasons)

    def deals():
        yield from pipeline.closed(closed)
        yield from pipeline.open(open_)

    return demo_pipeline_load(deals=deals(), admin=admin, seed=seed)
