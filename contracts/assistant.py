"""The approval assistant: a decision tree trained on past approval decisions.

`approval_model_train` fits and stores a versioned model; `approval_recommendation`
answers for one contract with the decision, its probability and the plain-language
factors on the tree's path. Without a usable model it says why instead of guessing,
and it never raises: a broken model must not break the approval page.
"""

import logging
import math
import pickle
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import sklearn
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.tree import DecisionTreeClassifier

from contracts.choices import ApprovalDecision
from contracts.choices import ContractStatus as S
from contracts.models import ApprovalModel, ApprovalStep, Contract, ContractVersion
from crm.core.audit import audit_record
from crm.core.customer_facts import OPEN_COMPLAINTS, customer_fact_counts
from crm.core.exceptions import DomainError
from customers.choices import CustomerTier

logger = logging.getLogger(__name__)

APPROVE, REJECT = "approve", "reject"
DECISION_LABELS = {APPROVE: gettext_lazy("Approve"), REJECT: gettext_lazy("Reject")}

# A contract in one of these states passed its latest approval round.
APPROVED_STATES = [S.APPROVED, S.SIGNING, S.ACTIVE, S.COMPLETED, S.TERMINATED, S.EXPIRED]

# Customer tiers as an ordinal, lowest first.
TIER_ORDER = [CustomerTier.SMALL, CustomerTier.STANDARD, CustomerTier.KEY, CustomerTier.STRATEGIC]
TIER_RANK = {tier.value: rank for rank, tier in enumerate(TIER_ORDER)}

MIN_SAMPLES = 30
MIN_SAMPLES_LEAF = 3
REASONS_SHOWN = 3

# The features, in the order the estimator sees them. Open complaints are counted by the
# service app (above contracts) through `crm.core.customer_facts`; a model trained before
# that feature existed keeps working on the features it names.
FEATURE_LABELS = {
    "amount": gettext_lazy("Amount"),
    "duration_days": gettext_lazy("Duration (days)"),
    "payment_terms_days": gettext_lazy("Payment terms (days)"),
    "customer_tenure_days": gettext_lazy("Customer tenure (days)"),
    "earlier_contracts": gettext_lazy("Earlier contracts of the customer"),
    "earlier_rejections": gettext_lazy("Earlier rejections of the customer"),
    "customer_tier": gettext_lazy("Customer tier"),
    "open_complaints": gettext_lazy("Open complaints of the customer"),
}
FEATURES = list(FEATURE_LABELS)


# --- Features -------------------------------------------------------------------------


def _with_feature_columns(queryset, as_of=None):
    """The contracts annotated with what the features need, computed by the database.

    The reference time is `as_of`, else the contract's latest submission, else now.
    Earlier contracts are the customer's contracts created before this one; an earlier
    rejection is one of those with a rejection decided before the reference time (so
    training never sees a rejection that came after the decision it learns from).
    """
    reference = Value(as_of) if as_of is not None else Coalesce(F("submitted_at"), Now())
    earlier = Contract.objects.filter(customer=OuterRef("customer_id"), created_at__lt=OuterRef("created_at"))
    rejected_before = ApprovalStep.objects.filter(
        contract=OuterRef("pk"),
        decision=ApprovalDecision.REJECTED,
        decided_at__lt=OuterRef(OuterRef("feature_reference")),
    )

    def counted(subquery):
        return Coalesce(Subquery(subquery.order_by().values("customer").annotate(n=Count("pk")).values("n")[:1]), 0)

    return queryset.annotate(feature_reference=reference).annotate(
        feature_customer_created=F("customer__created_at"),
        feature_customer_tier=F("customer__tier"),
        feature_earlier_contracts=counted(earlier),
        feature_earlier_rejections=counted(earlier.filter(Exists(rejected_before))),
    )


def _open_complaints(rows) -> dict:
    """{(customer id, reference time): complaints open then}, one provider call for all rows."""
    return customer_fact_counts(OPEN_COMPLAINTS, [(row.customer_id, row.feature_reference) for row in rows])


def _features_of(row, complaints: dict) -> dict:
    tenure = row.feature_reference - row.feature_customer_created
    return {
        "amount": float(row.amount),
        "duration_days": (row.end_date - row.start_date).days,
        "payment_terms_days": row.payment_terms_days,
        "customer_tenure_days": max(0, math.floor(tenure.total_seconds() / 86400)),
        "earlier_contracts": row.feature_earlier_contracts,
        "earlier_rejections": row.feature_earlier_rejections,
        "customer_tier": TIER_RANK.get(row.feature_customer_tier, TIER_RANK[CustomerTier.STANDARD]),
        "open_complaints": complaints.get((row.customer_id, row.feature_reference), 0),
    }


def contract_features_many(queryset, *, as_of=None) -> dict[int, dict]:
    """`{contract id: features}` for every contract of the queryset: one query, and one
    more for the open complaints when the service app counts them."""
    rows = list(_with_feature_columns(queryset, as_of).order_by())
    complaints = _open_complaints(rows)
    return {row.pk: _features_of(row, complaints) for row in rows}


def contract_features(contract, as_of=None) -> dict:
    """The features of one saved contract (see `_with_feature_columns` for the rules)."""
    return contract_features_many(Contract.objects.filter(pk=contract.pk), as_of=as_of)[contract.pk]


def decided_contracts():
    """Contracts whose latest approval round was decided, annotated with `outcome`.

    Approved: the contract passed approval (approved and every state after it).
    Rejected: the contract is rejected, or was reopened or cancelled after the
    rejection of its latest round without its terms being edited since, so its
    current terms are the ones that were rejected.
    """
    rejected_this_round = ApprovalStep.objects.filter(
        contract=OuterRef("pk"), round=OuterRef("approval_round"), decision=ApprovalDecision.REJECTED
    )
    edited_since = ContractVersion.objects.filter(contract=OuterRef("pk"), saved_at__gt=OuterRef("decided_at"))
    outcome = Case(
        When(status__in=APPROVED_STATES, then=Value(APPROVE)),
        When(status=S.REJECTED, then=Value(REJECT)),
        When(
            Q(status__in=[S.DRAFT, S.CANCELLED]) & Exists(rejected_this_round) & ~Exists(edited_since),
            then=Value(REJECT),
        ),
        default=Value(None),
    )
    return Contract.objects.annotate(outcome=outcome).filter(outcome__isnull=False)


# --- Training -------------------------------------------------------------------------


def _too_little_history(decided: int, min_samples: int) -> str:
    return ngettext(
        "Too little history: %(count)s contract has been decided; the assistant needs at least %(min)s.",
        "Too little history: %(count)s contracts have been decided; the assistant needs at least %(min)s.",
        decided,
    ) % {"count": decided, "min": min_samples}


def _fitted_tree(x_train, y_train, *, max_depth, random_state) -> DecisionTreeClassifier:
    """A tree of the given depth, or the depth and leaf size that do best in stratified
    cross-validation on the training part (the held-out part stays unseen)."""
    if max_depth is not None:
        tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=MIN_SAMPLES_LEAF, random_state=random_state)
        return tree.fit(x_train, y_train)
    folds = min(5, *Counter(y_train).values())
    if folds < 2:
        tree = DecisionTreeClassifier(max_depth=3, min_samples_leaf=MIN_SAMPLES_LEAF, random_state=random_state)
        return tree.fit(x_train, y_train)
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=random_state),
        {"max_depth": [2, 3, 4, 5, 6], "min_samples_leaf": [MIN_SAMPLES_LEAF, 2 * MIN_SAMPLES_LEAF, 10]},
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state),
        scoring="accuracy",
    )
    search.fit(x_train, y_train)
    return search.best_estimator_


def approval_model_train(
    *, min_samples=MIN_SAMPLES, test_size=0.25, random_state=0, max_depth=None, actor=None
) -> ApprovalModel:
    """Fit a decision tree on the decided contracts and store it as the active model.

    A stratified share `test_size` of the contracts is held out to measure accuracy,
    next to the accuracy of always answering the most common outcome. Refuses with a
    `DomainError` when there is too little history or only one outcome.
    """
    if not 0 < test_size < 1:
        raise DomainError(_("The held-out share must be between 0 and 1."))
    if max_depth is not None and max_depth < 1:
        raise DomainError(_("The tree depth must be at least 1."))
    rows = list(_with_feature_columns(decided_contracts()).order_by("created_at", "pk"))
    if len(rows) < max(min_samples, 2):
        raise DomainError(_too_little_history(len(rows), min_samples))
    labels = [row.outcome for row in rows]
    counts = Counter(labels)
    if len(counts) < 2 or min(counts.values()) < 2:
        raise DomainError(
            _(
                "Too little history: of %(count)s decided contracts, %(approved)s were approved and "
                "%(rejected)s rejected; the assistant needs at least 2 of each."
            )
            % {"count": len(rows), "approved": counts[APPROVE], "rejected": counts[REJECT]}
        )
    complaints = _open_complaints(rows)
    matrix = np.array([[_features_of(row, complaints)[name] for name in FEATURES] for row in rows], dtype=float)
    try:
        x_train, x_test, y_train, y_test = train_test_split(
            matrix, labels, test_size=test_size, random_state=random_state, stratify=labels
        )
    except ValueError as error:
        raise DomainError(_("Too little history to hold out a test set: %(error)s") % {"error": error}) from error
    chosen_depth = max_depth
    estimator = _fitted_tree(x_train, y_train, max_depth=max_depth, random_state=random_state)
    max_depth = estimator.get_params()["max_depth"]
    accuracy = float(accuracy_score(y_test, estimator.predict(x_test)))
    baseline = Counter(y_test).most_common(1)[0][1] / len(y_test)
    parameters = {
        "algorithm": "DecisionTreeClassifier",
        "max_depth": max_depth,
        "min_samples_leaf": estimator.get_params()["min_samples_leaf"],
        "depth_chosen_by": "given" if chosen_depth is not None else "5-fold cross-validation on the training part",
        "random_state": random_state,
        "test_share": test_size,
        "classes": [str(label) for label in estimator.classes_],
        "outcomes": {APPROVE: counts[APPROVE], REJECT: counts[REJECT]},
        "sklearn_version": sklearn.__version__,
    }
    try:
        with transaction.atomic():
            # Trainings are rare: one at a time takes the next version; pages keep reading.
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(ApprovalModel._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            latest = ApprovalModel.objects.aggregate(latest=Max("version"))["latest"]
            ApprovalModel.objects.filter(is_active=True).update(is_active=False)
            model = ApprovalModel.objects.create(
                version=(latest or 0) + 1,
                trained_at=timezone.now(),
                training_size=len(y_train),
                test_size=len(y_test),
                accuracy=accuracy,
                baseline_accuracy=baseline,
                feature_names=FEATURES,
                parameters=parameters,
                estimator=pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL),
                is_active=True,
            )
            audit_record(
                actor=actor,
                action="approval_model.trained",
                target=model,
                extra={
                    "version": model.version,
                    "training_size": model.training_size,
                    "test_size": model.test_size,
                    "accuracy": round(accuracy, 4),
                    "baseline_accuracy": round(baseline, 4),
                    "parameters": parameters,
                },
            )
    except IntegrityError:
        raise DomainError(_("Another model was stored at the same moment; train again.")) from None
    return model


# --- Recommendation -------------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """What the approval page shows. Unavailable ones carry only `reason`."""

    available: bool
    reason: str = ""
    decision: str | None = None  # "approve" or "reject"
    probability: float | None = None  # of `decision`
    model_version: int | None = None
    accuracy: float | None = None
    baseline_accuracy: float | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def decision_label(self):
        return DECISION_LABELS.get(self.decision, "")

    @property
    def beats_baseline(self) -> bool:
        return self.available and self.accuracy > self.baseline_accuracy


def unavailable(reason) -> Recommendation:
    return Recommendation(available=False, reason=str(reason))


# One unpickled estimator per process, keyed by (model id, version).
_loaded: dict[tuple[int, int], DecisionTreeClassifier] = {}


def approval_model_cache_clear():
    _loaded.clear()


class ModelUnusable(Exception):
    pass


def _load(model: ApprovalModel):
    key = (model.pk, model.version)
    estimator = _loaded.get(key)
    if estimator is None:
        blob = ApprovalModel.objects.filter(pk=model.pk).values_list("estimator", flat=True).get()
        estimator = pickle.loads(bytes(blob))  # noqa: S301 - written only by approval_model_train
        if not isinstance(estimator, DecisionTreeClassifier):
            raise ModelUnusable(f"stored object is a {type(estimator).__name__}")
        if set(map(str, estimator.classes_)) - {APPROVE, REJECT} or estimator.n_features_in_ != len(
            model.feature_names
        ):
            raise ModelUnusable("classes or features do not match the model row")
        unknown = set(model.feature_names) - set(FEATURES)
        if unknown:
            raise ModelUnusable(f"features this code does not compute: {sorted(unknown)}")
        _loaded.clear()
        _loaded[key] = estimator
    return estimator


def approval_recommendation(contract) -> Recommendation:
    """The assistant's advice on a contract, or why there is none. Never raises."""
    return approval_recommendations([contract])[contract.pk]


def approval_recommendations(contracts) -> dict[int, Recommendation]:
    """`{contract id: advice}` for many contracts (the approvals inbox): one model lookup
    and one query for all their features. Never raises."""
    ids = [contract.pk for contract in contracts]
    if not ids:
        return {}
    try:
        model = ApprovalModel.objects.filter(is_active=True).defer("estimator").first()
        if model is None:
            decided = decided_contracts()[:MIN_SAMPLES].count()  # whether there are enough, not how many
            if decided < MIN_SAMPLES:
                return dict.fromkeys(ids, unavailable(_too_little_history(decided, MIN_SAMPLES)))
            return dict.fromkeys(ids, unavailable(_("No approval model has been trained yet.")))
    except Exception:
        logger.exception("Could not look up the approval model")
        return dict.fromkeys(ids, unavailable(_("The model could not be loaded.")))
    try:
        estimator = _load(model)
    except Exception:
        logger.exception("Could not load approval model v%s (id %s)", model.version, model.pk)
        return dict.fromkeys(ids, unavailable(_("The model could not be loaded.")))
    try:
        features_of = contract_features_many(Contract.objects.filter(pk__in=ids))
    except Exception:
        logger.exception("Approval model v%s could not compute features", model.version)
        features_of = {}
    return {pk: _recommend(model, estimator, pk, features_of.get(pk)) for pk in ids}


def _recommend(model, estimator, contract_id, features) -> Recommendation:
    try:
        if features is None:
            raise ModelUnusable("no features")
        vector = np.array([[features[name] for name in model.feature_names]], dtype=float)
        shares = estimator.predict_proba(vector)[0]
        best = int(np.argmax(shares))
        decision = str(estimator.classes_[best])
        reasons = path_reasons(estimator, vector, model.feature_names, best)
    except Exception:
        logger.exception("Approval model v%s failed on contract %s", model.version, contract_id)
        return unavailable(_("The model could not make a recommendation for this contract."))
    return Recommendation(
        available=True,
        decision=decision,
        probability=float(shares[best]),
        model_version=model.version,
        accuracy=model.accuracy,
        baseline_accuracy=model.baseline_accuracy,
        reasons=tuple(reasons),
    )


# --- Reasons --------------------------------------------------------------------------


def path_reasons(estimator, vector, feature_names, class_index, limit=REASONS_SHOWN) -> list[str]:
    """The features on this contract's path that moved the tree most towards its answer.

    Each split on the path changes the share of the chosen class from the parent node
    to the child the contract went to; those changes are summed per feature, the
    bounds a feature met are merged (`above a`, `at most b`, `between`), and the
    features that pushed towards the answer are described, strongest first.
    """
    tree = estimator.tree_
    indicator = estimator.decision_path(vector)
    path = indicator.indices[indicator.indptr[0] : indicator.indptr[1]]
    path = sorted(path)  # children always have higher ids than their parent
    values = vector[0]

    def share(node):
        counts = tree.value[node][0]
        return counts[class_index] / counts.sum()

    push: dict[str, float] = {}
    bounds: dict[str, list] = {}
    for parent, child in zip(path, path[1:], strict=False):
        index, threshold = tree.feature[parent], tree.threshold[parent]
        name = feature_names[index]
        push[name] = push.get(name, 0.0) + share(child) - share(parent)
        low, high = bounds.setdefault(name, [None, None])
        if values[index] <= threshold:
            bounds[name][1] = threshold if high is None else min(high, threshold)
        else:
            bounds[name][0] = threshold if low is None else max(low, threshold)
    strongest = sorted((name for name in push if push[name] > 1e-9), key=lambda name: -push[name])
    return [describe(name, values[feature_names.index(name)], *bounds[name]) for name in strongest[:limit]]


def _money(value) -> str:
    return number_format(round(value, 2), decimal_pos=2, force_grouping=True)


def _tier_label(rank) -> str:
    rank = min(max(int(rank), 0), len(TIER_ORDER) - 1)
    return str(TIER_ORDER[rank].label)


def describe(name, value, low, high) -> str:
    """One plain-language condition: `value` is above `low` and/or at most `high`."""
    if name == "amount":
        numbers = {"value": _money(value), "low": _money(low or 0), "high": _money(high or 0)}
        if low is not None and high is not None:
            return _("Amount %(value)s is between %(low)s and %(high)s") % numbers
        if low is not None:
            return _("Amount %(value)s is above %(low)s") % numbers
        return _("Amount %(value)s is at most %(high)s") % numbers

    # The other features are whole numbers; a split at 60.5 reads "more than 60".
    value = int(value)
    low = math.floor(low) if low is not None else None
    high = math.floor(high) if high is not None else None
    numbers = {"value": value, "low": low, "high": high, "from": (low or 0) + 1}
    if name == "customer_tier":
        numbers = {
            "value": _tier_label(value),
            "low": _tier_label(low or 0),
            "high": _tier_label(high or 0),
            "from": _tier_label((low or 0) + 1),
        }
        if low is not None and (high is None or high == low + 1):
            return _("Customer tier %(value)s is above %(low)s") % numbers
        if low is not None:
            return _("Customer tier %(value)s is between %(from)s and %(high)s") % numbers
        return _("Customer tier %(value)s is %(high)s or lower") % numbers
    if name in ("earlier_contracts", "earlier_rejections", "open_complaints"):
        if high == 0 or (value == 0 and low is None):
            return {
                "earlier_contracts": _("The customer has no earlier contracts"),
                "earlier_rejections": _("The customer has no earlier rejections"),
                "open_complaints": _("The customer has no open complaints"),
            }[name]
        noun = {
            "earlier_contracts": ngettext("earlier contract", "earlier contracts", value),
            "earlier_rejections": ngettext("earlier rejection", "earlier rejections", value),
            "open_complaints": ngettext("open complaint", "open complaints", value),
        }[name]
        numbers["noun"] = noun
        if low is not None and high is not None:
            return _("The customer has %(value)s %(noun)s (between %(from)s and %(high)s)") % numbers
        if low is not None:
            return _("The customer has %(value)s %(noun)s (more than %(low)s)") % numbers
        return _("The customer has %(value)s %(noun)s (at most %(high)s)") % numbers
    templates = {
        "payment_terms_days": (
            _("Payment terms of %(value)s days are between %(from)s and %(high)s days"),
            _("Payment terms of %(value)s days are longer than %(low)s days"),
            _("Payment terms of %(value)s days are at most %(high)s days"),
        ),
        "duration_days": (
            _("The contract runs %(value)s days, between %(from)s and %(high)s days"),
            _("The contract runs %(value)s days, longer than %(low)s days"),
            _("The contract runs %(value)s days, at most %(high)s days"),
        ),
        "customer_tenure_days": (
            _("The customer has been with us %(value)s days, between %(from)s and %(high)s"),
            _("The customer has been with us %(value)s days, more than %(low)s"),
            _("The customer has been with us only %(value)s days, at most %(high)s"),
        ),
    }
    between, above, at_most = templates[name]
    if low is not None and high is not None:
        return between % numbers
    if low is not None:
        return above % numbers
    return at_most % numbers
