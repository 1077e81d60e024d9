"""What happened in a report's period: new verdicts, new claims, deadlines that passed.

The period is (since, until]: a row recorded exactly at the previous report's time
belongs to that report. Times are when rows reached the database (`recorded_at`,
`created_at`), not the dates claims give, so a back-dated verdict entered today is news
today. Each list is capped (`limit`), with the full count kept, so that a first report
on a large database stays readable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.models import DEADLINE_KINDS, Claim, ClaimStatus, Resolution, Reviewer, Source
from tracker.reports.snapshot import ScoreChange
from tracker.rules import latest_date
from tracker.services.deadlines import deadline_passed

LIMIT = 200
"""Items listed per section; the digest says how many more there were."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Section(Generic[T]):
    """The first `limit` items of a section, and how many there were in all."""

    items: tuple[T, ...]
    total: int

    @property
    def more(self) -> int:
        """Items counted but not listed."""
        return self.total - len(self.items)


@dataclass(frozen=True, slots=True)
class ClaimRef:
    """A claim as the digest names it."""

    key: str
    kind: str
    statement: str
    source_slug: str
    source_name: str
    probability: float | None
    confidence: str | None
    made_on: dt.date
    deadline: dt.date | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "key": self.key,
            "kind": self.kind,
            "statement": self.statement,
            "source": self.source_slug,
            "probability": self.probability,
            "confidence": self.confidence,
            "made_on": self.made_on.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }


@dataclass(frozen=True, slots=True)
class NewResolution:
    """One verdict recorded in the period; verdict None means the claim was re-opened, or
    (with `progress`) a promise's progress was recorded."""

    claim: ClaimRef
    verdict: str | None
    evidence: tuple[str, ...]
    note: str | None
    reviewer: str | None  # handle
    reviewer_name: str | None
    resolved_on: dt.date
    recorded_at: dt.datetime
    progress: str | None = None  # an open promise's progress status (verdict None)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "claim": self.claim.to_json(),
            "verdict": self.verdict,
            "progress": self.progress,
            "evidence": list(self.evidence),
            "note": self.note,
            "by": self.reviewer,
            "resolved_on": self.resolved_on.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything the digest shows; `since` None means from the beginning."""

    since: dt.datetime | None
    until: dt.datetime
    timezone: str
    resolutions: Section[NewResolution]
    score_changes: Section[ScoreChange]
    newly_overdue: Section[ClaimRef]
    new_claims: Section[ClaimRef]

    @property
    def empty(self) -> bool:
        """Nothing happened in the period."""
        return not (
            self.resolutions.total
            or self.score_changes.total
            or self.newly_overdue.total
            or self.new_claims.total
        )

    def counts(self) -> dict[str, int]:
        """How many of each kind of change."""
        return {
            "resolutions": self.resolutions.total,
            "score_changes": self.score_changes.total,
            "newly_overdue": self.newly_overdue.total,
            "new_claims": self.new_claims.total,
        }

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: the period, the counts and the listed items."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat(),
            "counts": self.counts(),
            "resolutions": [r.to_json() for r in self.resolutions.items],
            "score_changes": [c.to_json() for c in self.score_changes.items],
            "newly_overdue": [c.to_json() for c in self.newly_overdue.items],
            "new_claims": [c.to_json() for c in self.new_claims.items],
        }


_CLAIM_COLUMNS = (
    Claim.key,
    Claim.kind,
    Claim.statement,
    Source.slug.label("source_slug"),
    Source.name.label("source_name"),
    Claim.probability,
    Claim.confidence,
    Claim.made_on,
    Claim.deadline,
)


def _claim_ref(row: Any) -> ClaimRef:
    return ClaimRef(
        key=row.key,
        kind=row.kind,
        statement=row.statement,
        source_slug=row.source_slug,
        source_name=row.source_name,
        probability=row.probability,
        confidence=row.confidence,
        made_on=row.made_on,
        deadline=row.deadline,
    )


def _in_period(column: Any, since: dt.datetime | None, until: dt.datetime) -> list[Any]:
    return [column <= until] if since is None else [column > since, column <= until]


def new_resolutions(
    session: Session, since: dt.datetime | None, until: dt.datetime, *, limit: int = LIMIT
) -> Section[NewResolution]:
    """Verdicts (and re-openings) recorded in the period, oldest first."""
    period = _in_period(Resolution.recorded_at, since, until)
    total = session.scalar(select(func.count()).select_from(Resolution).where(*period)) or 0
    rows = session.execute(
        select(
            *_CLAIM_COLUMNS,
            Resolution.verdict,
            Resolution.evidence,
            Resolution.note,
            Reviewer.handle.label("reviewer"),
            Reviewer.name.label("reviewer_name"),
            Resolution.resolved_on,
            Resolution.recorded_at,
            Resolution.progress,
        )
        .join(Claim, Claim.id == Resolution.claim_id)
        .join(Source, Source.id == Claim.source_id)
        .outerjoin(Reviewer, Reviewer.id == Resolution.reviewer_id)
        .where(*period)
        .order_by(Resolution.recorded_at, Resolution.id)
        .limit(limit)
    )
    items = tuple(
        NewResolution(
            claim=_claim_ref(row),
            verdict=row.verdict,
            evidence=tuple(row.evidence or ()),
            note=row.note,
            reviewer=row.reviewer,
            reviewer_name=row.reviewer_name,
            resolved_on=row.resolved_on,
            recorded_at=row.recorded_at,
            progress=row.progress,
        )
        for row in rows
    )
    return Section(items, total)


def new_claims(
    session: Session, since: dt.datetime | None, until: dt.datetime, *, limit: int = LIMIT
) -> Section[ClaimRef]:
    """Claims added in the period, by source and id."""
    period = _in_period(Claim.created_at, since, until)
    total = session.scalar(select(func.count()).select_from(Claim).where(*period)) or 0
    rows = session.execute(
        select(*_CLAIM_COLUMNS)
        .join(Source, Source.id == Claim.source_id)
        .where(*period)
        .order_by(Source.slug, Claim.made_on, Claim.key)
        .limit(limit)
    )
    return Section(tuple(_claim_ref(row) for row in rows), total)


def _earliest_date(moment: dt.datetime) -> dt.date:
    """The earliest calendar date anywhere on Earth at `moment` (UTC-12), less a day of slack."""
    if moment <= dt.datetime(1, 1, 3, tzinfo=dt.UTC):
        return dt.date.min
    return (moment.astimezone(dt.UTC) - dt.timedelta(hours=14)).date()


def newly_overdue(
    session: Session,
    since: dt.datetime | None,
    until: dt.datetime,
    *,
    default_timezone: str,
    limit: int = LIMIT,
) -> Section[ClaimRef]:
    """Open predictions overdue at `until` that were not overdue at `since` (or did not exist yet).

    Deadlines are dates read in the claim's timezone (or `default_timezone`). A claim
    added in the period whose deadline had already passed is listed too: nobody has
    been told about it yet.
    """
    stmt = (
        select(*_CLAIM_COLUMNS, Claim.timezone, Claim.created_at)
        .join(Source, Source.id == Claim.source_id)
        .where(
            Claim.kind.in_(DEADLINE_KINDS),
            Claim.status == ClaimStatus.OPEN.value,
            Claim.deadline.is_not(None),
            Claim.deadline < latest_date(until),
            Claim.created_at <= until,
        )
        .order_by(Claim.deadline, Source.slug, Claim.key)
    )
    if since is not None:
        # SQL narrows to candidates; the exact test depends on each claim's timezone.
        stmt = stmt.where(or_(Claim.deadline >= _earliest_date(since), Claim.created_at > since))
    found: list[ClaimRef] = []
    for row in session.execute(stmt):
        ref, zone, created_at = _claim_ref(row), row.timezone or default_timezone, row.created_at
        assert ref.deadline is not None
        if not deadline_passed(ref.deadline, zone, until):
            continue
        if since is not None and created_at <= since and deadline_passed(ref.deadline, zone, since):
            continue
        found.append(ref)
    return Section(tuple(found[:limit]), len(found))


def capped(items: Sequence[T], limit: int = LIMIT) -> Section[T]:
    """A section of already computed items."""
    return Section(tuple(items[:limit]), len(items))
