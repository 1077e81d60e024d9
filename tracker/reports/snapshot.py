"""The scores a report saw, stored in ReportRun.scores, and what changed between two of them.

A snapshot keeps only the headline figures per source (n and Brier, rated facts and
accuracy), not whole scorecards: it is what the next digest compares against, and it
must stay small with ten thousand sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tracker.scorecards.summary import SourceSummary
from tracker.scoring import SourceScores

SNAPSHOT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Headline:
    """The figures a digest compares: scored predictions and Brier, rated facts and accuracy."""

    n_scored: int = 0
    brier: float | None = None
    rated: int = 0
    accuracy: float | None = None

    @classmethod
    def of(cls, scores: SourceScores) -> Headline:
        """The headline of a source's scores."""
        return cls(
            scores.predictions.n_scored, scores.predictions.brier, scores.facts.rated, scores.facts.accuracy
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Headline:
        """Read one back from a snapshot; a missing or odd entry counts as nothing scored."""
        if not isinstance(data, Mapping):
            return cls()
        return cls(
            n_scored=int(data.get("n_scored") or 0),
            brier=_float(data.get("brier")),
            rated=int(data.get("rated") or 0),
            accuracy=_float(data.get("accuracy")),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, floats unrounded so that an unchanged record compares equal next time."""
        return {
            "n_scored": self.n_scored,
            "brier": self.brier,
            "rated": self.rated,
            "accuracy": self.accuracy,
        }

    @property
    def empty(self) -> bool:
        """Nothing scored and nothing rated."""
        return self.n_scored == 0 and self.rated == 0


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """One source whose headline moved between two reports; `*_members` for outlets with people."""

    slug: str
    name: str
    before: Headline
    after: Headline
    members_before: Headline | None = None
    members_after: Headline | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        out: dict[str, Any] = {
            "slug": self.slug,
            "name": self.name,
            "before": self.before.to_json(),
            "after": self.after.to_json(),
        }
        if self.members_after is not None or self.members_before is not None:
            out["including_members"] = {
                "before": (self.members_before or Headline()).to_json(),
                "after": (self.members_after or Headline()).to_json(),
            }
        return out


def take_snapshot(summaries: Iterable[SourceSummary]) -> dict[str, Any]:
    """The ReportRun.scores value: per slug, its name and headline (and with its members)."""
    sources: dict[str, Any] = {}
    for s in summaries:
        entry: dict[str, Any] = {"name": s.source.name, "own": Headline.of(s.scores).to_json()}
        if s.including_members is not None:
            entry["with_members"] = Headline.of(s.including_members).to_json()
        sources[s.source.slug] = entry
    return {"format": SNAPSHOT_FORMAT, "sources": dict(sorted(sources.items()))}


def _entries(snapshot: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not snapshot or snapshot.get("format") != SNAPSHOT_FORMAT:
        # No earlier report, or one in a format this version cannot read: compare with nothing.
        return {}
    sources = snapshot.get("sources")
    return sources if isinstance(sources, Mapping) else {}


def score_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[ScoreChange]:
    """Sources whose headline (alone or with members) differs between two snapshots, by slug.

    A source missing from `before` compares with an empty record, so the first report
    lists every source with something scored, and none that has nothing.
    """
    old, new = _entries(before), _entries(after)
    changes: list[ScoreChange] = []
    for slug in sorted(set(old) | set(new)):
        o, n = old.get(slug) or {}, new.get(slug) or {}
        own_before, own_after = Headline.from_json(o.get("own")), Headline.from_json(n.get("own"))
        has_members = "with_members" in o or "with_members" in n
        members_before = Headline.from_json(o.get("with_members")) if has_members else None
        members_after = Headline.from_json(n.get("with_members")) if has_members else None
        if own_before == own_after and members_before == members_after:
            continue
        name = str(n.get("name") or o.get("name") or slug)
        changes.append(ScoreChange(slug, name, own_before, own_after, members_before, members_after))
    return changes
