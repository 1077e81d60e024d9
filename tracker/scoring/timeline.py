"""Brier over time: the mean Brier score by month of resolution, cumulative or over a rolling window."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from tracker.scoring.records import ScoredPrediction


@dataclass(frozen=True, slots=True)
class BrierPoint:
    """One point of the chart: the month (its first day), how many predictions, their mean Brier."""

    month: dt.date
    n: int
    brier: float


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _months_back(month: dt.date, k: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - k
    return dt.date(index // 12, index % 12 + 1, 1)


def brier_over_time(
    predictions: Iterable[ScoredPrediction], *, window_months: int | None = None
) -> tuple[BrierPoint, ...]:
    """One point per month in which scored predictions resolved, oldest first.

    With `window_months` None each point is cumulative: every scored prediction
    resolved up to the end of that month. With `window_months` k it covers that month
    and the k - 1 before it. Months with no resolution get no point, so a chart draws
    a line between the months that had news. Predictions without a `resolved_on` date
    cannot be placed and are left out.

    >>> from datetime import date as d
    >>> ps = [ScoredPrediction("a", 0.8, "true", d(2024, 1, 1), resolved_on=d(2024, 3, 5)),
    ...       ScoredPrediction("b", 0.8, "false", d(2024, 1, 1), resolved_on=d(2024, 5, 9))]
    >>> [(p.month.isoformat(), p.n, round(p.brier, 2)) for p in brier_over_time(ps)]
    [('2024-03-01', 1, 0.04), ('2024-05-01', 2, 0.34)]
    """
    if window_months is not None and window_months < 1:
        raise ValueError(f"window_months must be at least 1, got {window_months}")
    squares: dict[dt.date, list[float]] = defaultdict(list)
    for p in predictions:
        pair = p.pair
        if pair is not None and p.resolved_on is not None:
            squares[_month(p.resolved_on)].append((pair[0] - pair[1]) ** 2)
    # Exact per-month sums, added in month order: the result cannot depend on input order.
    months = sorted(squares)
    sums = {m: math.fsum(squares[m]) for m in months}
    points: list[BrierPoint] = []
    for i, month in enumerate(months):
        if window_months is None:
            included = months[: i + 1]
        else:
            start = _months_back(month, window_months - 1)
            included = [m for m in months[: i + 1] if m >= start]
        n = sum(len(squares[m]) for m in included)
        points.append(BrierPoint(month=month, n=n, brier=math.fsum(sums[m] for m in included) / n))
    return tuple(points)
