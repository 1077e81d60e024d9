"""Prediction scores against independent implementations (scikit-learn, numpy), counts, exclusions, slices."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss

from tracker.scoring import (
    BRIER_CONVENTION,
    LOG_EPS,
    Pair,
    ScoredPrediction,
    brier_over_time,
    brier_score,
    clip,
    count_statuses,
    hit_rate,
    log_score,
    overconfidence,
    score_predictions,
    scored_pairs,
    skill_vs_base_rate,
    skill_vs_chance,
    slice_predictions,
)

TODAY = dt.date(2026, 11, 23)
# Band midpoints from ICD 203 and Kent's table, including the 0 and 1 that "certain" and
# "impossible" imply: the realistic inputs, extremes included.
ESTIMATIVE = (0.0, 0.03, 0.07, 0.125, 0.3, 0.325, 0.5, 0.675, 0.75, 0.875, 0.93, 0.97, 1.0)
SEEDS = range(6)


def generated(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (half estimative midpoints, half uniform) and outcomes from a miscalibrated world."""
    rng = np.random.default_rng(seed)
    p = np.where(rng.random(n) < 0.5, rng.choice(ESTIMATIVE, n), rng.random(n))
    # Outcomes drawn from a shrunk probability: the forecaster is over-confident, as pundits are.
    o = (rng.random(n) < 0.5 + 0.6 * (p - 0.5)).astype(int)
    return p, o


def as_pairs(p: np.ndarray, o: np.ndarray) -> list[Pair]:
    return [(float(a), int(b)) for a, b in zip(p, o, strict=True)]


@pytest.mark.parametrize("seed", SEEDS)
def test_brier_matches_scikit_learn(seed: int) -> None:
    p, o = generated(seed)
    assert brier_score(as_pairs(p, o)) == pytest.approx(brier_score_loss(o, p), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_two_category_form_is_double(seed: int) -> None:
    # BRIER_CONVENTION promises that the 0..2 form is exactly twice ours.
    p, o = generated(seed)
    two_category = np.mean((p - o) ** 2 + ((1 - p) - (1 - o)) ** 2)
    assert 2 * brier_score(as_pairs(p, o)) == pytest.approx(two_category, abs=1e-12)  # type: ignore[operator]
    assert "double" in BRIER_CONVENTION and "0 to 1" in BRIER_CONVENTION


@pytest.mark.parametrize("seed", SEEDS)
def test_log_score_matches_scikit_learn_on_clipped_probabilities(seed: int) -> None:
    p, o = generated(seed)
    clipped = np.clip(p, LOG_EPS, 1 - LOG_EPS)
    expected = log_loss(o, clipped, labels=[0, 1])
    assert log_score(as_pairs(p, o)) == pytest.approx(expected, abs=1e-12)


def test_log_clipping_keeps_certainty_finite() -> None:
    assert clip(0.0) == LOG_EPS and clip(1.0) == 1 - LOG_EPS and clip(0.5) == 0.5
    assert log_score([(1.0, 0)]) == pytest.approx(-np.log(LOG_EPS))
    assert log_score([(0.97, 1)]) == pytest.approx(-np.log(0.97))  # a band midpoint is untouched
    assert log_score([(0.999, 0)], eps=1e-15) == pytest.approx(-np.log(0.001))


@pytest.mark.parametrize("seed", SEEDS)
def test_skill_scores_match_numpy(seed: int) -> None:
    p, o = generated(seed)
    bs = np.mean((p - o) ** 2)
    o_bar = o.mean()
    pairs = as_pairs(p, o)
    assert skill_vs_chance(pairs) == pytest.approx(1 - bs / 0.25, abs=1e-12)
    assert skill_vs_base_rate(pairs) == pytest.approx(1 - bs / (o_bar * (1 - o_bar)), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_hit_rate_and_overconfidence_match_numpy(seed: int) -> None:
    p, o = generated(seed)
    yes = p >= 0.5
    hits = yes == (o == 1)
    pairs = as_pairs(p, o)
    assert hit_rate(pairs) == pytest.approx(hits.mean(), abs=1e-12)
    folded = np.maximum(p, 1 - p)
    assert overconfidence(pairs) == pytest.approx(folded.mean() - hits.mean(), abs=1e-12)
    # The generated world is over-confident by construction.
    assert overconfidence(pairs) > 0  # type: ignore[operator]


def test_hand_computed_figures() -> None:
    pairs: list[Pair] = [(0.8, 1), (0.8, 0), (0.2, 0), (0.5, 1)]
    # (0.04 + 0.64 + 0.04 + 0.25) / 4
    assert brier_score(pairs) == pytest.approx(0.2425)
    assert skill_vs_chance(pairs) == pytest.approx(1 - 0.2425 / 0.25)
    assert skill_vs_base_rate(pairs) is not None  # base rate 0.5: reference 0.25 too
    assert skill_vs_base_rate(pairs) == pytest.approx(skill_vs_chance(pairs))
    # 0.8 yes/1 hit, 0.8 yes/0 miss, 0.2 no/0 hit, 0.5 counts as yes/1 hit.
    assert hit_rate(pairs) == 0.75
    # Confidence (0.8 + 0.8 + 0.8 + 0.5) / 4 = 0.725, hit rate 0.75.
    assert overconfidence(pairs) == pytest.approx(-0.025)


def test_half_counts_as_yes() -> None:
    assert hit_rate([(0.5, 1)]) == 1.0
    assert hit_rate([(0.5, 0)]) == 0.0


def test_empty_and_degenerate_inputs_give_none() -> None:
    for figure in (brier_score, log_score, hit_rate, overconfidence, skill_vs_chance, skill_vs_base_rate):
        assert figure([]) is None
    # Everything came true: the base-rate forecaster is perfect, so its skill is undefined.
    assert skill_vs_base_rate([(0.9, 1), (0.6, 1)]) is None
    assert skill_vs_chance([(0.9, 1), (0.6, 1)]) is not None


# --- records: counts, exclusions, un-resolving ------------------------------------------------------


def pred(key: str, p: float | None, verdict: str | None, **kw: object) -> ScoredPrediction:
    fields: dict[str, object] = {"made_on": dt.date(2025, 1, 1)} | kw
    return ScoredPrediction(key, p, verdict, **fields)  # type: ignore[arg-type]


RECORDS = [
    pred("a", 0.8, "true", resolved_on=dt.date(2025, 3, 2)),
    pred("b", 0.8, "false", resolved_on=dt.date(2025, 3, 20)),
    pred("c", 0.2, "false", resolved_on=dt.date(2025, 5, 1)),
    pred("d", 0.675, "ambiguous", resolved_on=dt.date(2025, 5, 2)),
    pred("e", 0.97, "annulled", resolved_on=dt.date(2025, 5, 3)),
    pred("f", None, "true", resolved_on=dt.date(2025, 5, 4)),  # "may": a resolved hedge
    pred("g", None, None, deadline=dt.date(2026, 1, 1)),  # an open, overdue hedge
    pred("h", 0.3, None, deadline=dt.date(2026, 11, 22)),  # overdue by a day
    pred("i", 0.3, None, deadline=TODAY),  # due today: not overdue yet
    pred("j", 0.3, None),  # no deadline: never overdue
]


def test_counts_by_status() -> None:
    counts = count_statuses(RECORDS, today=TODAY)
    assert (counts.total, counts.open, counts.overdue) == (10, 4, 2)
    assert (counts.resolved_true, counts.resolved_false, counts.ambiguous, counts.annulled) == (2, 2, 1, 1)
    assert (counts.hedges, counts.scored) == (2, 3)
    # The unscored tally, counted here by hand from RECORDS: only "f" is a decided hedge.
    assert (counts.unscored_decided, counts.unscored_true) == (1, 1)
    assert (
        counts.open + counts.resolved_true + counts.resolved_false + counts.ambiguous + counts.annulled == 10
    )


def test_excluded_records_are_counted_but_never_scored() -> None:
    scores = score_predictions(RECORDS, today=TODAY)
    only_scored = score_predictions(RECORDS[:3], today=TODAY)
    assert scores.n_scored == 3 and scored_pairs(RECORDS) == [(0.8, 1), (0.8, 0), (0.2, 0)]
    for name in ("brier", "skill_vs_chance", "skill_vs_base_rate", "base_rate", "log_score", "hit_rate"):
        assert getattr(scores, name) == getattr(only_scored, name), name
    assert scores.overconfidence == only_scored.overconfidence
    assert scores.calibration == only_scored.calibration
    assert scores.decomposition == only_scored.decomposition
    assert scores.brier == pytest.approx(0.24)


def test_unresolving_moves_a_claim_back_to_open_and_rescores() -> None:
    before = score_predictions(RECORDS, today=TODAY)
    unresolved = [dataclasses.replace(r, verdict=None) if r.key == "b" else r for r in RECORDS]
    after = score_predictions(unresolved, today=TODAY)
    assert after.counts.open == before.counts.open + 1
    assert after.counts.resolved_false == before.counts.resolved_false - 1
    assert after.n_scored == 2
    # Left: 0.8 came true, 0.2 did not. (0.04 + 0.04) / 2.
    assert after.brier == pytest.approx(0.04)
    assert after.hit_rate == 1.0
    # Changing the verdict instead of removing it flips its contribution.
    flipped = [dataclasses.replace(r, verdict="true") if r.key == "b" else r for r in RECORDS]
    assert score_predictions(flipped, today=TODAY).brier == pytest.approx((0.04 + 0.04 + 0.04) / 3)


def test_nothing_scored() -> None:
    scores = score_predictions(RECORDS[3:], today=TODAY)
    assert scores.n_scored == 0 and scores.too_few
    assert scores.brier is None and scores.log_score is None and scores.decomposition is None
    assert scores.calibration == ()


def test_too_few_follows_min_sample() -> None:
    assert score_predictions(RECORDS, today=TODAY).too_few  # 3 scored < 10
    assert not score_predictions(RECORDS, today=TODAY, min_sample=3).too_few
    assert score_predictions(RECORDS, today=TODAY, min_sample=4).too_few


@pytest.mark.parametrize(
    ("probability", "verdict"), [(1.2, "true"), (-0.1, None), (float("nan"), "false"), (0.5, "mostly-true")]
)
def test_bad_records_are_refused(probability: float, verdict: str | None) -> None:
    with pytest.raises(ValueError):
        pred("x", probability, verdict)


def keys(records: list[ScoredPrediction]) -> list[str]:
    return [r.key for r in records]


# --- slices --------------------------------------------------------------------------------------------


def test_slice_by_tag_and_period() -> None:
    recs = [
        pred("a", 0.5, None, made_on=dt.date(2024, 12, 31), tags=("economy",)),
        pred("b", 0.5, None, made_on=dt.date(2025, 1, 1), tags=("economy", "europe")),
        pred("c", 0.5, None, made_on=dt.date(2025, 6, 30), tags=("europe",)),
        pred("d", 0.5, None, made_on=dt.date(2025, 7, 1)),
    ]
    assert keys(slice_predictions(recs, tag="economy")) == ["a", "b"]
    # The period is half-open: [made_from, made_before).
    year_half = slice_predictions(recs, made_from=dt.date(2025, 1, 1), made_before=dt.date(2025, 7, 1))
    assert keys(year_half) == ["b", "c"]
    assert keys(slice_predictions(recs, tag="europe", made_before=dt.date(2025, 6, 30))) == ["b"]
    assert keys(slice_predictions(recs)) == ["a", "b", "c", "d"]


def test_slice_by_horizon() -> None:
    made = dt.date(2025, 1, 1)
    recs = [
        pred("week", 0.5, None, made_on=made, deadline=made + dt.timedelta(days=7)),
        pred("month", 0.5, None, made_on=made, deadline=made + dt.timedelta(days=30)),
        pred("year", 0.5, None, made_on=made, deadline=made + dt.timedelta(days=365)),
        pred("none", 0.5, None, made_on=made),
    ]
    assert keys(slice_predictions(recs, horizon_days=(0, 30))) == ["week"]
    assert keys(slice_predictions(recs, horizon_days=(30, 365))) == ["month"]
    assert keys(slice_predictions(recs, horizon_days=(30, None))) == ["month", "year"]


# --- Brier over time -------------------------------------------------------------------------------------


def test_cumulative_brier_by_resolution_month() -> None:
    points = brier_over_time(RECORDS)
    assert [(p.month, p.n) for p in points] == [(dt.date(2025, 3, 1), 2), (dt.date(2025, 5, 1), 3)]
    assert points[0].brier == pytest.approx((0.04 + 0.64) / 2)
    assert points[1].brier == pytest.approx(0.24)


def test_rolling_brier_by_resolution_month() -> None:
    months = [dt.date(2024, 11, 1), dt.date(2024, 12, 1), *(dt.date(2025, m, 1) for m in (1, 2, 3))]
    recs = [
        pred(str(i), 0.8, "true" if i % 2 else "false", resolved_on=month.replace(day=15))
        for i, month in enumerate(months)
    ]
    # Months: 2024-11 (false), 2024-12 (true), 2025-01 (false), 2025-02 (true), 2025-03 (false).
    points = brier_over_time(recs, window_months=2)
    assert [p.month for p in points] == months
    assert [p.n for p in points] == [1, 2, 2, 2, 2]
    assert points[0].brier == pytest.approx(0.64)
    assert all(p.brier == pytest.approx(0.34) for p in points[1:])
    assert [p.n for p in brier_over_time(recs, window_months=1)] == [1] * 5
    with pytest.raises(ValueError):
        brier_over_time(recs, window_months=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_brier_over_time_matches_numpy(seed: int) -> None:
    p, o = generated(seed)
    rng = np.random.default_rng(seed + 100)
    days = rng.integers(0, 3 * 365, len(p))
    start = dt.date(2023, 1, 1)
    recs = [
        pred(str(i), float(a), "true" if b else "false", resolved_on=start + dt.timedelta(days=int(d)))
        for i, (a, b, d) in enumerate(zip(p, o, days, strict=True))
    ]
    months = np.array([(start + dt.timedelta(days=int(d))).replace(day=1).toordinal() for d in days])
    for point in brier_over_time(recs):
        upto = months <= point.month.toordinal()
        assert point.n == upto.sum()
        assert point.brier == pytest.approx(np.mean((p[upto] - o[upto]) ** 2), abs=1e-12)


def test_brier_over_time_skips_undated_and_unscored() -> None:
    recs = [pred("a", 0.8, "true"), pred("b", None, "true", resolved_on=dt.date(2025, 1, 1))]
    assert brier_over_time(recs) == ()
