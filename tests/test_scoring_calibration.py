"""Calibration tables, Wilson intervals and the Murphy decomposition, against scikit-learn, scipy and numpy."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from tracker.scoring import (
    AUTO_DISTINCT_LIMIT,
    Z_95,
    Pair,
    ScoredPrediction,
    calibration_table,
    choose_binning,
    murphy_decomposition,
    score_predictions,
    wilson_interval,
)

SEEDS = range(6)
ESTIMATIVE = (0.0, 0.03, 0.07, 0.125, 0.3, 0.325, 0.5, 0.675, 0.75, 0.875, 0.93, 0.97, 1.0)


def generated(seed: int, n: int = 400, *, edges: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and outcomes; without `edges`, no probability sits on a decile edge k/10."""
    rng = np.random.default_rng(seed)
    choices = ESTIMATIVE if edges else tuple(x for x in ESTIMATIVE if x * 10 != int(x * 10))
    p = np.where(rng.random(n) < 0.5, rng.choice(choices, n), rng.random(n))
    o = (rng.random(n) < 0.5 + 0.6 * (p - 0.5)).astype(int)
    return p, o


def as_pairs(p: np.ndarray, o: np.ndarray) -> list[Pair]:
    return [(float(a), int(b)) for a, b in zip(p, o, strict=True)]


# --- Wilson ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Published values (Newcombe 1998, table I, method 3; and any Wilson calculator).
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_published_values(k: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 25, 60])
def test_wilson_matches_scipy(n: int) -> None:
    for k in range(n + 1):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


@pytest.mark.parametrize("n", [1, 4, 10, 33])
def test_wilson_ends_solve_the_score_equation(n: int) -> None:
    # The Wilson interval is every p whose score test does not reject the observed rate:
    # its ends are the roots of (phat - p)**2 = z**2 * p * (1 - p) / n.
    for k in range(n + 1):
        phat = k / n
        for end in wilson_interval(k, n):
            assert (phat - end) ** 2 == pytest.approx(Z_95**2 * end * (1 - end) / n, abs=1e-12)
        low, high = wilson_interval(k, n)
        assert 0.0 <= low <= phat <= high <= 1.0


def test_wilson_refuses_nonsense() -> None:
    for k, n in [(0, 0), (3, 2), (-1, 5)]:
        with pytest.raises(ValueError):
            wilson_interval(k, n)


# --- calibration tables ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_decile_bins_match_calibration_curve(seed: int) -> None:
    # calibration_curve closes its bins on the right and ours on the left, so the data keep off the edges.
    p, o = generated(seed, edges=False)
    prob_true, prob_pred = calibration_curve(o, p, n_bins=10, strategy="uniform")
    table = calibration_table(as_pairs(p, o), "decile")
    assert [b.mean_forecast for b in table] == pytest.approx(prob_pred, abs=1e-12)
    assert [b.observed for b in table] == pytest.approx(prob_true, abs=1e-12)
    assert sum(b.n for b in table) == len(p)


def test_decile_edges_are_closed_on_the_left() -> None:
    pairs: list[Pair] = [(0.0, 0), (0.1, 0), (0.5, 1), (0.59, 1), (0.9, 1), (1.0, 1)]
    table = calibration_table(pairs, "decile")
    assert [(b.lower, b.upper, b.n) for b in table] == [
        (0.0, 0.1, 1),
        (0.1, 0.2, 1),
        (0.5, 0.6, 2),  # 0.5 sits with the "yes" forecasts, as in the hit rate
        (0.9, 1.0, 2),  # the last bin holds p = 1
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_distinct_bins_match_numpy(seed: int) -> None:
    p, o = generated(seed)
    table = calibration_table(as_pairs(p, o), "distinct")
    values = np.unique(p)
    assert [b.lower for b in table] == list(values)
    for row, value in zip(table, values, strict=True):
        members = p == value
        assert row.lower == row.upper == row.mean_forecast == value
        assert row.n == members.sum() and row.hits == o[members].sum()
        assert row.observed == pytest.approx(o[members].mean(), abs=1e-12)
        ci = binomtest(row.hits, row.n).proportion_ci(method="wilson")
        assert (row.ci_low, row.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_unknown_binning_is_refused() -> None:
    with pytest.raises(ValueError):
        calibration_table([(0.5, 1)], "quintile")  # type: ignore[arg-type]


@pytest.mark.parametrize("distinct", [1, 7, AUTO_DISTINCT_LIMIT, AUTO_DISTINCT_LIMIT + 1, 99])
def test_auto_binning_is_distinct_up_to_the_limit_then_deciles(distinct: int) -> None:
    pairs = [(k / 100, k % 2) for k in range(1, distinct + 1)] * 3
    expected = "distinct" if distinct <= AUTO_DISTINCT_LIMIT else "decile"
    assert choose_binning(pairs) == expected
    assert choose_binning(pairs, "distinct") == "distinct" and choose_binning(pairs, "decile") == "decile"
    with pytest.raises(ValueError):
        choose_binning(pairs, "quintile")  # type: ignore[arg-type]


def test_scores_record_the_binning_auto_chose() -> None:
    # 99 different stated probabilities: the table is binned by decile, and says so.
    records = [
        ScoredPrediction(f"k{k}", k / 100, "true" if k % 3 else "false", dt.date(2020, 1, 1))
        for k in range(1, 100)
    ]
    scores = score_predictions(records, today=dt.date(2026, 11, 23))
    assert scores.binning == "decile"
    assert scores.calibration == calibration_table(
        [(k / 100, int(k % 3 != 0)) for k in range(1, 100)], "decile"
    )
    few = score_predictions(records[:5], today=dt.date(2026, 11, 23))
    assert few.binning == "distinct" and len(few.calibration) == 5


# --- Murphy decomposition ------------------------------------------------------------------------------


def numpy_decomposition(p: np.ndarray, o: np.ndarray, bins: np.ndarray) -> tuple[float, float, float]:
    """The textbook formulas, bin by bin, written independently of the module under test."""
    n, o_bar = len(p), o.mean()
    rel = res = 0.0
    for b in np.unique(bins):
        m = bins == b
        rel += m.sum() * (p[m].mean() - o[m].mean()) ** 2
        res += m.sum() * (o[m].mean() - o_bar) ** 2
    return rel / n, res / n, o_bar * (1 - o_bar)


@pytest.mark.parametrize("seed", SEEDS)
def test_decomposition_on_distinct_probabilities_is_exact(seed: int) -> None:
    p, o = generated(seed)
    d = murphy_decomposition(as_pairs(p, o))
    assert d is not None and d.binning == "distinct"
    rel, res, unc = numpy_decomposition(p, o, p)
    assert (d.reliability, d.resolution, d.uncertainty) == pytest.approx((rel, res, unc), abs=1e-12)
    assert d.within_bin_variance == 0.0 and d.within_bin_covariance == 0.0
    assert d.reliability - d.resolution + d.uncertainty == pytest.approx(brier_score_loss(o, p), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_decomposition_on_deciles_needs_the_within_bin_terms(seed: int) -> None:
    p, o = generated(seed)
    d = murphy_decomposition(as_pairs(p, o), "decile")
    assert d is not None
    rel, res, unc = numpy_decomposition(p, o, np.minimum(np.floor(p * 10), 9))
    assert (d.reliability, d.resolution, d.uncertainty) == pytest.approx((rel, res, unc), abs=1e-12)
    bs = brier_score_loss(o, p)
    assert d.brier == pytest.approx(bs, abs=1e-12)
    # The three classic terms alone miss by the within-bin terms.
    assert d.within_bin_variance > 0
    assert not math.isclose(rel - res + unc, bs, abs_tol=1e-9)


def test_hand_computed_decomposition() -> None:
    d = murphy_decomposition([(0.8, 1), (0.8, 0), (0.2, 0)])
    assert d is not None
    assert d.reliability == pytest.approx(0.22 / 3)
    assert d.resolution == pytest.approx(1 / 18)
    assert d.uncertainty == pytest.approx(2 / 9)
    assert d.brier == pytest.approx(0.24)
    assert murphy_decomposition([]) is None
