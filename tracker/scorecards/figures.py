"""Headline figures as the pages show them: formatted values, intervals and plain-language meanings.

Every number comes from `tracker.scoring`; this module only words and formats it.
The one figure added here is the 95% interval of a mean (the Brier score, the accuracy
index), a normal approximation: mean +- 1.96 * s / sqrt(n), with s the sample
standard deviation, clipped to the figure's range. With fewer than two values there
is no interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tracker.formatting import NONE, interval, number, percent, plural
from tracker.scoring import (
    FACT_ACCURACY,
    LOG_EPS,
    Z_95,
    FactScores,
    Pair,
    PredictionScores,
    wilson_interval,
)

num = number
"""`tracker.formatting.number`: a plain decimal, or an em dash for none."""
pct = percent
"""`tracker.formatting.percent`: a whole percentage, or an em dash for none."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One headline figure: a label, the value as text, its interval, and what it means."""

    key: str  # stable hook for styling and tests
    label: str
    value: str
    detail: str  # the interval or the sample it rests on; may be empty
    explanation: str
    raw: float | None  # the unformatted value, written into the page for machines


def mean_interval(values: Sequence[float], low: float = 0.0, high: float = 1.0) -> tuple[float, float] | None:
    """The normal-approximation 95% interval of the mean of `values`, clipped to [low, high]."""
    if len(values) < 2:
        return None
    n = len(values)
    mean = math.fsum(values) / n
    # The sample standard deviation; statistics.stdev is exact but far slower, and a
    # build computes this for every source.
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = Z_95 * sd / math.sqrt(n)
    return max(low, mean - half), min(high, mean + half)


def signed(x: float, digits: int = 2) -> str:
    """+0.12 or -0.12, written with a real minus sign (U+2212)."""
    return number(x, digits, signed=True)


def span(bounds: tuple[float, float] | None, fmt: str = "num") -> str:
    """The interval as "95% interval 0.12 to 0.25" (with an en dash), "" for none."""
    if bounds is None:
        return ""
    return f"95% interval {interval(*bounds, fmt)}"


def brier_terms(pairs: Sequence[Pair]) -> list[float]:
    """Each scored prediction's own Brier score, (p - o)**2."""
    return [(p - o) ** 2 for p, o in pairs]


def hit_interval(scores: PredictionScores) -> tuple[float, float] | None:
    """The Wilson 95% interval of the hit rate."""
    if scores.hit_rate is None or scores.n_scored == 0:
        return None
    hits = round(scores.hit_rate * scores.n_scored)
    return wilson_interval(hits, scores.n_scored)


def confidence_words(x: float) -> str:
    """Over-confidence in words: which way, and by how many percentage points."""
    points = abs(x) * 100
    if points < 0.5:
        return "calibrated on average"
    side = "over-confident" if x > 0 else "under-confident"
    return f"{side} by {points:.0f} point{'s' if round(points) != 1 else ''}"


def prediction_figures(scores: PredictionScores, pairs: Sequence[Pair]) -> list[Figure]:
    """The headline prediction figures, each with its plain-language meaning."""
    brier_ci = mean_interval(brier_terms(pairs))
    n = scores.n_scored
    rest = f"over {plural(n, 'scored prediction')}"
    base = scores.base_rate
    over = scores.overconfidence
    clip_lo, clip_hi = pct(LOG_EPS), pct(1 - LOG_EPS)
    return [
        Figure(
            "brier",
            "Brier score",
            num(scores.brier),
            span(brier_ci) or rest,
            "The average squared gap between the stated probability and what happened (1 if it "
            "came true, 0 if not). 0 is perfect, always saying 50% scores 0.25, lower is better. "
            "This is the single-category form on a 0 to 1 scale; some tools use 0 to 2: double "
            "ours to compare.",
            scores.brier,
        ),
        Figure(
            "skill-chance",
            "Skill against a coin flip",
            NONE if scores.skill_vs_chance is None else signed(scores.skill_vs_chance),
            rest,
            "How much better the Brier score is than always saying 50%: 1 is perfect, 0 no "
            "better than a coin flip, below 0 worse.",
            scores.skill_vs_chance,
        ),
        Figure(
            "skill-base-rate",
            "Skill against the base rate",
            NONE if scores.skill_vs_base_rate is None else signed(scores.skill_vs_base_rate),
            "" if base is None else f"{pct(base)} of these predictions came true",
            "The same comparison against always saying the share that came true, which is known "
            "only with hindsight: the harder test. Blank when every prediction went the same way.",
            scores.skill_vs_base_rate,
        ),
        Figure(
            "log-score",
            "Log score",
            NONE if scores.log_score is None else num(scores.log_score),
            f"{rest}; always saying 50% scores 0.693",
            f"The average surprise: \u2212ln of the probability given to what happened, in nats "
            f"(units of the natural logarithm). Lower is better; always saying 50% scores 0.693. "
            f"Probabilities are clipped to "
            f"{clip_lo}\u2013{clip_hi} first, so a single miss at \u201ccertain\u201d costs 4.6 "
            f"rather than infinity.",
            scores.log_score,
        ),
        Figure(
            "hit-rate",
            "Hit rate",
            pct(scores.hit_rate),
            span(hit_interval(scores), "pct") or rest,
            "The share of predictions whose favoured side happened. A stated 50% or more counts "
            "as predicting \u201cyes\u201d. It ignores how confident the source was; the Brier "
            "score does not.",
            scores.hit_rate,
        ),
        Figure(
            "overconfidence",
            "Over- or under-confidence",
            NONE if over is None else signed(over * 100, 0) + " pts",
            "" if over is None else confidence_words(over),
            "Average confidence in the favoured side minus how often that side happened. Saying "
            "90% and being right 70% of the time is +20 points: over-confident. Below 0 is "
            "under-confident.",
            over,
        ),
    ]


def fact_values(verdicts: Sequence[str | None]) -> list[float]:
    """The accuracy-index values of the rated verdicts."""
    return [FACT_ACCURACY[v] for v in verdicts if v is not None and v in FACT_ACCURACY]


def fact_figures(scores: FactScores, values: Sequence[float]) -> list[Figure]:
    """The headline fact figures, each with its plain-language meaning."""
    n = scores.rated
    return [
        Figure(
            "accuracy",
            "Fact accuracy index",
            pct(scores.accuracy),
            span(mean_interval(values), "pct") or f"over {plural(n, 'rated fact')}",
            "The average over rated facts of true 100%, mostly true 75%, half true 50%, mostly "
            "false 25% and false 0%. Unverifiable claims are counted but not rated. Facts are "
            "judged on what could be known when they were said.",
            scores.accuracy,
        ),
    ]
