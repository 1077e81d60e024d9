"""Scoring: pure functions from plain records to frozen figures. No database, no I/O.

The caller maps claims to `ScoredPrediction` and `ScoredFact` (and promises to
`TalliedPromise`, which are tallied, never scored), slices them as it likes
(`slice_predictions`, `slice_facts`), and calls `score_source`. Every figure is
recomputed from the records each time, so un-resolving a claim (verdict None)
changes the figures with no cache to invalidate.

Conventions, documented where they live: the Brier form in `BRIER_CONVENTION`, the log
score's clipping in `LOG_EPS`, the hit-rate threshold in `HIT_THRESHOLD`, the
over-confidence figure in `overconfidence`, the fact mapping in `FACT_ACCURACY`.
"""

from __future__ import annotations

from tracker.scoring.calibration import (
    AUTO_DISTINCT_LIMIT,
    BINNING_CHOICES,
    BINNINGS,
    Z_95,
    Binning,
    BinningChoice,
    CalibrationBin,
    Decomposition,
    calibration_table,
    choose_binning,
    murphy_decomposition,
    wilson_interval,
)
from tracker.scoring.facts import FACT_ACCURACY, FactScores, VerdictShare, accuracy_index, score_facts
from tracker.scoring.metrics import (
    BRIER_CHANCE,
    BRIER_CONVENTION,
    HIT_THRESHOLD,
    LOG_CHANCE,
    LOG_EPS,
    MIN_SAMPLE,
    base_rate,
    brier_score,
    clip,
    hit_rate,
    log_score,
    overconfidence,
    says_yes,
    skill_score,
    skill_vs_base_rate,
    skill_vs_chance,
)
from tracker.scoring.predictions import PredictionScores, StatusCounts, count_statuses, score_predictions
from tracker.scoring.promises import (
    PROGRESS_STATUSES,
    PROMISE_VERDICTS,
    PromiseTally,
    TalliedPromise,
    tally_promises,
)
from tracker.scoring.records import (
    FACT_VERDICTS,
    PREDICTION_VERDICTS,
    Pair,
    ScoredFact,
    ScoredPrediction,
    scored_pairs,
    slice_facts,
    slice_predictions,
)
from tracker.scoring.sources import SELECTION_NOTE, SourceScores, fact_rank_key, rank_key, score_source
from tracker.scoring.timeline import BrierPoint, brier_over_time

__all__ = [
    "AUTO_DISTINCT_LIMIT",
    "BINNINGS",
    "BINNING_CHOICES",
    "BRIER_CHANCE",
    "BRIER_CONVENTION",
    "FACT_ACCURACY",
    "FACT_VERDICTS",
    "HIT_THRESHOLD",
    "LOG_CHANCE",
    "LOG_EPS",
    "MIN_SAMPLE",
    "PREDICTION_VERDICTS",
    "PROGRESS_STATUSES",
    "PROMISE_VERDICTS",
    "SELECTION_NOTE",
    "Z_95",
    "Binning",
    "BinningChoice",
    "BrierPoint",
    "CalibrationBin",
    "Decomposition",
    "FactScores",
    "Pair",
    "PredictionScores",
    "PromiseTally",
    "ScoredFact",
    "ScoredPrediction",
    "SourceScores",
    "StatusCounts",
    "TalliedPromise",
    "VerdictShare",
    "accuracy_index",
    "base_rate",
    "brier_over_time",
    "brier_score",
    "calibration_table",
    "choose_binning",
    "clip",
    "count_statuses",
    "fact_rank_key",
    "hit_rate",
    "log_score",
    "murphy_decomposition",
    "overconfidence",
    "rank_key",
    "says_yes",
    "score_facts",
    "score_predictions",
    "score_source",
    "scored_pairs",
    "skill_score",
    "skill_vs_base_rate",
    "skill_vs_chance",
    "slice_facts",
    "slice_predictions",
    "tally_promises",
    "wilson_interval",
]
