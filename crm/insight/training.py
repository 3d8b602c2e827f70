"""The three models as pure functions over numbers: no database, so the tests can hand them
data with a known pattern (or none) and check what they find.

Each `*_fit` returns a `Fit`: the fitted objects to store, the figures it was judged by
(its own and its baseline's, on data it did not learn from), and whether it beat the
baseline by more than chance. "More than chance" is a one-sided paired test on the
per-row losses (mean improvement above 1.64 standard errors), so a model trained on noise
that happens to score a hair better than the baseline does not claim to beat it.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, brier_score_loss, log_loss, roc_auc_score, silhouette_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

K_RANGE = range(2, 9)
STABILITY_SEEDS = 5
NULL_DRAWS = 5
SILHOUETTE_SAMPLE = 5000
#: How far above the reference silhouette (the same data with its columns shuffled apart)
#: the segments must be to claim a structure.
SILHOUETTE_MARGIN = 0.02
EPSILON = 1e-3
Z_ONE_SIDED = 1.64


@dataclass
class Fit:
    estimator: Any
    metrics: dict
    beats_baseline: bool
    extra: dict = field(default_factory=dict)


def _clip(p: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(p, dtype=float), EPSILON, 1 - EPSILON)


def significantly_better(model_losses: np.ndarray, baseline_losses: np.ndarray) -> bool:
    """Whether the model's per-row losses are lower than the baseline's beyond chance."""
    diff = np.asarray(baseline_losses, dtype=float) - np.asarray(model_losses, dtype=float)
    if len(diff) < 2:
        return False
    stderr = diff.std(ddof=1) / np.sqrt(len(diff))
    return bool(diff.mean() > 0 and diff.mean() > Z_ONE_SIDED * stderr)


def probability_metrics(y: np.ndarray, p: np.ndarray) -> dict:
    y = np.asarray(y, dtype=int)
    p = _clip(p)
    metrics = {"brier": float(brier_score_loss(y, p)), "log_loss": float(log_loss(y, p, labels=[0, 1]))}
    metrics["auc"] = float(roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else None
    return metrics


def beats(y: np.ndarray, p_model: np.ndarray, p_base: np.ndarray) -> bool:
    """Lower Brier score beyond chance, and lower log loss, on the held-out rows."""
    y = np.asarray(y, dtype=float)
    pm, pb = _clip(p_model), _clip(p_base)
    brier_m, brier_b = (pm - y) ** 2, (pb - y) ** 2
    ll_m = -(y * np.log(pm) + (1 - y) * np.log(1 - pm))
    ll_b = -(y * np.log(pb) + (1 - y) * np.log(1 - pb))
    return bool(significantly_better(brier_m, brier_b) and ll_m.mean() < ll_b.mean())


# --- Customer segments ------------------------------------------------------------------


def rfm_transform(rfm: np.ndarray) -> np.ndarray:
    """Recency in days as it is; frequency and value on a log scale (a few big buyers would
    otherwise be every segment's axis)."""
    rfm = np.asarray(rfm, dtype=float)
    return np.column_stack([rfm[:, 0], np.log1p(rfm[:, 1]), np.log1p(rfm[:, 2])])


def _silhouette(x: np.ndarray, labels: np.ndarray, seed: int) -> float:
    sample = min(len(x), SILHOUETTE_SAMPLE)
    return float(silhouette_score(x, labels, sample_size=sample, random_state=seed))


def segments_fit(rfm: np.ndarray, *, seed: int = 0) -> Fit:
    """k-means on scaled recency, frequency and value, k in 2..8 chosen by silhouette.

    Stability: the adjusted Rand index between the chosen labels and those of the same k
    from other seeds (1 is the same partition every time). Baseline: the best silhouette of
    the same k on the same values with each column shuffled on its own (no joint structure).
    """
    scaler = StandardScaler()
    x = scaler.fit_transform(rfm_transform(rfm))
    ks = [k for k in K_RANGE if k < len(x)]
    scores: dict[int, float] = {}
    fitted: dict[int, KMeans] = {}
    for k in ks:
        kmeans = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
        if len(set(kmeans.labels_.tolist())) < 2:
            continue
        scores[k] = _silhouette(x, kmeans.labels_, seed)
        fitted[k] = kmeans
    best = max(scores, key=lambda k: scores[k])
    kmeans = fitted[best]
    others = [
        KMeans(n_clusters=best, n_init=10, random_state=seed + 1 + n).fit(x).labels_ for n in range(STABILITY_SEEDS)
    ]
    stability = float(np.mean([adjusted_rand_score(kmeans.labels_, labels) for labels in others]))
    rng = np.random.default_rng(seed)
    reference = []
    for _draw in range(NULL_DRAWS):
        shuffled = np.column_stack([rng.permutation(x[:, j]) for j in range(x.shape[1])])
        labels = KMeans(n_clusters=best, n_init=10, random_state=seed).fit(shuffled).labels_
        reference.append(_silhouette(shuffled, labels, seed))
    metrics = {
        "k": best,
        "silhouette": scores[best],
        "silhouette_by_k": {str(k): round(v, 4) for k, v in scores.items()},
        "stability_ari": stability,
        "baseline": {"silhouette": float(max(reference))},
    }
    structure = scores[best] > max(reference) + SILHOUETTE_MARGIN
    return Fit(
        estimator={"scaler": scaler, "kmeans": kmeans},
        metrics=metrics,
        beats_baseline=bool(structure),
        extra={"labels": kmeans.labels_},
    )


def segments_predict(estimator: dict, rfm: np.ndarray) -> np.ndarray:
    return estimator["kmeans"].predict(estimator["scaler"].transform(rfm_transform(rfm)))


def segment_centres(estimator: dict) -> np.ndarray:
    """Each segment's centre back in recency days, orders and value."""
    centres = estimator["scaler"].inverse_transform(estimator["kmeans"].cluster_centers_)
    return np.column_stack([centres[:, 0], np.expm1(centres[:, 1]), np.expm1(centres[:, 2])])


def level(value: float, low: float, high: float) -> int:
    """0 below the lower tertile, 2 above the upper one, else 1."""
    return 0 if value <= low else 2 if value >= high else 1


# --- Probabilities (win, next order) ----------------------------------------------------


def _logistic(seed: int) -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, random_state=seed))


def win_fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    base_test: np.ndarray,
    *,
    seed: int = 0,
) -> Fit:
    """Logistic regression calibrated by sigmoid (Platt) on three folds of the training
    rows; judged on the later rows against the per-stage default probability."""
    model = CalibratedClassifierCV(_logistic(seed), method="sigmoid", cv=3).fit(x_train, y_train)
    p = model.predict_proba(x_test)[:, 1]
    metrics = {**probability_metrics(y_test, p), "baseline": probability_metrics(y_test, base_test)}
    return Fit(estimator=model, metrics=metrics, beats_baseline=beats(y_test, p, base_test))


def win_final(x: np.ndarray, y: np.ndarray, *, seed: int = 0) -> dict:
    """The model to score with, refit on every row; the plain logistic regression beside it
    explains each score (its coefficients times the scaled values)."""
    return {
        "model": CalibratedClassifierCV(_logistic(seed), method="sigmoid", cv=3).fit(x, y),
        "explainer": _logistic(seed).fit(x, y),
    }


def contributions(explainer: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scaled values (above 0: more than the average deal) and each feature's push on
    the log-odds, per row (positive raises the chance)."""
    scaler, logistic = explainer[0], explainer[-1]
    scaled = scaler.transform(x)
    return scaled, scaled * logistic.coef_[0]


def _boosting(seed: int) -> Any:
    return HistGradientBoostingClassifier(
        max_depth=3, learning_rate=0.1, max_iter=150, min_samples_leaf=10, l2_regularization=1.0, random_state=seed
    )


def next_order_fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    recency_column: int = 0,
    seed: int = 0,
) -> Fit:
    """Gradient boosting on the customer's order rhythm (an order is "due" neither just
    after the last one nor long after the customer stopped: not a straight line) against a
    logistic regression on recency alone, both fitted on the earlier cut-offs and judged
    on the latest."""
    model = _boosting(seed).fit(x_train, y_train)
    baseline = _logistic(seed).fit(x_train[:, [recency_column]], y_train)
    p = model.predict_proba(x_test)[:, 1]
    p_base = baseline.predict_proba(x_test[:, [recency_column]])[:, 1]
    metrics = {**probability_metrics(y_test, p), "baseline": probability_metrics(y_test, p_base)}
    return Fit(estimator=model, metrics=metrics, beats_baseline=beats(y_test, p, p_base))


def next_order_final(x: np.ndarray, y: np.ndarray, *, seed: int = 0) -> Any:
    return _boosting(seed).fit(x, y)
