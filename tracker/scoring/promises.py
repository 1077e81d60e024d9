"""Promises: a tally on PolitiFact's promise meter, never a score.

A promise is a commitment about the speaker's own conduct, not a forecast: it names no
probability, so it never enters Brier, log score, calibration or any ranking. The record
is the tally itself: how many were kept, compromised on and broken, and where the open
ones stand (in the works, stalled, or not yet rated).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

# The promise meter, best to worst, and the progress of an open promise (as in tracker.models,
# spelled out so the core stays free of SQLAlchemy; a test keeps the lists identical).
KEPT = "kept"
COMPROMISE = "compromise"
BROKEN = "broken"
PROMISE_VERDICTS: tuple[str, ...] = (KEPT, COMPROMISE, BROKEN)
IN_THE_WORKS = "in-the-works"
STALLED = "stalled"
PROGRESS_STATUSES: tuple[str, ...] = (IN_THE_WORKS, STALLED)


@dataclass(frozen=True, slots=True)
class TalliedPromise:
    """One promise as the tally sees it: its verdict (None: open) and, while open, its progress."""

    key: str
    verdict: str | None
    progress: str | None
    made_on: dt.date
    deadline: dt.date | None = None
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.verdict is not None and self.verdict not in PROMISE_VERDICTS:
            raise ValueError(f"{self.key}: {self.verdict!r} is not a promise verdict")
        if self.progress is not None and self.progress not in PROGRESS_STATUSES:
            raise ValueError(f"{self.key}: {self.progress!r} is not a progress status")


@dataclass(frozen=True, slots=True)
class PromiseTally:
    """How many promises stand where.

    kept + compromise + broken + in_the_works + stalled + not_yet_rated == total: an
    open promise counts under its latest progress, or as not yet rated when it has none.
    `overdue` is the part of the open ones whose deadline is before `today`.
    """

    total: int = 0
    kept: int = 0
    compromise: int = 0
    broken: int = 0
    in_the_works: int = 0
    stalled: int = 0
    not_yet_rated: int = 0
    overdue: int = 0

    @property
    def open(self) -> int:
        """Promises with no verdict yet."""
        return self.in_the_works + self.stalled + self.not_yet_rated

    @property
    def rated(self) -> int:
        """Promises with a verdict on the meter."""
        return self.kept + self.compromise + self.broken


def tally_promises(promises: Iterable[TalliedPromise], *, today: dt.date) -> PromiseTally:
    """The tally of these promises (an outlet with its people: pass theirs too)."""
    counts = dict.fromkeys((*PROMISE_VERDICTS, *PROGRESS_STATUSES, None), 0)
    total = overdue = 0
    for p in promises:
        total += 1
        if p.verdict is not None:
            counts[p.verdict] += 1
            continue
        counts[p.progress] += 1
        if p.deadline is not None and p.deadline < today:
            overdue += 1
    return PromiseTally(
        total=total,
        kept=counts[KEPT],
        compromise=counts[COMPROMISE],
        broken=counts[BROKEN],
        in_the_works=counts[IN_THE_WORKS],
        stalled=counts[STALLED],
        not_yet_rated=counts[None],
        overdue=overdue,
    )
