"""A source's page as a view model, and the summary the index keeps of it.

`source_page` takes one source's claims (and, for an outlet with people, its members'
scoring records) and returns everything the template prints, plus a `Summary`: the
few figures the index needs, which the manifest stores so that the index can be
rebuilt without reading any claim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from tracker.formatting import DASH
from tracker.models import DEADLINE_KINDS, ClaimKind, PromiseProgress, PromiseVerdict, SourceKind
from tracker.scorecards.charts import (
    Bar,
    CalibrationChart,
    TimelineChart,
    bars,
    calibration_chart,
    timeline_chart,
)
from tracker.scorecards.claimreview import ReviewWriter, progress_label, verdict_label
from tracker.scorecards.claims import ClaimView, claim_view, day
from tracker.scorecards.data import ClaimRecord, Records, SourceRecord, split_scored
from tracker.scorecards.figures import (
    Figure,
    brier_terms,
    fact_figures,
    fact_values,
    hit_interval,
    mean_interval,
    num,
    pct,
    prediction_figures,
)
from tracker.scoring import (
    FACT_VERDICTS,
    PREDICTION_VERDICTS,
    SourceScores,
    brier_over_time,
    fact_rank_key,
    rank_key,
    score_source,
    scored_pairs,
)

KIND_LABELS = {
    SourceKind.OUTLET.value: "Outlet",
    SourceKind.PERSON.value: "Person",
    SourceKind.ORGANISATION.value: "Organisation",
}


@dataclass(frozen=True, slots=True)
class Link:
    """Another source's page, as a link."""

    name: str
    href: str


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    """One row of the calibration table under the chart."""

    said: str
    n: int
    hits: int
    observed: str
    interval: str


@dataclass(frozen=True, slots=True)
class Comparison:
    """One figure for the source alone and together with its people."""

    label: str
    alone: str
    together: str


class Summary(NamedTuple):
    """What the index shows of a source, stored in the manifest between builds (as a JSON list)."""

    slug: str
    name: str
    kind: str
    claims: int
    n: int  # scored predictions
    brier: float | None
    brier_lo: float | None
    brier_hi: float | None
    hit: float | None
    hit_lo: float | None
    hit_hi: float | None
    too_few: bool
    rated: int  # rated facts
    accuracy: float | None
    facts_too_few: bool
    open: int  # open claims of every kind: predictions, facts and promises
    overdue: int
    promises: int  # the promise tally (never scored, never ranked)
    kept: int
    compromise: int
    broken: int
    rank: tuple[bool, float | None, int]  # tracker.scoring.rank_key, None for infinity
    fact_rank: tuple[bool, float | None, int]


@dataclass(frozen=True, slots=True)
class SourcePage:
    """Everything a source's page prints."""

    source: SourceRecord
    kind_label: str
    parent: Link | None
    members: tuple[Link, ...]
    scores: SourceScores
    has_predictions: bool
    has_facts: bool
    prediction_figures: tuple[Figure, ...]
    fact_figures: tuple[Figure, ...]
    excluded_counts: tuple[tuple[str, int], ...]
    calibration: CalibrationChart | None
    calibration_rows: tuple[CalibrationRow, ...]
    timeline: TimelineChart | None
    prediction_bars: tuple[Bar, ...]
    fact_bars: tuple[Bar, ...]
    has_promises: bool
    promise_bars: tuple[Bar, ...]  # the promise meter: kept ... not yet rated
    promises: tuple[ClaimView, ...]  # the promises with a verdict, most recent first
    together_label: str
    comparison: tuple[Comparison, ...]
    open_claims: tuple[ClaimView, ...]
    resolved: tuple[ClaimView, ...]
    excluded: tuple[ClaimView, ...]
    today: str
    timezones: tuple[str, ...]  # where the page's "days left" were counted


def _finite(key: tuple[bool, float, int]) -> tuple[bool, float | None, int]:
    # JSON has no infinity: None stands for "nothing scored", which sorts last.
    return (key[0], None if key[1] == float("inf") else key[1], key[2])


def _prediction_bars(scores: SourceScores) -> tuple[Bar, ...]:
    c = scores.predictions.counts
    counts = {"true": c.resolved_true, "false": c.resolved_false, "ambiguous": c.ambiguous}
    counts["annulled"] = c.annulled
    rows = [(v, verdict_label(ClaimKind.PREDICTION, v), counts[v]) for v in PREDICTION_VERDICTS]
    return bars([*rows, ("open", "Still open", c.open)])


def _fact_bars(scores: SourceScores) -> tuple[Bar, ...]:
    shares = {d.verdict: d.count for d in scores.facts.distribution}
    rows = [(v, verdict_label(ClaimKind.FACT, v), shares.get(v, 0)) for v in FACT_VERDICTS]
    return bars([*rows, ("open", "Not yet checked", scores.facts.open)])


def promise_rows(scores: SourceScores) -> list[tuple[str, str, int]]:
    """The promise meter as (key, label, count) rows: the verdicts, then where open ones stand."""
    t = scores.promises
    return [
        (PromiseVerdict.KEPT.value, verdict_label(ClaimKind.PROMISE, PromiseVerdict.KEPT), t.kept),
        (
            PromiseVerdict.COMPROMISE.value,
            verdict_label(ClaimKind.PROMISE, PromiseVerdict.COMPROMISE),
            t.compromise,
        ),
        (PromiseVerdict.BROKEN.value, verdict_label(ClaimKind.PROMISE, PromiseVerdict.BROKEN), t.broken),
        (PromiseProgress.IN_THE_WORKS.value, progress_label(PromiseProgress.IN_THE_WORKS), t.in_the_works),
        (PromiseProgress.STALLED.value, progress_label(PromiseProgress.STALLED), t.stalled),
        ("open", "Not yet rated", t.not_yet_rated),
    ]


def _comparison(alone: SourceScores, together: SourceScores) -> tuple[Comparison, ...]:
    a, t = alone.predictions, together.predictions
    fa, ft = alone.facts, together.facts
    return (
        Comparison("Scored predictions", str(a.n_scored), str(t.n_scored)),
        Comparison("Brier score", num(a.brier), num(t.brier)),
        Comparison("Hit rate", pct(a.hit_rate), pct(t.hit_rate)),
        Comparison("Log score", num(a.log_score), num(t.log_score)),
        Comparison("Rated facts", str(fa.rated), str(ft.rated)),
        Comparison("Fact accuracy index", pct(fa.accuracy), pct(ft.accuracy)),
        Comparison("Promises kept / compromise / broken", _meter(alone), _meter(together)),
        Comparison("Open", _open(alone), _open(together)),
    )


def _meter(scores: SourceScores) -> str:
    t = scores.promises
    return f"{t.kept} / {t.compromise} / {t.broken}"


def _open(scores: SourceScores) -> str:
    overdue = scores.predictions.counts.overdue + scores.promises.overdue
    n = scores.predictions.counts.open + scores.facts.open + scores.promises.open
    return f"{n} ({overdue} overdue)" if overdue else str(n)


def summary_of(source: SourceRecord, claims: int, scores: SourceScores, pairs_brier: list[float]) -> Summary:
    """The index's view of one source: `claims` its own, the figures those its page leads with.

    For an outlet with people the figures are theirs together (as its page's "with its
    people" table shows them), so its row never reads 0 open while a person is overdue.
    """
    p, f, t = scores.predictions, scores.facts, scores.promises
    brier_ci = mean_interval(pairs_brier)
    hit_ci = hit_interval(p)
    return Summary(
        slug=source.slug,
        name=source.name,
        kind=source.kind,
        claims=claims,
        n=p.n_scored,
        brier=p.brier,
        brier_lo=brier_ci[0] if brier_ci else None,
        brier_hi=brier_ci[1] if brier_ci else None,
        hit=p.hit_rate,
        hit_lo=hit_ci[0] if hit_ci else None,
        hit_hi=hit_ci[1] if hit_ci else None,
        too_few=p.too_few,
        rated=f.rated,
        accuracy=f.accuracy,
        facts_too_few=f.too_few,
        open=p.counts.open + f.open + t.open,
        overdue=p.counts.overdue + t.overdue,
        promises=t.total,
        kept=t.kept,
        compromise=t.compromise,
        broken=t.broken,
        rank=_finite(rank_key(scores)),
        fact_rank=_finite(fact_rank_key(scores)),
    )


def source_page(
    source: SourceRecord,
    claims: Sequence[ClaimRecord],
    *,
    parent: Link | None,
    members: Sequence[Link],
    with_members: Records | None,
    records: Records | None = None,
    today: dt.date,
    today_in: Callable[[str | None], dt.date],
    default_timezone: str,
    site_url: str | None = None,
) -> tuple[SourcePage, Summary]:
    """The page and index summary of one source; `with_members` adds its people's figures.

    `with_members` are the source's scoring records together with its people's
    (`tracker.scorecards.family.with_members`); the page compares them with its own, and
    the index row counts them.

    `records` are the claims' scoring records (`split_scored(claims)`), when the caller
    has made them already.
    """
    predictions, facts, promises = split_scored(claims) if records is None else records
    review = ReviewWriter(source, site_url)
    views = [claim_view(claim, review, today_in=today_in) for claim in claims]
    timezones = {
        claim.timezone or default_timezone
        for claim in claims
        if claim.verdict is None and claim.kind in DEADLINE_KINDS
    }
    scores = score_source(predictions, facts, promises, today=today)
    pairs = scored_pairs(predictions)
    terms = brier_terms(pairs)

    comparison: tuple[Comparison, ...] = ()
    together_label = ""
    together = scores
    together_pairs = pairs
    if with_members is not None and members:
        together = score_source(*with_members, today=today)
        together_pairs = scored_pairs(with_members[0])
        comparison = _comparison(scores, together)
        if together.predictions.counts.open or together.promises.open:
            # The row's overdue count is of today, where the build reads deadlines.
            timezones.add(default_timezone)
        people = "person" if len(members) == 1 else "people"
        together_label = f"With its {len(members)} {people}"

    open_claims = sorted((v for v in views if v.verdict is None), key=lambda v: (v.sort_deadline, v.key))
    # Promises with a verdict have their own record beside the meter: they are never scored.
    promise_views = sorted(
        (v for v in views if v.verdict is not None and v.claim.kind == ClaimKind.PROMISE),
        key=lambda v: (v.sort_resolved, v.key),
        reverse=True,
    )
    resolved = sorted(
        (v for v in views if v.verdict is not None and not v.excluded and v.claim.kind != ClaimKind.PROMISE),
        key=lambda v: (v.sort_resolved, v.key),
        reverse=True,
    )
    excluded = sorted((v for v in views if v.excluded), key=lambda v: (v.sort_resolved, v.key), reverse=True)
    c = scores.predictions.counts
    excluded_counts = tuple(
        (one if count == 1 else many, count)
        for one, many, count in (
            ("ambiguous prediction", "ambiguous predictions", c.ambiguous),
            ("annulled prediction", "annulled predictions", c.annulled),
            ("hedge that names no probability", "hedges that name no probability", c.hedges),
            ("unverifiable fact", "unverifiable facts", scores.facts.unverifiable),
        )
        if count
    )
    cal = scores.predictions.calibration
    page = SourcePage(
        source=source,
        kind_label=KIND_LABELS.get(source.kind, source.kind),
        parent=parent,
        members=tuple(members),
        scores=scores,
        has_predictions=bool(predictions),
        has_facts=bool(facts),
        prediction_figures=tuple(prediction_figures(scores.predictions, pairs)),
        fact_figures=tuple(fact_figures(scores.facts, fact_values([f.verdict for f in facts]))),
        excluded_counts=excluded_counts,
        calibration=calibration_chart(cal),
        calibration_rows=tuple(
            CalibrationRow(
                said=pct(b.mean_forecast) if b.lower == b.upper else f"{pct(b.lower)}{DASH}{pct(b.upper)}",
                n=b.n,
                hits=b.hits,
                observed=pct(b.observed),
                interval=f"{pct(b.ci_low)}{DASH}{pct(b.ci_high)}",
            )
            for b in cal
        ),
        timeline=timeline_chart(brier_over_time(predictions)),
        prediction_bars=_prediction_bars(scores) if predictions else (),
        fact_bars=_fact_bars(scores) if facts else (),
        has_promises=bool(promises),
        promise_bars=bars(promise_rows(scores)) if promises else (),
        promises=tuple(promise_views),
        together_label=together_label,
        comparison=comparison,
        open_claims=tuple(open_claims),
        resolved=tuple(resolved),
        excluded=tuple(excluded),
        today=day(today) if timezones else "",
        timezones=tuple(sorted(timezones | ({default_timezone} if timezones else set()))),
    )
    summary_terms = terms if together is scores else brier_terms(together_pairs)
    return page, summary_of(source, len(claims), together, summary_terms)
