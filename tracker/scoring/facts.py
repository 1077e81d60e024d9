"""Fact-check figures: the distribution over the verdict scale and an accuracy index.

The accuracy index maps each rated verdict to a number (`FACT_ACCURACY`) and takes the
mean over rated facts: true = 1, mostly-true = 0.75, half-true = 0.5,
mostly-false = 0.25, false = 0. "Unverifiable" is counted and shown but not rated:
it says nothing about whether the source was right. Facts are rated on what was
known when they were said, so the index never changes with hindsight.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tracker.scoring.metrics import MIN_SAMPLE
from tracker.scoring.records import (
    FACT_VERDICTS,
    FALSE,
    HALF_TRUE,
    MOSTLY_FALSE,
    MOSTLY_TRUE,
    TRUE,
    ScoredFact,
)

FACT_ACCURACY: Mapping[str, float] = MappingProxyType(
    {TRUE: 1.0, MOSTLY_TRUE: 0.75, HALF_TRUE: 0.5, MOSTLY_FALSE: 0.25, FALSE: 0.0}
)
"""The documented verdict-to-number mapping behind the accuracy index; unverifiable is absent."""


@dataclass(frozen=True, slots=True)
class VerdictShare:
    """One step of the verdict scale: how many checked facts got it, and their share (None if none checked)."""

    verdict: str
    count: int
    share: float | None


@dataclass(frozen=True, slots=True)
class FactScores:
    """The fact figures for one source or slice.

    open + checked == total; rated == checked - unverifiable. `distribution` lists
    every verdict of the scale in order, best first, with shares of the checked facts.
    """

    total: int
    open: int
    checked: int
    rated: int
    unverifiable: int
    distribution: tuple[VerdictShare, ...]
    accuracy: float | None  # mean of FACT_ACCURACY over rated facts, in [0, 1]
    min_sample: int
    too_few: bool  # rated < min_sample
    rated_recorded_late: int = 0  # rated facts recorded after their outcome was known


def accuracy_index(verdicts: Iterable[str | None]) -> float | None:
    """Mean of FACT_ACCURACY over the rated verdicts; None when nothing is rated.

    >>> accuracy_index(["true", "half-true", "false", "unverifiable", None])
    0.5
    """
    values = [FACT_ACCURACY[v] for v in verdicts if v is not None and v in FACT_ACCURACY]
    return math.fsum(values) / len(values) if values else None


def score_facts(facts: Iterable[ScoredFact], *, min_sample: int = MIN_SAMPLE) -> FactScores:
    """All fact figures for the given records (one source, or any slice of them)."""
    records = list(facts)
    counts = Counter(f.verdict for f in records)
    checked = len(records) - counts[None]
    rated = sum(counts[v] for v in FACT_ACCURACY)
    return FactScores(
        total=len(records),
        open=counts[None],
        checked=checked,
        rated=rated,
        unverifiable=checked - rated,
        distribution=tuple(
            VerdictShare(v, counts[v], counts[v] / checked if checked else None) for v in FACT_VERDICTS
        ),
        accuracy=accuracy_index(f.verdict for f in records),
        min_sample=min_sample,
        too_few=rated < min_sample,
        rated_recorded_late=sum(1 for f in records if f.recorded_late and f.verdict in FACT_ACCURACY),
    )
