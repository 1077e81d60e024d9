"""Invariants of the scores, checked by hypothesis on arbitrary records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.scoring import (
    PREDICTION_VERDICTS,
    Pair,
    ScoredPrediction,
    brier_score,
    calibration_table,
    hit_rate,
    murphy_decomposition,
    overconfidence,
    score_predictions,
)

TODAY = dt.date(2026, 11, 23)
FAST = settings(max_examples=60, deadline=None)

# Estimative midpoints repeat, which is what makes bins non-trivial; arbitrary floats probe the rest.
probabilities = st.one_of(
    st.sampled_from([0.0, 0.03, 0.125, 0.3, 0.5, 0.675, 0.75, 0.97, 1.0]),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)
pairs_strategy = st.lists(st.tuples(probabilities, st.integers(0, 1)), min_size=1, max_size=60)
dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2027, 12, 31))


@st.composite
def predictions(draw: st.DrawFn) -> ScoredPrediction:
    made_on = draw(dates)
    verdict = draw(st.sampled_from((None, *PREDICTION_VERDICTS)))
    return ScoredPrediction(
        key=str(draw(st.integers(0, 10**6))),
        probability=draw(st.one_of(st.none(), probabilities)),
        verdict=verdict,
        made_on=made_on,
        deadline=draw(st.one_of(st.none(), dates)),
        resolved_on=None if verdict is None else draw(dates),
        tags=tuple(draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True))),
    )


records_strategy = st.lists(predictions(), max_size=40)


@FAST
@given(pairs_strategy)
def test_brier_is_between_0_and_1(pairs: list[Pair]) -> None:
    bs = brier_score(pairs)
    assert bs is not None and 0.0 <= bs <= 1.0


@FAST
@given(pairs_strategy)
def test_hit_rate_is_between_0_and_1(pairs: list[Pair]) -> None:
    rate = hit_rate(pairs)
    assert rate is not None and 0.0 <= rate <= 1.0
    over = overconfidence(pairs)
    # Confidence in the favoured side is in [0.5, 1] and the hit rate in [0, 1].
    assert over is not None and -0.5 <= over <= 1.0


@FAST
@given(pairs_strategy)
def test_decomposition_adds_up_to_brier(pairs: list[Pair]) -> None:
    bs = brier_score(pairs)
    distinct = murphy_decomposition(pairs, "distinct")
    decile = murphy_decomposition(pairs, "decile")
    assert bs is not None and distinct is not None and decile is not None
    assert abs(distinct.reliability - distinct.resolution + distinct.uncertainty - bs) <= 1e-9
    assert distinct.within_bin_variance == distinct.within_bin_covariance == 0.0
    assert abs(decile.brier - bs) <= 1e-9
    assert distinct.reliability >= 0 and distinct.resolution >= 0 and 0 <= distinct.uncertainty <= 0.25


@FAST
@given(st.lists(st.integers(0, 1), min_size=1, max_size=60))
def test_perfect_forecaster_scores_zero(outcomes: list[int]) -> None:
    pairs: list[Pair] = [(float(o), o) for o in outcomes]
    assert brier_score(pairs) == 0.0
    assert hit_rate(pairs) == 1.0
    d = murphy_decomposition(pairs)
    assert d is not None and d.reliability == 0.0
    # A perfect forecaster resolves all the uncertainty there was.
    assert abs(d.resolution - d.uncertainty) <= 1e-12
    assert all(b.observed == b.mean_forecast for b in calibration_table(pairs))


@FAST
@given(records_strategy, st.randoms(use_true_random=False))
def test_permuting_the_input_changes_nothing(records: list[ScoredPrediction], rnd: random.Random) -> None:
    shuffled = list(records)
    rnd.shuffle(shuffled)
    for binning in ("distinct", "decile"):
        assert score_predictions(records, today=TODAY, binning=binning) == score_predictions(
            shuffled, today=TODAY, binning=binning
        )


unscored_verdicts = st.sampled_from([None, "ambiguous", "annulled"])


@FAST
@given(records_strategy, st.lists(st.tuples(predictions(), unscored_verdicts), max_size=20))
def test_unscored_records_never_move_a_score(
    records: list[ScoredPrediction], extra: list[tuple[ScoredPrediction, str | None]]
) -> None:
    # Open, ambiguous, annulled and hedged records may be added freely: only the counts change.
    unscored = [r if r.pair is None else dataclasses.replace(r, verdict=v) for r, v in extra]
    base = score_predictions(records, today=TODAY)
    more = score_predictions(records + unscored, today=TODAY)
    assert dataclasses.replace(more, counts=base.counts) == base
    assert more.counts.total == base.counts.total + len(unscored)
