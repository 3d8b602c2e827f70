"""Training: the one writer of the insight tables.

`model_train` fits one kind of model on the data as it stands, records the version with
its figures and its baseline's, makes it the active one and rewrites that kind's scores,
all in one transaction (a page sees the old scores or the new ones, never half). With too
little history it records a "not enough data" version and removes the kind's scores, so
the pages say so and show no number.
"""

import datetime
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record
from crm.core.workflow import audit_actor
from crm.insight import training
from crm.insight.choices import ModelKind, ModelStatus
from crm.insight.features import NEXT_ORDER_FEATURES, WIN_FEATURES, DealHistory, OrderHistory
from crm.insight.models import (
    CustomerOrderScore,
    CustomerSegment,
    CustomerSegmentMember,
    ModelVersion,
    OpportunityScore,
)
from crm.insight.selectors import estimator_load
from customers.choices import CustomerStatus
from customers.models import Customer

MIN_SEGMENT_CUSTOMERS = 20
MIN_WIN_DEALS = 40
MIN_CLASS_ROWS = 5
MIN_NEXT_ORDER_ROWS = 40
TEST_SHARE = 0.25
#: The next-order model learns from cut-offs 180, 270, 360 … days back and is judged at 90.
NEXT_ORDER_TRAIN_CUTOFFS = 6
FACTORS_SHOWN = 3
FACTOR_THRESHOLD = 0.05
_LOCK_KEY = 0x1A5197  # pg_advisory_xact_lock: one training of a kind at a time


Scorer = Callable[[ModelVersion, Any], None]


class _NotEnoughData(Exception):
    pass


@transaction.atomic
def model_train(*, actor: Any, kind: str, seed: int = 0, now: datetime.datetime | None = None) -> ModelVersion:
    """Train the model of `kind`, make it the active version and rewrite its scores."""
    kind = ModelKind(kind)
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_KEY, list(ModelKind.values).index(kind)])
    number = (ModelVersion.objects.filter(kind=kind).aggregate(n=Max("version"))["n"] or 0) + 1
    ModelVersion.objects.filter(kind=kind, is_active=True).update(is_active=False)
    version = ModelVersion(kind=kind, version=number, trained_at=now, parameters={"seed": seed})
    version.trained_by = audit_actor(actor)
    trainer = {ModelKind.SEGMENTS: _segments, ModelKind.WIN: _win, ModelKind.NEXT_ORDER: _next_order}[kind]
    _scores_clear(kind)
    try:
        scorer = trainer(version, seed=seed, now=now)
    except _NotEnoughData as error:
        version.status = ModelStatus.NOT_ENOUGH_DATA
        version.reason = str(error)
        version.save()
    else:
        version.save()
        scorer(version, estimator_load(version))
    audit_record(
        actor=audit_actor(actor),
        action="model_version.trained",
        target=version,
        extra={
            "kind": kind,
            "version": number,
            "status": version.status,
            "beats_baseline": version.beats_baseline,
            "metrics": version.metrics,
            "reason": version.reason,
        },
    )
    return version


def _scores_clear(kind: str) -> None:
    if kind == ModelKind.SEGMENTS:
        CustomerSegmentMember.objects.all().delete()
    elif kind == ModelKind.WIN:
        OpportunityScore.objects.all().delete()
    else:
        CustomerOrderScore.objects.all().delete()


def _store(version: ModelVersion, estimator: Any) -> None:
    data = pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL)
    version.estimator = data
    version.estimator_sha256 = ModelVersion.checksum(data)


def _rounded(metrics: dict) -> dict[str, Any]:
    rounded: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            value = _rounded(value)
        elif isinstance(value, float):
            value = round(value, 4)
        rounded[key] = value
    return rounded


# --- Customer segments ------------------------------------------------------------------


def _segments(version: ModelVersion, *, seed: int, now: datetime.datetime) -> Scorer:
    today = timezone.localtime(now).date()
    orders = OrderHistory.load()
    ids, rfm = orders.rfm(today)
    if len(ids) < MIN_SEGMENT_CUSTOMERS:
        raise _NotEnoughData(
            _("%(n)s customers with orders; the segments need at least %(min)s.")
            % {"n": len(ids), "min": MIN_SEGMENT_CUSTOMERS}
        )
    fit = training.segments_fit(rfm, seed=seed)
    first = orders.first_date()
    version.window_start = _midnight(first) if first else None
    version.window_end = now
    version.training_size = len(ids)
    version.metrics = _rounded(fit.metrics)
    version.beats_baseline = fit.beats_baseline
    version.parameters = {"seed": seed, "k_range": [2, 8], "features": ["recency_days", "orders", "value"]}
    _store(version, fit.estimator)

    def score(version: ModelVersion, estimator: Any) -> None:
        labels = training.segments_predict(estimator, rfm)
        centres = training.segment_centres(estimator)
        # Levels against all customers' tertiles; recency is "recent" when the days are few.
        tertiles = np.percentile(rfm, [100 / 3, 200 / 3], axis=0)
        segments = {}
        for number, centre in enumerate(centres):
            recency = 2 - training.level(centre[0], tertiles[0][0], tertiles[1][0])
            segments[number] = CustomerSegment.objects.create(
                model_version=version,
                number=number,
                recency_level=recency,
                frequency_level=training.level(centre[1], tertiles[0][1], tertiles[1][1]),
                value_level=training.level(centre[2], tertiles[0][2], tertiles[1][2]),
                size=int((labels == number).sum()),
                centre={
                    "recency_days": round(centre[0], 1),
                    "orders": round(centre[1], 2),
                    "value": round(centre[2], 2),
                },
            )
        CustomerSegmentMember.objects.bulk_create(
            [
                CustomerSegmentMember(
                    customer_id=pk, segment=segments[int(label)], segment_key=segments[int(label)].key
                )
                for pk, label in zip(ids, labels, strict=True)
            ],
            batch_size=5000,
        )

    return score


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


# --- Win probability --------------------------------------------------------------------


def _win(version: ModelVersion, *, seed: int, now: datetime.datetime) -> Scorer:
    history = DealHistory()
    rows = history.training_rows()
    deals = len(set(rows.opportunity_ids))
    if deals < MIN_WIN_DEALS:
        raise _NotEnoughData(
            _("%(n)s closed deals with a stage history; win probability needs at least %(min)s.")
            % {"n": deals, "min": MIN_WIN_DEALS}
        )
    # Time-based: learn from the deals closed first, judge on the rest (never shuffled).
    closed = np.array([moment.timestamp() for moment in rows.closed_at])
    cutoff = float(np.quantile(closed, 1 - TEST_SHARE))
    train, test = closed < cutoff, closed >= cutoff
    for name, part in ((_("training"), train), (_("held-out"), test)):
        won = int(rows.y[part].sum())
        if won < MIN_CLASS_ROWS or int(part.sum()) - won < MIN_CLASS_ROWS:
            raise _NotEnoughData(
                _("Too few won or lost deals in the %(part)s period (%(won)s won, %(lost)s lost).")
                % {"part": name, "won": won, "lost": int(part.sum()) - won}
            )
    fit = training.win_fit(rows.x[train], rows.y[train], rows.x[test], rows.y[test], rows.baseline[test], seed=seed)
    cutoff_at = datetime.datetime.fromtimestamp(cutoff, tz=datetime.UTC)
    version.window_start = min(rows.moments)
    version.window_end = max(rows.closed_at)
    version.training_size = int(train.sum())
    version.test_size = int(test.sum())
    version.metrics = _rounded(fit.metrics)
    version.beats_baseline = fit.beats_baseline
    version.parameters = {
        "seed": seed,
        "estimator": "logistic regression, sigmoid-calibrated on 3 folds",
        "features": WIN_FEATURES,
        "split": "by close date",
        "held_out_from": cutoff_at.isoformat(),
        "baseline": "the per-stage default probability",
    }
    _store(version, {**training.win_final(rows.x, rows.y, seed=seed), "features": WIN_FEATURES})

    def score(version: ModelVersion, estimator: Any) -> None:
        ids, x = history.open_rows(now)
        if not ids:
            return
        probabilities = estimator["model"].predict_proba(x)[:, 1]
        scaled, pushes = training.contributions(estimator["explainer"], x)
        OpportunityScore.objects.bulk_create(
            [
                OpportunityScore(
                    opportunity_id=pk,
                    model_version=version,
                    probability=float(p),
                    factors=_factors(row, z, push),
                    scored_at=now,
                )
                for pk, p, row, z, push in zip(ids, probabilities, x, scaled, pushes, strict=True)
            ],
            batch_size=5000,
        )

    return score


def _factors(row: np.ndarray, z: np.ndarray, push: np.ndarray) -> list[dict]:
    """The features that pushed this deal's chance most, for the page to put in words:
    a stage or source only when it is the deal's own."""
    chosen = []
    for index in np.argsort(-np.abs(push)):
        name = WIN_FEATURES[index]
        if abs(push[index]) < FACTOR_THRESHOLD or (":" in name and row[index] == 0):
            continue
        chosen.append(
            {
                "feature": name,
                "high": bool(z[index] > 0),
                "raises": bool(push[index] > 0),
                "weight": round(float(push[index]), 3),
            }
        )
        if len(chosen) == FACTORS_SHOWN:
            break
    return chosen


# --- Next-order likelihood --------------------------------------------------------------


def _next_order(version: ModelVersion, *, seed: int, now: datetime.datetime) -> Scorer:
    today = timezone.localtime(now).date()
    orders = OrderHistory.load()
    test_cutoff = today - datetime.timedelta(days=90)
    _ids, x_test, y_test = orders.snapshot(test_cutoff)
    parts = [
        orders.snapshot(test_cutoff - datetime.timedelta(days=90 * n)) for n in range(1, 1 + NEXT_ORDER_TRAIN_CUTOFFS)
    ]
    x_train = np.vstack([x for _i, x, _y in parts])
    y_train = np.concatenate([y for _i, _x, y in parts])
    if len(y_train) < MIN_NEXT_ORDER_ROWS or len(y_test) < MIN_CLASS_ROWS * 2:
        raise _NotEnoughData(
            _("%(n)s customer histories before %(day)s; the next-order model needs at least %(min)s.")
            % {"n": len(y_train), "day": test_cutoff, "min": MIN_NEXT_ORDER_ROWS}
        )
    for name, y in ((_("training"), y_train), (_("held-out"), y_test)):
        if min(int(y.sum()), int(len(y) - y.sum())) < MIN_CLASS_ROWS:
            raise _NotEnoughData(
                _("Too few customers who ordered, or who did not, in the %(part)s period.") % {"part": name}
            )
    fit = training.next_order_fit(x_train, y_train, x_test, y_test, seed=seed)
    first = orders.first_date()
    version.window_start = _midnight(first) if first else None
    version.window_end = now
    version.training_size = len(y_train)
    version.test_size = len(y_test)
    version.metrics = _rounded(fit.metrics)
    version.beats_baseline = fit.beats_baseline
    version.parameters = {
        "seed": seed,
        "estimator": "logistic regression",
        "features": NEXT_ORDER_FEATURES,
        "horizon_days": 90,
        "held_out_cutoff": test_cutoff.isoformat(),
        "training_cutoffs": [(test_cutoff - datetime.timedelta(days=90 * n)).isoformat() for n in range(1, 7)],
        "baseline": "logistic regression on the days since the last order alone",
    }
    x_all = np.vstack([x_train, x_test])
    y_all = np.concatenate([y_train, y_test])
    _store(version, training.next_order_final(x_all, y_all, seed=seed))

    def score(version: ModelVersion, estimator: Any) -> None:
        active = set(Customer.objects.filter(status=CustomerStatus.ACTIVE).values_list("pk", flat=True))
        ids, x, _labels = orders.snapshot(today + datetime.timedelta(days=1), customer_ids=active)
        if not ids:
            return
        probabilities = estimator.predict_proba(x)[:, 1]
        CustomerOrderScore.objects.bulk_create(
            [
                CustomerOrderScore(customer_id=pk, model_version=version, probability=float(p), scored_at=now)
                for pk, p in zip(ids, probabilities, strict=True)
            ],
            batch_size=5000,
        )

    return score
