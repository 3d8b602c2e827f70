"""Reads of the models and their scores, always from what the reader may see.

Pages read rows the training wrote; nothing here trains or loads a model, except
`estimator_load`, which the training uses to score from the bytes it stored (checking
their SHA-256 first, so a changed or truncated model is refused, never unpickled).
"""

import pickle
from typing import Any

from django.db.models import DecimalField, Exists, F, FloatField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Round
from django.utils.translation import gettext as _

from crm.core.exceptions import DomainError
from crm.core.types import Viewer
from crm.insight.choices import ModelKind
from crm.insight.features import WIN_NUMERIC
from crm.insight.models import (
    CustomerOrderScore,
    CustomerSegment,
    CustomerSegmentMember,
    ModelVersion,
    OpportunityScore,
)
from customers.choices import OpportunitySource, OpportunityStage
from customers.models import Customer, Opportunity, StageProbability

NOT_ENOUGH_DATA = "not_enough_data"
NO_MODEL = "no_model"
BASELINE = "baseline"
SCORED = "scored"
UNSCORED = "unscored"


def estimator_load(version: ModelVersion) -> Any:
    """The fitted model of `version`, after checking its bytes against their SHA-256."""
    data = bytes(version.estimator or b"")
    if not data or ModelVersion.checksum(data) != version.estimator_sha256:
        raise DomainError(
            _("The stored model %(version)s does not match its checksum; retrain it.") % {"version": version}
        )
    return pickle.loads(data)  # noqa: S301 - our own bytes, checked against the hash we stored


def active_version(kind: str) -> ModelVersion | None:
    return ModelVersion.objects.defer("estimator").filter(kind=kind, is_active=True).first()


def model_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.defer("estimator").order_by("kind", "-version")


# --- Segments ---------------------------------------------------------------------------


def segment_list() -> list[CustomerSegment]:
    """The active version's segments, largest first (empty without one)."""
    version = active_version(ModelKind.SEGMENTS)
    if version is None or not version.usable:
        return []
    return list(version.segments.order_by("-size", "number"))


def segment_choices() -> list[tuple[str, str]]:
    """(key, label) of each segment of the active version, for filters and campaigns."""
    seen: dict[str, str] = {}
    for segment in segment_list():
        seen.setdefault(segment.key, segment.label)
    return sorted(seen.items(), key=lambda item: item[1])


def customers_in_segment(*, user: Viewer, key: str, queryset: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """The visible customers (of `queryset`, else all) in the segment named `key`: what a
    campaign targets."""
    base = queryset if queryset is not None else Customer.objects.all()
    members = CustomerSegmentMember.objects.filter(customer=OuterRef("pk"), segment_key=key)
    return base.filter(pk__in=Customer.objects.visible_to(user).values("pk")).filter(Exists(members))


def segment_labels(*, user: Viewer, customer_ids: list[int]) -> dict[int, str]:
    """{customer id: segment label} for the visible customers among `customer_ids`."""
    rows = (
        CustomerSegmentMember.objects.filter(
            customer_id__in=customer_ids, customer__in=Customer.objects.visible_to(user)
        )
        .select_related("segment")
        .only("customer_id", "segment__recency_level", "segment__frequency_level", "segment__value_level")
    )
    return {row.customer_id: row.segment.label for row in rows}


def customer_insight(*, user: Viewer, customer: Customer) -> dict[str, Any] | None:
    """The customer's segment and next-order likelihood, or None if the reader may not see
    the customer. Each part says why it shows no number when it has none."""
    member = CustomerSegmentMember.objects.filter(customer=OuterRef("pk"))
    score = CustomerOrderScore.objects.filter(customer=OuterRef("pk"))
    # One query for what the reader may see of the customer, one for the active versions.
    row = (
        Customer.objects.visible_to(user)
        .filter(pk=customer.pk)
        .annotate(
            recency_level=Subquery(member.values("segment__recency_level")[:1]),
            frequency_level=Subquery(member.values("segment__frequency_level")[:1]),
            value_level=Subquery(member.values("segment__value_level")[:1]),
            order_probability=Subquery(score.values("probability")[:1]),
        )
        .values("recency_level", "frequency_level", "value_level", "order_probability")
        .first()
    )
    if row is None:
        return None
    versions = {
        version.kind: version
        for version in ModelVersion.objects.defer("estimator").filter(
            is_active=True, kind__in=[ModelKind.SEGMENTS, ModelKind.NEXT_ORDER]
        )
    }
    segments, orders = versions.get(ModelKind.SEGMENTS), versions.get(ModelKind.NEXT_ORDER)
    has_segment = row["recency_level"] is not None and segments is not None and segments.usable
    label = (
        CustomerSegment(
            recency_level=row["recency_level"],
            frequency_level=row["frequency_level"],
            value_level=row["value_level"],
        ).label
        if has_segment
        else None
    )
    has_score = row["order_probability"] is not None and orders is not None and orders.usable
    status = _status(orders, has_score)
    return {
        "segment": {"status": _status(segments, has_segment), "version": segments, "label": label},
        "next_order": {
            "status": status,
            "version": orders,
            "probability": row["order_probability"] if status == SCORED else None,
        },
    }


def _status(version: ModelVersion | None, has_row: bool, *, needs_beating: bool = False) -> str:
    if version is None:
        return NO_MODEL
    if not version.usable:
        return NOT_ENOUGH_DATA
    if needs_beating and not version.beats_baseline:
        return BASELINE
    return SCORED if has_row else UNSCORED


# --- Win probability --------------------------------------------------------------------


def win_model_in_use() -> ModelVersion | None:
    """The active win-probability model when it beat the per-stage default, else None."""
    version = active_version(ModelKind.WIN)
    return version if version and version.usable and version.beats_baseline else None


def factor_text(factor: dict) -> str:
    """One factor in plain words: what it is about the deal, and which way it pushes."""
    name = factor.get("feature", "")
    if name.startswith("stage:"):
        stage = name.split(":", 1)[1]
        what = _("In the %(stage)s stage") % {"stage": OpportunityStage(stage).label}
    elif name.startswith("source:"):
        source = name.split(":", 1)[1]
        what = _("Came from %(source)s") % {"source": OpportunitySource(source).label}
    else:
        label = WIN_NUMERIC.get(name, name)
        what = (_("%(feature)s: more than usual") if factor.get("high") else _("%(feature)s: less than usual")) % {
            "feature": label
        }
    way = _("raises the chance") if factor.get("raises") else _("lowers the chance")
    return f"{what} — {way}"


def opportunity_insight(*, user: Viewer, opportunity: Opportunity) -> dict[str, Any] | None:
    """The deal's win probability (the model's where it beats the stage default, else the
    stage default and why), or None if the reader may not see the deal."""
    if not Opportunity.objects.visible_to(user).filter(pk=opportunity.pk).exists():
        return None
    version = active_version(ModelKind.WIN)
    score = OpportunityScore.objects.filter(opportunity=opportunity).first() if version and version.usable else None
    status = _status(version, score is not None, needs_beating=True)
    default = StageProbability.objects.filter(stage=opportunity.stage).values_list("probability", flat=True).first()
    return {
        "status": status,
        "version": version,
        "is_open": opportunity.is_open,
        "probability": score.probability if score and status == SCORED else None,
        "factors": [factor_text(f) for f in score.factors] if score and status == SCORED else [],
        "stage_default": default,
    }


def with_win_probability(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """`probability_value` (0..100) for the weighted forecast: the owner's override, else
    the model's score when the active model beats the per-stage default, else the stage's
    default (as `Opportunity.objects.with_probability()`)."""
    default = StageProbability.objects.filter(stage=OuterRef("stage")).values("probability")[:1]
    if win_model_in_use() is None:
        return queryset.annotate(probability_value=Coalesce("probability_override", Subquery(default), 0))
    model = OpportunityScore.objects.filter(opportunity=OuterRef("pk")).annotate(
        percent=Round(F("probability") * Value(100.0))
    )
    return queryset.annotate(
        probability_value=Cast(
            Coalesce(
                Cast("probability_override", FloatField()),
                Subquery(model.values("percent")[:1], output_field=FloatField()),
                Cast(Subquery(default), FloatField()),
                Value(0.0),
            ),
            DecimalField(max_digits=6, decimal_places=2),
        )
    )


def forecast_basis() -> dict[str, Any]:
    """What the weighted forecast uses, for the page to say: the model (and its figures) or
    the stage defaults (and why)."""
    version = active_version(ModelKind.WIN)
    in_use = version is not None and version.usable and version.beats_baseline
    return {"uses_model": in_use, "version": version, "status": _status(version, True, needs_beating=True)}


def opportunity_win_probabilities(*, user: Viewer, opportunity_ids: list[int]) -> dict[int, float]:
    """{deal id: model probability} for the visible deals, when the model is in use."""
    if win_model_in_use() is None:
        return {}
    rows = OpportunityScore.objects.filter(
        opportunity_id__in=opportunity_ids, opportunity__in=Opportunity.objects.visible_to(user)
    ).values_list("opportunity_id", "probability")
    return dict(rows)
