"""Every figure for a set of predictions, bundled: counts by status and the scores of the scored ones.

Only predictions with a probability and a verdict of true or false are scored.
Ambiguous and annulled ones, and hedges with no probability ("may"), are counted in
`StatusCounts` so the page can show them, and kept out of every score. Un-resolving
a prediction is just passing it again with verdict None: nothing is cached here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from tracker.scoring import metrics
from tracker.scoring.calibration import (
    Binning,
    BinningChoice,
    CalibrationBin,
    Decomposition,
    calibration_table,
    choose_binning,
    murphy_decomposition,
)
from tracker.scoring.metrics import MIN_SAMPLE
from tracker.scoring.records import AMBIGUOUS, ANNULLED, FALSE, TRUE, ScoredPrediction, scored_pairs


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """How many predictions are in each state.

    open + resolved_true + resolved_false + ambiguous + annulled == total. `overdue`
    is the part of `open` whose deadline has passed. `hedges` (no probability) cuts
    across the states; `scored` is the resolved true/false predictions that are not hedges.
    `unscored_decided` is the hedges (and predictions with no stated probability) resolved
    true or false, and `unscored_true` how many of those came true: the record's tally for
    predictions that never enter a score. `scored_recorded_late` is the part of `scored`
    recorded after the outcome was known.
    """

    total: int
    open: int
    overdue: int
    resolved_true: int
    resolved_false: int
    ambiguous: int
    annulled: int
    hedges: int
    scored: int
    unscored_decided: int = 0
    unscored_true: int = 0
    scored_recorded_late: int = 0


def count_statuses(predictions: Iterable[ScoredPrediction], *, today: dt.date) -> StatusCounts:
    """Counts by status; a prediction is overdue when open and its deadline is before `today`."""
    by_verdict = {None: 0, TRUE: 0, FALSE: 0, AMBIGUOUS: 0, ANNULLED: 0}
    total = overdue = hedges = scored = unscored_decided = unscored_true = late = 0
    for p in predictions:
        total += 1
        by_verdict[p.verdict] += 1
        if p.verdict is None and p.deadline is not None and p.deadline < today:
            overdue += 1
        if p.probability is None:
            hedges += 1
            if p.verdict in (TRUE, FALSE):
                unscored_decided += 1
                unscored_true += p.verdict == TRUE
        elif p.verdict in (TRUE, FALSE):
            scored += 1
            late += p.recorded_late
    return StatusCounts(
        total=total,
        open=by_verdict[None],
        overdue=overdue,
        resolved_true=by_verdict[TRUE],
        resolved_false=by_verdict[FALSE],
        ambiguous=by_verdict[AMBIGUOUS],
        annulled=by_verdict[ANNULLED],
        hedges=hedges,
        scored=scored,
        unscored_decided=unscored_decided,
        unscored_true=unscored_true,
        scored_recorded_late=late,
    )


@dataclass(frozen=True, slots=True)
class PredictionScores:
    """The scorecard figures for one source or slice; each score is None when nothing is scored.

    Conventions are in `tracker.scoring.metrics`: Brier on the 0..1 scale, log score in
    nats with p clipped to [0.01, 0.99], p >= 0.5 counts as "yes". The decomposition
    is always on distinct probabilities, where it is exact, whatever `binning` the
    calibration table uses.
    """

    counts: StatusCounts
    n_scored: int
    min_sample: int
    too_few: bool  # n_scored < min_sample: show "too few to judge", never rank above a sampled source
    brier: float | None
    skill_vs_chance: float | None
    skill_vs_base_rate: float | None
    base_rate: float | None
    log_score: float | None
    hit_rate: float | None
    overconfidence: float | None
    binning: Binning  # what the calibration table used ("auto" resolved)
    calibration: tuple[CalibrationBin, ...]
    decomposition: Decomposition | None


def score_predictions(
    predictions: Iterable[ScoredPrediction],
    *,
    today: dt.date,
    min_sample: int = MIN_SAMPLE,
    binning: BinningChoice = "auto",
) -> PredictionScores:
    """All prediction figures for the given records (one source, or any slice of them)."""
    records = list(predictions)
    pairs = scored_pairs(records)
    used = choose_binning(pairs, binning)
    return PredictionScores(
        counts=count_statuses(records, today=today),
        n_scored=len(pairs),
        min_sample=min_sample,
        too_few=len(pairs) < min_sample,
        brier=metrics.brier_score(pairs),
        skill_vs_chance=metrics.skill_vs_chance(pairs),
        skill_vs_base_rate=metrics.skill_vs_base_rate(pairs),
        base_rate=metrics.base_rate(pairs),
        log_score=metrics.log_score(pairs),
        hit_rate=metrics.hit_rate(pairs),
        overconfidence=metrics.overconfidence(pairs),
        binning=used,
        calibration=calibration_table(pairs, used),
        decomposition=murphy_decomposition(pairs, "distinct"),
    )
