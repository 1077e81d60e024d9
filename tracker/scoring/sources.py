"""A source's whole scorecard, and the ranking keys that keep thin records from topping the index."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracker.scoring.calibration import BinningChoice
from tracker.scoring.facts import FactScores, score_facts
from tracker.scoring.metrics import MIN_SAMPLE
from tracker.scoring.predictions import PredictionScores, score_predictions
from tracker.scoring.promises import PromiseTally, TalliedPromise, tally_promises
from tracker.scoring.records import ScoredFact, ScoredPrediction

SELECTION_NOTE = (
    "Claims were selected by reviewers, not sampled: these figures describe the claims "
    "recorded here, not everything this source has said."
)


@dataclass(frozen=True, slots=True)
class SourceScores:
    """Prediction and fact figures for one source, an outlet with its people, or any slice.

    `promises` is a tally beside them, never a score: nothing in it enters a figure or a rank.
    """

    predictions: PredictionScores
    facts: FactScores
    promises: PromiseTally = field(default_factory=PromiseTally)

    @property
    def too_few(self) -> bool:
        """Neither record is large enough to judge: the page leads with the warning."""
        return self.predictions.too_few and self.facts.too_few


def score_source(
    predictions: Iterable[ScoredPrediction],
    facts: Iterable[ScoredFact],
    promises: Iterable[TalliedPromise] = (),
    *,
    today: dt.date,
    min_sample: int = MIN_SAMPLE,
    binning: BinningChoice = "auto",
) -> SourceScores:
    """Every figure for one source; to include an outlet's people, pass their records too.

    Promises are only tallied (`tally_promises`): no prediction or fact figure reads them.
    """
    return SourceScores(
        predictions=score_predictions(predictions, today=today, min_sample=min_sample, binning=binning),
        facts=score_facts(facts, min_sample=min_sample),
        promises=tally_promises(promises, today=today),
    )


def rank_key(scores: SourceScores | PredictionScores) -> tuple[bool, float, int]:
    """Sort key for the index by predictions: sampled sources first, then Brier ascending, then n descending.

    A source below the minimum sample is never ranked above one at or above it, however
    good its few predictions look. Sources with nothing scored go last among their group.
    `sorted` is stable, so ties keep the caller's order (sort by name first for a stable page).
    """
    p = scores.predictions if isinstance(scores, SourceScores) else scores
    return (p.too_few, math.inf if p.brier is None else p.brier, -p.n_scored)


def fact_rank_key(scores: SourceScores | FactScores) -> tuple[bool, float, int]:
    """Sort key by facts: sampled sources first, then accuracy descending, then n descending."""
    f = scores.facts if isinstance(scores, SourceScores) else scores
    return (f.too_few, math.inf if f.accuracy is None else -f.accuracy, -f.rated)
