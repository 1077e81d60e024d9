"""The records the scorer reads: plain frozen dataclasses, built by the caller from any store.

Verdict names are spelled out here rather than imported from `tracker.models`, so the
scoring core stays free of SQLAlchemy; a test keeps the two lists identical.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

# Prediction verdicts. Only TRUE and FALSE enter scores; the other two are counted and shown.
TRUE = "true"
FALSE = "false"
AMBIGUOUS = "ambiguous"  # reviewers cannot tell whether it happened
ANNULLED = "annulled"  # the premise failed: a void outcome
PREDICTION_VERDICTS: tuple[str, ...] = (TRUE, FALSE, AMBIGUOUS, ANNULLED)

# The fact scale, best to worst; UNVERIFIABLE is counted but never rated.
MOSTLY_TRUE = "mostly-true"
HALF_TRUE = "half-true"
MOSTLY_FALSE = "mostly-false"
UNVERIFIABLE = "unverifiable"
FACT_VERDICTS: tuple[str, ...] = (TRUE, MOSTLY_TRUE, HALF_TRUE, MOSTLY_FALSE, FALSE, UNVERIFIABLE)

Pair = tuple[float, int]
"""One scored forecast: (stated probability of "yes", outcome 1 for true or 0 for false)."""


@dataclass(frozen=True, slots=True)
class ScoredPrediction:
    """One prediction as the scorer sees it; verdict None means open (or un-resolved)."""

    key: str
    probability: float | None  # None: a hedge ("may") that names no probability
    verdict: str | None
    made_on: dt.date
    deadline: dt.date | None = None
    resolved_on: dt.date | None = None
    tags: tuple[str, ...] = ()
    # Its criteria were recorded after the outcome was known (or after the deadline):
    # still scored, and counted so that the page can say how much of a score is hindsight.
    recorded_late: bool = False

    def __post_init__(self) -> None:
        # Bad input here is a bug in the caller's mapping, not a user error: fail at once.
        p = self.probability
        if p is not None and not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise ValueError(f"{self.key}: probability {p!r} is not in [0, 1]")
        if self.verdict is not None and self.verdict not in PREDICTION_VERDICTS:
            raise ValueError(f"{self.key}: {self.verdict!r} is not a prediction verdict")

    @property
    def pair(self) -> Pair | None:
        """(probability, outcome) when the prediction enters scores, else None."""
        if self.probability is None or self.verdict not in (TRUE, FALSE):
            return None
        return (float(self.probability), 1 if self.verdict == TRUE else 0)


@dataclass(frozen=True, slots=True)
class ScoredFact:
    """One checkable factual claim as the scorer sees it; verdict None means not yet checked."""

    key: str
    verdict: str | None
    made_on: dt.date
    tags: tuple[str, ...] = ()
    recorded_late: bool = False  # recorded after its outcome was known

    def __post_init__(self) -> None:
        if self.verdict is not None and self.verdict not in FACT_VERDICTS:
            raise ValueError(f"{self.key}: {self.verdict!r} is not a fact verdict")


def scored_pairs(predictions: Iterable[ScoredPrediction]) -> list[Pair]:
    """The (probability, outcome) pairs of the predictions that enter scores."""
    return [pair for p in predictions if (pair := p.pair) is not None]


class _Dated(Protocol):
    @property
    def made_on(self) -> dt.date: ...

    @property
    def tags(self) -> tuple[str, ...]: ...


_R = TypeVar("_R", bound=_Dated)


def _keep(record: _Dated, tag: str | None, made_from: dt.date | None, made_before: dt.date | None) -> bool:
    if tag is not None and tag not in record.tags:
        return False
    if made_from is not None and record.made_on < made_from:
        return False
    return made_before is None or record.made_on < made_before


def _slice(
    records: Iterable[_R], tag: str | None, made_from: dt.date | None, made_before: dt.date | None
) -> list[_R]:
    return [r for r in records if _keep(r, tag, made_from, made_before)]


def slice_predictions(
    predictions: Iterable[ScoredPrediction],
    *,
    tag: str | None = None,
    made_from: dt.date | None = None,
    made_before: dt.date | None = None,
    horizon_days: tuple[int, int | None] | None = None,
) -> list[ScoredPrediction]:
    """Predictions with the tag, made in [made_from, made_before), horizon in [lo, hi) days.

    The horizon is deadline - made_on; predictions without a deadline have no horizon
    and drop out of any horizon slice. `hi` None means no upper bound. An outlet
    together with its people is a slice the caller builds by passing the combined list.
    """
    kept = _slice(predictions, tag, made_from, made_before)
    if horizon_days is None:
        return kept
    lo, hi = horizon_days
    out: list[ScoredPrediction] = []
    for p in kept:
        if p.deadline is None:
            continue
        days = (p.deadline - p.made_on).days
        if days >= lo and (hi is None or days < hi):
            out.append(p)
    return out


def slice_facts(
    facts: Iterable[ScoredFact],
    *,
    tag: str | None = None,
    made_from: dt.date | None = None,
    made_before: dt.date | None = None,
) -> list[ScoredFact]:
    """Facts with the tag, made in [made_from, made_before)."""
    return _slice(facts, tag, made_from, made_before)
