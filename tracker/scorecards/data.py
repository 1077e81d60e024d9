"""Read what the scorecards show, in chunks of sources, as plain frozen records.

The site builder and the report never touch ORM objects: they get `SourceRecord`s and
`ClaimRecord`s from here, which also map onto the scoring core's inputs. Claims are read
a chunk of sources at a time, so a build's memory does not grow with the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import (
    Appearance,
    Claim,
    ClaimKind,
    ClaimTag,
    CriteriaVersion,
    Resolution,
    Reviewer,
    Source,
    claim_reviewers,
)
from tracker.scoring import ScoredFact, ScoredPrediction

SOURCES_PER_CHUNK = 200


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A source as its scorecard shows it."""

    id: int
    slug: str
    name: str
    kind: str
    url: str | None
    notes: str | None
    parent_id: int | None
    revision: int


@dataclass(frozen=True, slots=True)
class Article:
    """Where a claim appeared."""

    url: str
    title: str | None
    author: str | None
    published: dt.date | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One entry of a claim's verdict history (verdict None: un-resolved)."""

    verdict: str | None
    evidence: tuple[str, ...]
    note: str | None
    reviewer: str | None  # handle
    reviewer_name: str | None
    resolved_on: dt.date
    recorded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CriteriaEntry:
    """One recorded version of a prediction's resolution criteria."""

    version: int
    criteria: str
    deadline: dt.date | None
    window_start: dt.date | None
    timezone: str | None
    recorded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """A claim with everything its scorecard entry shows."""

    id: int
    key: str
    source_id: int
    kind: str
    statement: str
    quote: str
    made_on: dt.date
    probability: float | None
    confidence: str | None
    criteria: str | None
    deadline: dt.date | None
    window_start: dt.date | None
    timezone: str | None
    as_of: dt.date | None
    status: str
    verdict: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    article: Article | None
    tags: tuple[str, ...]
    reviewers: tuple[str, ...]
    history: tuple[HistoryEntry, ...]
    criteria_history: tuple[CriteriaEntry, ...]

    @property
    def latest(self) -> HistoryEntry | None:
        """The entry that gave the current verdict (None while the claim is open)."""
        if self.verdict is None or not self.history:
            return None
        return self.history[-1]

    @property
    def resolved_on(self) -> dt.date | None:
        """When the current verdict was given."""
        latest = self.latest
        return latest.resolved_on if latest else None

    def scored(self) -> ScoredPrediction | ScoredFact:
        """The record the scoring core reads."""
        if self.kind == ClaimKind.PREDICTION:
            return ScoredPrediction(
                key=self.key,
                probability=self.probability,
                verdict=self.verdict,
                made_on=self.made_on,
                deadline=self.deadline,
                resolved_on=self.resolved_on,
                tags=self.tags,
            )
        return ScoredFact(key=self.key, verdict=self.verdict, made_on=self.made_on, tags=self.tags)


def split_scored(claims: Iterable[ClaimRecord]) -> tuple[list[ScoredPrediction], list[ScoredFact]]:
    """The scoring core's predictions and facts for these claims."""
    predictions: list[ScoredPrediction] = []
    facts: list[ScoredFact] = []
    for claim in claims:
        scored = claim.scored()
        if isinstance(scored, ScoredPrediction):
            predictions.append(scored)
        else:
            facts.append(scored)
    return predictions, facts


def load_sources(session: Session) -> list[SourceRecord]:
    """Every source, by slug."""
    rows = session.execute(
        select(
            Source.id,
            Source.slug,
            Source.name,
            Source.kind,
            Source.url,
            Source.notes,
            Source.parent_id,
            Source.revision,
        ).order_by(Source.slug)
    )
    return [SourceRecord(*row) for row in rows]


def _in_chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def iter_claims_by_source(
    session: Session, source_ids: Sequence[int], *, chunk: int = SOURCES_PER_CHUNK
) -> Iterator[tuple[int, list[ClaimRecord]]]:
    """(source id, its claims in made_on order) for each given source, read a chunk at a time."""
    for ids in _in_chunks(list(source_ids), chunk):
        by_source: dict[int, list[ClaimRecord]] = {i: [] for i in ids}
        for claim in _load_claims(session, ids):
            by_source[claim.source_id].append(claim)
        yield from by_source.items()


def _load_claims(session: Session, source_ids: Sequence[int]) -> list[ClaimRecord]:
    claim_rows = session.execute(
        select(Claim.__table__).where(Claim.source_id.in_(source_ids)).order_by(Claim.made_on, Claim.key)
    ).all()
    if not claim_rows:
        return []
    # The children are read by the claims' source ids rather than a list of claim ids, so
    # that one chunk is a handful of queries whatever its size.
    of_sources = Claim.source_id.in_(source_ids)

    tags: dict[int, list[str]] = defaultdict(list)
    for claim_id, tag in session.execute(
        select(ClaimTag.claim_id, ClaimTag.tag).join(Claim).where(of_sources).order_by(ClaimTag.tag)
    ):
        tags[claim_id].append(tag)

    reviewers: dict[int, list[str]] = defaultdict(list)
    for claim_id, handle in session.execute(
        select(claim_reviewers.c.claim_id, Reviewer.handle)
        .join(Reviewer, Reviewer.id == claim_reviewers.c.reviewer_id)
        .join(Claim, Claim.id == claim_reviewers.c.claim_id)
        .where(of_sources)
        .order_by(Reviewer.handle)
    ):
        reviewers[claim_id].append(handle)

    history: dict[int, list[HistoryEntry]] = defaultdict(list)
    for row in session.execute(
        select(
            Resolution.claim_id,
            Resolution.verdict,
            Resolution.evidence,
            Resolution.note,
            Reviewer.handle,
            Reviewer.name,
            Resolution.resolved_on,
            Resolution.recorded_at,
        )
        .join(Claim, Claim.id == Resolution.claim_id)
        .outerjoin(Reviewer, Reviewer.id == Resolution.reviewer_id)
        .where(of_sources)
        .order_by(Resolution.id)
    ):
        history[row.claim_id].append(
            HistoryEntry(
                verdict=row.verdict,
                evidence=tuple(row.evidence or ()),
                note=row.note,
                reviewer=row.handle,
                reviewer_name=row.name,
                resolved_on=row.resolved_on,
                recorded_at=row.recorded_at,
            )
        )

    criteria: dict[int, list[CriteriaEntry]] = defaultdict(list)
    for version in session.execute(
        select(CriteriaVersion).join(Claim).where(of_sources).order_by(CriteriaVersion.version)
    ).scalars():
        criteria[version.claim_id].append(
            CriteriaEntry(
                version.version,
                version.criteria,
                version.deadline,
                version.window_start,
                version.timezone,
                version.recorded_at,
            )
        )

    appearance_ids = {row.appearance_id for row in claim_rows if row.appearance_id is not None}
    articles: dict[int, Article] = {}
    for start in range(0, len(appearance_ids), 5000):
        wanted = sorted(appearance_ids)[start : start + 5000]
        for a in session.execute(select(Appearance).where(Appearance.id.in_(wanted))).scalars():
            articles[a.id] = Article(a.url, a.title, a.author, a.published)

    return [_claim(row, tags, reviewers, history, criteria, articles) for row in claim_rows]


def _claim(
    row: Any,
    tags: dict[int, list[str]],
    reviewers: dict[int, list[str]],
    history: dict[int, list[HistoryEntry]],
    criteria: dict[int, list[CriteriaEntry]],
    articles: dict[int, Article],
) -> ClaimRecord:
    return ClaimRecord(
        id=row.id,
        key=row.key,
        source_id=row.source_id,
        kind=row.kind,
        statement=row.statement,
        quote=row.quote,
        made_on=row.made_on,
        probability=row.probability,
        confidence=row.confidence,
        criteria=row.criteria,
        deadline=row.deadline,
        window_start=row.window_start,
        timezone=row.timezone,
        as_of=row.as_of,
        status=row.status,
        verdict=row.verdict,
        created_at=row.created_at,
        updated_at=row.updated_at,
        article=articles.get(row.appearance_id) if row.appearance_id is not None else None,
        tags=tuple(tags.get(row.id, ())),
        reviewers=tuple(reviewers.get(row.id, ())),
        history=tuple(history.get(row.id, ())),
        criteria_history=tuple(criteria.get(row.id, ())),
    )
