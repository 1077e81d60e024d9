"""Per-source figures from the loader: each source alone, and an outlet together with its members.

Every figure comes from `tracker.scoring`; this module only reads the records, groups
them by source family and turns the frozen results into JSON. `tracker scores` and the
periodic report share it; the grouping is `tracker.scorecards.family`'s, the one the
site's pages and index use, so none of them can disagree about an outlet's people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tracker.scorecards.data import SourceRecord, iter_claims_by_source, load_sources, split_scored
from tracker.scorecards.family import Family, MemberRecords, Records, with_members
from tracker.scoring import (
    MIN_SAMPLE,
    BinningChoice,
    CalibrationBin,
    Decomposition,
    FactScores,
    PromiseTally,
    SourceScores,
    StatusCounts,
    score_source,
)
from tracker.services.lookup import get_source


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """One source's figures; `including_members` is set for a source that has members."""

    source: SourceRecord
    member_of: str | None  # the parent's slug
    members: tuple[str, ...]  # the members' slugs
    scores: SourceScores
    including_members: SourceScores | None


def iter_summaries(
    session: Session,
    sources: Sequence[SourceRecord] | None = None,
    *,
    today: dt.date,
    min_sample: int = MIN_SAMPLE,
    binning: BinningChoice = "auto",
) -> Iterator[SourceSummary]:
    """Summaries of `sources` (default: all), members before their outlet, read a chunk at a time.

    An outlet's `including_members` is its own records plus those of its direct members
    (people with `member_of` naming it) that are among `sources`, counted as its page and
    its index row count them (`tracker.scorecards.family`); only the members' records of
    a family still being read are held in memory.
    """
    everything = load_sources(session) if sources is None else list(sources)
    family = Family(everything)
    gathered = MemberRecords(family, family.members)

    def score(records: Records) -> SourceScores:
        return score_source(*records, today=today, min_sample=min_sample, binning=binning)

    for source_id, claims in iter_claims_by_source(session, family.children_first(family.by_id)):
        source = family.by_id[source_id]
        records = split_scored(claims)
        gathered.add(source, records)
        members = family.members.get(source_id)
        parent = family.parent(source)
        yield SourceSummary(
            source=source,
            member_of=parent.slug if parent is not None else None,
            members=tuple(m.slug for m in members or ()),
            scores=score(records),
            including_members=score(with_members(records, gathered.take(source_id))) if members else None,
        )


def summarise_sources(
    session: Session,
    *,
    today: dt.date,
    min_sample: int = MIN_SAMPLE,
    binning: BinningChoice = "auto",
) -> list[SourceSummary]:
    """Every source's summary, by slug."""
    found = iter_summaries(session, today=today, min_sample=min_sample, binning=binning)
    return sorted(found, key=lambda s: s.source.slug)


def summarise_source(
    session: Session,
    slug: str,
    *,
    today: dt.date,
    min_sample: int = MIN_SAMPLE,
    binning: BinningChoice = "auto",
) -> SourceSummary:
    """One source's summary (with its members when it has any); NotFound with a hint when unknown."""
    wanted = get_source(session, slug)
    family = [s for s in load_sources(session) if s.id == wanted.id or s.parent_id == wanted.id]
    for summary in iter_summaries(session, family, today=today, min_sample=min_sample, binning=binning):
        if summary.source.id == wanted.id:
            parent = wanted.parent
            return SourceSummary(
                source=summary.source,
                member_of=parent.slug if parent is not None else None,
                members=summary.members,
                scores=summary.scores,
                including_members=summary.including_members,
            )
    raise AssertionError(f"source {slug!r} vanished while it was being read")  # pragma: no cover


# --- JSON -------------------------------------------------------------------------------------------


def _bin_json(b: CalibrationBin) -> dict[str, Any]:
    return {
        "lower": b.lower,
        "upper": b.upper,
        "n": b.n,
        "hits": b.hits,
        "mean_forecast": b.mean_forecast,
        "observed": b.observed,
        "ci_low": b.ci_low,
        "ci_high": b.ci_high,
    }


def _decomposition_json(d: Decomposition | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "reliability": d.reliability,
        "resolution": d.resolution,
        "uncertainty": d.uncertainty,
        "within_bin_variance": d.within_bin_variance,
        "within_bin_covariance": d.within_bin_covariance,
        "binning": d.binning,
    }


def _status_json(c: StatusCounts) -> dict[str, int]:
    return {
        "total": c.total,
        "open": c.open,
        "overdue": c.overdue,
        "true": c.resolved_true,
        "false": c.resolved_false,
        "ambiguous": c.ambiguous,
        "annulled": c.annulled,
        "hedges": c.hedges,
        "scored": c.scored,
        "unscored_decided": c.unscored_decided,
        "unscored_true": c.unscored_true,
        "scored_recorded_late": c.scored_recorded_late,
    }


def _facts_json(f: FactScores) -> dict[str, Any]:
    return {
        "total": f.total,
        "open": f.open,
        "checked": f.checked,
        "rated": f.rated,
        "unverifiable": f.unverifiable,
        "distribution": [{"verdict": v.verdict, "count": v.count, "share": v.share} for v in f.distribution],
        "accuracy": f.accuracy,
        "too_few": f.too_few,
        "rated_recorded_late": f.rated_recorded_late,
    }


def promises_json(t: PromiseTally) -> dict[str, int]:
    """The promise tally: counts only, never a score."""
    return {
        "total": t.total,
        "kept": t.kept,
        "compromise": t.compromise,
        "broken": t.broken,
        "in_the_works": t.in_the_works,
        "stalled": t.stalled,
        "not_yet_rated": t.not_yet_rated,
        "overdue": t.overdue,
    }


def figures_json(scores: SourceScores) -> dict[str, Any]:
    """The figures as JSON-ready values, exactly as tracker.scoring computed them (floats unrounded)."""
    p = scores.predictions
    return {
        "n_scored": p.n_scored,
        "brier": p.brier,
        "skill_vs_chance": p.skill_vs_chance,
        "skill_vs_base_rate": p.skill_vs_base_rate,
        "base_rate": p.base_rate,
        "log_score": p.log_score,
        "hit_rate": p.hit_rate,
        "overconfidence": p.overconfidence,
        "binning": p.binning,
        "calibration": [_bin_json(b) for b in p.calibration],
        "decomposition": _decomposition_json(p.decomposition),
        "status": _status_json(p.counts),
        "facts": _facts_json(scores.facts),
        "promises": promises_json(scores.promises),
        "min_sample": p.min_sample,
        "predictions_too_few": p.too_few,
        "too_few": scores.too_few,
    }


def summary_json(summary: SourceSummary) -> dict[str, Any]:
    """One source for `tracker scores --json`: who it is, then its figures."""
    s = summary.source
    out: dict[str, Any] = {
        "slug": s.slug,
        "name": s.name,
        "kind": s.kind,
        "member_of": summary.member_of,
        "members": list(summary.members),
        **figures_json(summary.scores),
    }
    if summary.including_members is not None:
        out["including_members"] = figures_json(summary.including_members)
    return out
