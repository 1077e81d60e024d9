"""Proper scores and their companions, each a function of (probability, outcome) pairs.

Conventions (shown on scorecards and in `tracker scores --json`):

- Brier: the single-category form, mean of (p - o)**2, on a 0..1 scale; 0 is perfect
  and always saying 0.5 scores 0.25. See `BRIER_CONVENTION`.
- Log score: mean natural-log loss in nats, -mean(o*ln(p) + (1-o)*ln(1-p)), with p
  clipped to [LOG_EPS, 1 - LOG_EPS] first. See `LOG_EPS`.
- Hit rate: p >= 0.5 counts as predicting "yes"; p == 0.5 is a "yes".
- Over-confidence: mean confidence in the favoured side minus how often it happened.

Every function returns None for an empty input rather than a made-up number. Sums use
`math.fsum` so that the order of the input cannot change a figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tracker.scoring.records import Pair

BRIER_CONVENTION = (
    "Brier scores here are the single-category form, the mean of (p - o)\u00b2 over resolved "
    "predictions, on a 0 to 1 scale: 0 is perfect and always saying 50% scores 0.25. Some tools "
    "(Fatebook, for one) use the two-category form on a 0 to 2 scale: double these numbers to compare."
)

BRIER_CHANCE = 0.25
"""The Brier score of the forecaster who always says 0.5, whatever happens."""

LOG_EPS = 0.01
"""Probabilities are clipped to [0.01, 0.99] before the log score.

ICD 203, the scale tracker maps words onto, ends at 1% and 99%: no phrase a source
writes claims more certainty than that, and band midpoints (0.03 ... 0.97) are left
untouched. A stated 0 or 1 ("certain", "impossible", or a number a user typed) would
otherwise cost infinity on a single miss and swamp the whole record; clipped, a miss
at "certain" costs ln(100) = 4.6 nats, the same as a miss at 99%. The Brier score is
not clipped: it is bounded anyway.
"""

LOG_CHANCE = math.log(2)
"""The log score of the forecaster who always says 0.5: ln 2 = 0.693 nats."""

MIN_SAMPLE = 10
"""Below this many scored predictions (or rated facts) figures carry a "too few to judge" flag."""

HIT_THRESHOLD = 0.5
"""p >= HIT_THRESHOLD counts as predicting "yes"; a stated 50% is counted as a "yes"."""


def brier_score(pairs: Sequence[Pair]) -> float | None:
    """Mean (p - o)**2 on the 0..1 scale.

    >>> round(brier_score([(0.8, 1), (0.8, 0), (0.2, 0)]), 12)  # (0.04 + 0.64 + 0.04) / 3
    0.24
    """
    if not pairs:
        return None
    return math.fsum((p - o) ** 2 for p, o in pairs) / len(pairs)


def clip(p: float, eps: float = LOG_EPS) -> float:
    """p clipped to [eps, 1 - eps], as the log score sees it."""
    return min(max(p, eps), 1.0 - eps)


def log_score(pairs: Sequence[Pair], eps: float = LOG_EPS) -> float | None:
    """Mean natural-log loss in nats (lower is better), p clipped to [eps, 1 - eps].

    >>> round(log_score([(0.8, 1), (1.0, 0)]), 4)  # (-ln 0.8 - ln 0.01) / 2
    2.4142
    """
    if not pairs:
        return None
    losses = (-math.log(clip(p, eps)) if o else -math.log(1.0 - clip(p, eps)) for p, o in pairs)
    return math.fsum(losses) / len(pairs)


def says_yes(p: float) -> bool:
    """Whether a forecast counts as predicting "yes" for the hit rate (p >= 0.5)."""
    return p >= HIT_THRESHOLD


def _hits(pairs: Sequence[Pair]) -> int:
    return sum(1 for p, o in pairs if says_yes(p) == bool(o))


def hit_rate(pairs: Sequence[Pair]) -> float | None:
    """Share of forecasts whose favoured side happened; p == 0.5 favours "yes".

    >>> hit_rate([(0.8, 1), (0.5, 0), (0.2, 0)])
    0.6666666666666666
    """
    if not pairs:
        return None
    return _hits(pairs) / len(pairs)


def base_rate(pairs: Sequence[Pair]) -> float | None:
    """Share of scored predictions that came true."""
    if not pairs:
        return None
    return sum(o for _, o in pairs) / len(pairs)


def skill_score(brier: float | None, reference: float | None) -> float | None:
    """1 - brier / reference: 1 is perfect, 0 no better than the reference, negative worse.

    None when either is unknown or the reference is 0 (a reference that cannot be beaten).
    """
    if brier is None or reference is None or reference == 0:
        return None
    return 1.0 - brier / reference


def skill_vs_chance(pairs: Sequence[Pair]) -> float | None:
    """Brier skill against always saying 0.5 (reference Brier 0.25)."""
    return skill_score(brier_score(pairs), BRIER_CHANCE)


def skill_vs_base_rate(pairs: Sequence[Pair]) -> float | None:
    """Brier skill against always saying the sample's base rate o_bar (reference o_bar * (1 - o_bar)).

    The base rate is taken from the same predictions, with hindsight, so this is the
    harder test; it is None when every prediction came out the same way.
    """
    rate = base_rate(pairs)
    return skill_score(brier_score(pairs), None if rate is None else rate * (1.0 - rate))


def overconfidence(pairs: Sequence[Pair]) -> float | None:
    """Mean confidence in the favoured side minus the share of times it happened.

    Each forecast is folded onto its favoured side: p' = max(p, 1 - p), and o' is 1 when
    that side happened (p >= 0.5 favours "yes", as for the hit rate). The figure is
    mean(p') - mean(o'); mean(o') is the hit rate. Positive means over-confident (says
    90% and is right 70% of the time: +0.2), negative under-confident, 0 calibrated
    on average. It cannot see a forecaster who is over-confident at some levels and
    under-confident at others; the calibration table can.

    >>> round(overconfidence([(0.9, 1), (0.9, 0), (0.2, 0), (0.2, 1)]), 4)  # 0.85 - 0.5
    0.35
    """
    if not pairs:
        return None
    confidence = math.fsum(max(p, 1.0 - p) for p, _ in pairs) / len(pairs)
    return confidence - _hits(pairs) / len(pairs)
