"""Calibration: binned forecasts against outcomes, Wilson intervals, and the Murphy decomposition.

Bins come in two kinds (`Binning`):

- "distinct": one bin per stated probability. Estimative language yields a handful
  of band midpoints (0.03, 0.125, ..., 0.97), so this is the natural table, and the
  Murphy decomposition is exact on it.
- "decile": ten bins [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0], closed on the left so
  that p = 0.5 sits with the forecasts that count as "yes" for the hit rate; the
  last bin also holds p = 1. (scikit-learn's `calibration_curve` closes its bins on
  the right instead; the two agree away from the edges.)

"auto" (`BinningChoice`) picks between them per record: distinct while the record states
at most `AUTO_DISTINCT_LIMIT` different probabilities (estimative language gives about
seven), deciles beyond that, where one bin per value would leave bins of one or two
predictions whose intervals say nothing.

All sums use `math.fsum`, which is correctly rounded, so the figures do not depend on
the order of the input.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tracker.scoring.records import Pair

Binning = Literal["distinct", "decile"]
BINNINGS: tuple[Binning, ...] = ("distinct", "decile")
BinningChoice = Literal["auto", "distinct", "decile"]
BINNING_CHOICES: tuple[BinningChoice, ...] = ("auto", "distinct", "decile")

AUTO_DISTINCT_LIMIT = 12
"""The most distinct stated probabilities "auto" bins one by one; more are binned by decile."""

Z_95 = 1.959963984540054
"""The standard normal quantile at 0.975: a two-sided 95% interval."""


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for `successes` out of `n` (n >= 1), without continuity correction.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and is not zero-width at
    0 of n or n of n, which matters for the small bins a pundit's record produces.
    For 0 of 10 it is (0, 0.2775); for 5 of 10, (0.2366, 0.7634).
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    z2 = z * z
    centre = (successes + z2 / 2) / (n + z2)
    half = z / (n + z2) * math.sqrt(successes * (n - successes) / n + z2 / 4)
    # The algebra puts the ends exactly at 0 and 1 in the extreme cases; rounding may not.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One row of the calibration table; lower == upper for a distinct-probability bin."""

    lower: float
    upper: float
    n: int
    hits: int  # predictions in the bin that came true
    mean_forecast: float
    observed: float  # hits / n
    ci_low: float  # 95% Wilson interval for the observed frequency
    ci_high: float


def choose_binning(pairs: Sequence[Pair], choice: BinningChoice = "auto") -> Binning:
    """The binning `choice` means for these pairs ("auto": see the module's docstring).

    >>> choose_binning([(0.675, 1), (0.325, 0)])
    'distinct'
    >>> choose_binning([(k / 100, 1) for k in range(1, 100)])
    'decile'
    """
    if choice == "auto":
        return "distinct" if len({p for p, _ in pairs}) <= AUTO_DISTINCT_LIMIT else "decile"
    if choice not in BINNINGS:
        raise ValueError(f"binning must be one of {BINNING_CHOICES}, got {choice!r}")
    return choice


def _decile(p: float) -> int:
    # k/10 * 10 == k exactly in binary floating point for k = 0..10, so edges land left-closed.
    return min(int(p * 10), 9)


def _groups(pairs: Sequence[Pair], binning: Binning) -> list[tuple[float, float, list[Pair]]]:
    """(lower, upper, members) per non-empty bin, in ascending order."""
    if binning not in BINNINGS:
        raise ValueError(f"binning must be one of {BINNINGS}, got {binning!r}")
    grouped: dict[float, list[Pair]] = defaultdict(list)
    if binning == "distinct":
        for pair in pairs:
            grouped[pair[0]].append(pair)
        return [(p, p, grouped[p]) for p in sorted(grouped)]
    for pair in pairs:
        grouped[_decile(pair[0])].append(pair)
    return [(k / 10, (k + 1) / 10, grouped[k]) for k in sorted(grouped)]


def _mean_forecast(lower: float, upper: float, members: Sequence[Pair]) -> float:
    # In a distinct bin every forecast equals `lower`; using it exactly keeps the
    # within-bin terms of the decomposition exactly zero.
    if lower == upper:
        return lower
    return math.fsum(p for p, _ in members) / len(members)


def calibration_table(pairs: Sequence[Pair], binning: Binning = "distinct") -> tuple[CalibrationBin, ...]:
    """The non-empty calibration bins of the scored pairs, lowest probability first.

    >>> [(b.n, b.observed) for b in calibration_table([(0.8, 1), (0.8, 0), (0.2, 0)])]
    [(1, 0.0), (2, 0.5)]
    """
    rows: list[CalibrationBin] = []
    for lower, upper, members in _groups(pairs, binning):
        n = len(members)
        hits = sum(o for _, o in members)
        ci_low, ci_high = wilson_interval(hits, n)
        rows.append(
            CalibrationBin(
                lower=lower,
                upper=upper,
                n=n,
                hits=hits,
                mean_forecast=_mean_forecast(lower, upper, members),
                observed=hits / n,
                ci_low=ci_low,
                ci_high=ci_high,
            )
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class Decomposition:
    """Murphy's partition of the mean Brier score, with the within-bin terms that make it exact.

    brier = reliability - resolution + uncertainty + within_bin_variance - within_bin_covariance.

    Reliability (lower is better) is how far each bin's mean forecast is from what
    happened; resolution (higher is better) is how far the bins' outcomes spread from
    the base rate; uncertainty is base_rate * (1 - base_rate), a property of the
    questions, not of the forecaster. With distinct-probability bins the two
    within-bin terms are exactly 0 and the classic three terms add up to the Brier
    score. With decile bins the forecasts inside a bin differ, so the three terms
    alone are approximate and the within-bin terms (Stephenson, Coelho and Jolliffe,
    2008) carry the rest.
    """

    reliability: float
    resolution: float
    uncertainty: float
    within_bin_variance: float
    within_bin_covariance: float
    binning: Binning

    @property
    def brier(self) -> float:
        """The mean Brier score the terms add up to."""
        return (
            self.reliability
            - self.resolution
            + self.uncertainty
            + self.within_bin_variance
            - self.within_bin_covariance
        )


def murphy_decomposition(pairs: Sequence[Pair], binning: Binning = "distinct") -> Decomposition | None:
    """Reliability, resolution and uncertainty of the scored pairs; None when there are none.

    Hand example: forecasts 0.8, 0.8, 0.2 with outcomes 1, 0, 0. Base rate 1/3, so
    uncertainty = 2/9. The 0.8 bin saw 1/2, the 0.2 bin 0/1: reliability =
    (2 * 0.3**2 + 1 * 0.2**2) / 3 = 0.22/3, resolution = (2 * (1/6)**2 + (1/3)**2) / 3 = 1/18,
    and 0.22/3 - 1/18 + 2/9 = 0.24 = ((0.2)**2 + 0.8**2 + 0.2**2) / 3, the Brier score.
    """
    n_total = len(pairs)
    if n_total == 0:
        return None
    base_rate = sum(o for _, o in pairs) / n_total
    rel: list[float] = []
    res: list[float] = []
    wbv: list[float] = []
    wbc: list[float] = []
    for lower, upper, members in _groups(pairs, binning):
        n = len(members)
        f_bar = _mean_forecast(lower, upper, members)
        o_bar = sum(o for _, o in members) / n
        rel.append(n * (f_bar - o_bar) ** 2)
        res.append(n * (o_bar - base_rate) ** 2)
        wbv.extend((f - f_bar) ** 2 for f, _ in members)
        wbc.extend((o - o_bar) * (f - f_bar) for f, o in members)
    return Decomposition(
        reliability=math.fsum(rel) / n_total,
        resolution=math.fsum(res) / n_total,
        uncertainty=base_rate * (1 - base_rate),
        within_bin_variance=math.fsum(wbv) / n_total,
        within_bin_covariance=2 * math.fsum(wbc) / n_total,
        binning=binning,
    )
