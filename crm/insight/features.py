"""What the models learn from, read from the database as arrays.

Every feature of a row is what was known at that row's moment (a deal's snapshot, a
customer's cut-off date): activities, orders and past deals after it are never counted.
"""

import bisect
import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.choices import CLOSED_STAGES, OPEN_STAGES, OpportunitySource, OpportunityStage
from customers.models import Activity, Interaction, Opportunity, OpportunityStageChange, StageProbability
from orders.choices import OrderStatus
from orders.models import Order

DAY = 86400.0
#: Orders that were placed (a draft or a cancelled order is nobody's purchase).
NOT_PLACED = [OrderStatus.DRAFT, OrderStatus.CANCELLED]
HORIZON_DAYS = 90

WIN_NUMERIC = {
    "age_days": _("Age of the deal (days)"),
    "days_in_stage": _("Days in the current stage"),
    "log_amount": _("Amount"),
    "activities": _("Activities and interactions logged"),
    # Rates and counts over a fixed window, never running totals: a model learnt on the
    # first years must read the same numbers today, when every customer has more history.
    "customer_win_rate": _("Share of earlier deals with this customer that were won"),
    "customer_orders": _("Orders the customer placed in the year before"),
}
WIN_FEATURES = (
    list(WIN_NUMERIC)
    + [f"stage:{stage}" for stage in OPEN_STAGES]
    + [f"source:{source}" for source in OpportunitySource.values]
)

#: Nothing that grows with the calendar (tenure, orders ever): the model learns at earlier
#: cut-offs and scores today, so a feature must mean the same at both.
NEXT_ORDER_FEATURES = ["recency_days", "orders_365", "value_365", "mean_gap_days", "overdue", "days_until_due"]
NO_GAP_DAYS = 365.0


def _days(delta: datetime.timedelta) -> float:
    return max(delta.total_seconds(), 0.0) / DAY


def _count_before(times: list, moment) -> int:
    return bisect.bisect_left(times, moment)


# --- Orders -----------------------------------------------------------------------------


@dataclass
class OrderHistory:
    """Each customer's placed orders, by date: `{customer id: ([dates], [totals])}`."""

    by_customer: dict[int, tuple[list[datetime.date], list[float]]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "OrderHistory":
        dates: dict[int, list] = defaultdict(list)
        totals: dict[int, list] = defaultdict(list)
        rows = (
            Order.objects.exclude(status__in=NOT_PLACED)
            .order_by("customer_id", "order_date", "id")
            .values_list("customer_id", "order_date", "total")
        )
        for customer_id, day, total in rows.iterator(chunk_size=5000):
            dates[customer_id].append(day)
            totals[customer_id].append(float(total))
        return cls({pk: (dates[pk], totals[pk]) for pk in dates})

    def first_date(self) -> datetime.date | None:
        firsts = [dates[0] for dates, _totals in self.by_customer.values() if dates]
        return min(firsts) if firsts else None

    def rfm(self, today: datetime.date) -> tuple[list[int], np.ndarray]:
        """Customers with orders, and their [days since the last order, orders, value]."""
        ids, rows = [], []
        for pk, (dates, totals) in sorted(self.by_customer.items()):
            ids.append(pk)
            rows.append([max((today - dates[-1]).days, 0), len(dates), sum(totals)])
        return ids, np.array(rows, dtype=float).reshape(-1, 3)

    def snapshot(self, cutoff: datetime.date, customer_ids=None) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Customers with an order before `cutoff`: their features then, and whether they
        ordered within the next 90 days (1) or not (0)."""
        ids, rows, labels = [], [], []
        year_before = cutoff - datetime.timedelta(days=365)
        horizon = cutoff + datetime.timedelta(days=HORIZON_DAYS)
        for pk, (dates, totals) in sorted(self.by_customer.items()):
            if customer_ids is not None and pk not in customer_ids:
                continue
            before = bisect.bisect_left(dates, cutoff)
            if not before:
                continue
            year = bisect.bisect_left(dates, year_before)
            recency = (cutoff - dates[before - 1]).days
            gap = (dates[before - 1] - dates[0]).days / (before - 1) if before > 1 else NO_GAP_DAYS
            ids.append(pk)
            rows.append(
                [
                    recency,
                    math.log1p(before - year),
                    math.log1p(sum(totals[year:before])),
                    gap,
                    # How far past their usual interval: above 1, an order is due.
                    min(recency / max(gap, 1.0), 10.0),
                    gap - recency,
                ]
            )
            labels.append(int(bisect.bisect_left(dates, horizon) > before))
        return ids, np.array(rows, dtype=float).reshape(-1, len(NEXT_ORDER_FEATURES)), np.array(labels, dtype=int)


# --- Deals ------------------------------------------------------------------------------


def stage_defaults() -> dict[str, float]:
    """The per-stage default probability (the baseline), 0..1."""
    return {
        stage: probability / 100 for stage, probability in StageProbability.objects.values_list("stage", "probability")
    }


@dataclass
class WinRows:
    x: np.ndarray
    y: np.ndarray
    baseline: np.ndarray
    moments: list[datetime.datetime]
    closed_at: list[datetime.datetime]
    opportunity_ids: list[int]


class DealHistory:
    """Everything the deal features count, loaded once: each deal's activities and
    interactions, each customer's closed deals and orders, by time."""

    def __init__(self, orders: OrderHistory | None = None):
        self.touches: dict[int, list] = defaultdict(list)
        for opportunity_id, moment in Activity.objects.filter(opportunity__isnull=False).values_list(
            "opportunity_id", "created_at"
        ):
            self.touches[opportunity_id].append(moment)
        for opportunity_id, moment in Interaction.objects.filter(opportunity__isnull=False).values_list(
            "opportunity_id", "occurred_at"
        ):
            self.touches[opportunity_id].append(moment)
        for moments in self.touches.values():
            moments.sort()
        self.closed: dict[int, dict[str, list]] = defaultdict(lambda: {"won": [], "lost": []})
        for customer_id, stage, closed_at in (
            Opportunity.objects.filter(stage__in=CLOSED_STAGES, closed_at__isnull=False)
            .order_by("closed_at")
            .values_list("customer_id", "stage", "closed_at")
        ):
            self.closed[customer_id]["won" if stage == OpportunityStage.WON else "lost"].append(closed_at)
        self.orders = orders or OrderHistory.load()
        self.defaults = stage_defaults()

    def features(self, *, opportunity, stage: str, entered: datetime.datetime, moment: datetime.datetime) -> list:
        history = self.closed.get(opportunity.customer_id, {"won": [], "lost": []})
        won, lost = _count_before(history["won"], moment), _count_before(history["lost"], moment)
        order_dates = self.orders.by_customer.get(opportunity.customer_id, ([], []))[0]
        day = timezone.localtime(moment).date()
        orders_year = bisect.bisect_left(order_dates, day) - bisect.bisect_left(
            order_dates, day - datetime.timedelta(days=365)
        )
        numeric = [
            _days(moment - opportunity.created_at),
            _days(moment - entered),
            math.log1p(float(opportunity.amount)),
            _count_before(self.touches.get(opportunity.pk, []), moment),
            (won + 1) / (won + lost + 2),  # smoothed: a new customer reads as even odds
            math.log1p(orders_year),
        ]
        stages = [float(stage == s) for s in OPEN_STAGES]
        sources = [float(opportunity.source == s) for s in OpportunitySource.values]
        return numeric + stages + sources

    def baseline(self, stage: str) -> float:
        return self.defaults.get(stage, 0.0)

    def training_rows(self) -> WinRows:
        """One row per open stage each closed deal went through, seen half-way through its
        stay there (as an open deal is, on average, when it is scored), labelled won or lost."""
        deals = {
            deal.pk: deal
            for deal in Opportunity.objects.filter(stage__in=CLOSED_STAGES, closed_at__isnull=False).only(
                "id", "customer_id", "amount", "source", "created_at", "closed_at", "stage"
            )
        }
        changes = defaultdict(list)
        for opportunity_id, to_stage, changed_at in (
            OpportunityStageChange.objects.filter(opportunity_id__in=deals)
            .order_by("opportunity_id", "changed_at", "id")
            .values_list("opportunity_id", "to_stage", "changed_at")
        ):
            changes[opportunity_id].append((to_stage, changed_at))
        x, y, base, moments, closed_at, ids = [], [], [], [], [], []
        for pk, deal in deals.items():
            path = changes.get(pk) or []
            for (stage, entered), (_next, left) in zip(path, path[1:], strict=False):
                if stage not in OPEN_STAGES or left <= entered:
                    continue
                moment = entered + (left - entered) / 2
                x.append(self.features(opportunity=deal, stage=stage, entered=entered, moment=moment))
                y.append(int(deal.stage == OpportunityStage.WON))
                base.append(self.baseline(stage))
                moments.append(moment)
                closed_at.append(deal.closed_at)
                ids.append(pk)
        return WinRows(
            np.array(x, dtype=float).reshape(-1, len(WIN_FEATURES)),
            np.array(y, dtype=int),
            np.array(base, dtype=float),
            moments,
            closed_at,
            ids,
        )

    def open_rows(self, now: datetime.datetime) -> tuple[list[int], np.ndarray]:
        deals = list(
            Opportunity.objects.open()
            .order_by("id")
            .only("id", "customer_id", "amount", "source", "created_at", "stage", "stage_entered_at")
        )
        x = [
            self.features(opportunity=deal, stage=deal.stage, entered=deal.stage_entered_at, moment=now)
            for deal in deals
        ]
        return [deal.pk for deal in deals], np.array(x, dtype=float).reshape(-1, len(WIN_FEATURES))
