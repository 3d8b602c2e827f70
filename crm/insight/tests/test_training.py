"""The models as pure functions: on data with a known pattern they find it and beat their
baseline; on data without one they do not claim to."""

import numpy as np
from sklearn.metrics import adjusted_rand_score

from crm.insight import training


def _blobs(rng, n=90):
    """Three kinds of buyer: recent, frequent and big; long gone, rare and small; recent,
    rare and middling."""
    centres = [(10, 20, 200_000), (400, 1, 2_000), (30, 2, 20_000)]
    rows, truth = [], []
    for label, (recency, orders, value) in enumerate(centres):
        for _i in range(n // 3):
            rows.append(
                [
                    max(0, rng.normal(recency, recency * 0.15)),
                    max(1, round(rng.normal(orders, max(orders * 0.15, 0.3)))),
                    max(100, rng.normal(value, value * 0.15)),
                ]
            )
            truth.append(label)
    return np.array(rows), np.array(truth)


def test_segments_find_three_kinds_of_buyer_and_name_them_from_their_centres():
    rfm, truth = _blobs(np.random.default_rng(1))
    fit = training.segments_fit(rfm, seed=0)

    assert fit.metrics["k"] == 3
    assert adjusted_rand_score(truth, fit.extra["labels"]) > 0.95
    assert fit.metrics["stability_ari"] > 0.95
    assert fit.metrics["silhouette"] > fit.metrics["baseline"]["silhouette"] + 0.1
    assert fit.beats_baseline
    centres = training.segment_centres(fit.estimator)
    recent_big = min(range(3), key=lambda n: centres[n][0])
    assert centres[recent_big][2] > 100_000  # the most recent segment is the big spenders


def test_segments_on_structureless_data_do_not_claim_a_structure():
    rng = np.random.default_rng(2)
    rfm = np.column_stack([rng.uniform(0, 365, 200), rng.integers(1, 10, 200), rng.uniform(1000, 5000, 200)])

    fit = training.segments_fit(rfm, seed=0)

    assert not fit.beats_baseline
    assert 2 <= fit.metrics["k"] <= 8


def _deals(rng, n, pattern=True):
    x = rng.normal(size=(n, 4))
    logit = 2.5 * x[:, 0] - 1.5 * x[:, 1] if pattern else np.zeros(n)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def test_win_probability_learns_a_pattern_the_stage_default_misses():
    rng = np.random.default_rng(3)
    x_train, y_train = _deals(rng, 600)
    x_test, y_test = _deals(rng, 200)
    base = np.full(len(y_test), y_train.mean())  # a per-stage default cannot see the pattern

    fit = training.win_fit(x_train, y_train, x_test, y_test, base, seed=0)

    assert fit.beats_baseline
    assert fit.metrics["brier"] < fit.metrics["baseline"]["brier"]
    assert fit.metrics["log_loss"] < fit.metrics["baseline"]["log_loss"]
    explainer = training.win_final(x_train, y_train)["explainer"]
    _scaled, pushes = training.contributions(explainer, np.array([[2.0, 0, 0, 0]]))
    assert np.argmax(np.abs(pushes[0])) == 0 and pushes[0][0] > 0  # the first feature raises the chance


def test_win_probability_on_noise_does_not_claim_to_beat_a_well_set_default():
    rng = np.random.default_rng(4)
    x_train, y_train = _deals(rng, 600, pattern=False)
    x_test, y_test = _deals(rng, 200, pattern=False)
    base = np.full(len(y_test), 0.5)  # the true rate: nothing left to learn

    fit = training.win_fit(x_train, y_train, x_test, y_test, base, seed=0)

    assert not fit.beats_baseline


def test_next_order_learns_frequency_beyond_recency_and_not_from_noise():
    rng = np.random.default_rng(5)

    def customers(n, pattern):
        recency = rng.uniform(0, 200, n)
        frequency = rng.uniform(0, 3, n)
        logit = 2.0 * (frequency - 1.5) if pattern else np.zeros(n)
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        return np.column_stack([recency, frequency, rng.normal(size=n)]), y

    x_train, y_train = customers(600, True)
    x_test, y_test = customers(200, True)
    assert training.next_order_fit(x_train, y_train, x_test, y_test).beats_baseline

    x_train, y_train = customers(600, False)
    x_test, y_test = customers(200, False)
    assert not training.next_order_fit(x_train, y_train, x_test, y_test).beats_baseline


def test_a_model_no_better_than_chance_is_not_significantly_better():
    losses = np.array([0.2, 0.3, 0.25, 0.22])
    assert not training.significantly_better(losses, losses)
    assert training.significantly_better(losses / 2, losses)
