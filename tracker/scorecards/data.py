"""Read what the scorecards show, in chunks of sources, as plain frozen records.

The claim records are named tuples rather than dataclasses: a build makes one per claim,
resolution and criteria version, and a tuple is built in one step rather than field by field.

The site builder and the report never touch ORM objects: they get `SourceRecord`s and
`ClaimRecord`s from here, which also map onto the scoring core's inputs. Claims are read
a chunk of sources at a time, so a build's memory does not grow with the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.orm import Session

from tracker.models import (
    Appearance,
    Claim,
    ClaimKind,
    ClaimTag,
    CriteriaVersion,
    Resolution,
    Reviewer,
    ReviewRole,
    Source,
    claim_reviewers,
    recorded_late,
)
from tracker.review import visible_history
from tracker.scoring import ScoredFact, ScoredPrediction, TalliedPromise

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


class Article(NamedTuple):
    """Where a claim appeared."""

    url: str
    title: str | None
    author: str | None
    published: dt.date | None


class HistoryEntry(NamedTuple):
    """One entry of a claim's verdict history: a verdict, a promise's progress, or (both None) un-resolved."""

    verdict: str | None
    evidence: tuple[str, ...]
    note: str | None
    reviewer: str | None  # handle
    reviewer_name: str | None
    resolved_on: dt.date
    progress: str | None = None
    role: str = ReviewRole.VERDICT.value  # its part in a double review (tracker.review)


class CriteriaEntry(NamedTuple):
    """One recorded version of a prediction's resolution criteria."""

    version: int
    criteria: str
    deadline: dt.date | None
    window_start: dt.date | None
    timezone: str | None
    recorded_at: dt.datetime
    reason: str | None = None  # why it replaced the version before (None: not said)
    recorded_by: str | None = None  # the name of whoever recorded it, when known


class ClaimRecord(NamedTuple):
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
    article: Article | None
    tags: tuple[str, ...]
    reviewers: tuple[str, ...]
    history: tuple[HistoryEntry, ...]
    criteria_history: tuple[CriteriaEntry, ...]
    probability_basis: str | None = None
    recorded_after_outcome: bool = False
    progress: str | None = None  # an open promise's latest progress status

    @property
    def recorded_late(self) -> bool:
        """Recorded after its outcome was known, or with criteria first set after the deadline."""
        return recorded_late(self.recorded_after_outcome, self.criteria_history, self.deadline)

    @property
    def latest(self) -> HistoryEntry | None:
        """The entry that gave the current verdict (None while the claim is open)."""
        if self.verdict is None:
            return None
        # A promise's progress entries are not verdicts; any recorded late come after it.
        return next((h for h in reversed(self.history) if h.progress is None), None)

    @property
    def resolved_on(self) -> dt.date | None:
        """When the current verdict was given."""
        latest = self.latest
        return latest.resolved_on if latest else None

    def scored(self) -> ScoredPrediction | ScoredFact | TalliedPromise:
        """The record the scoring core reads (a promise's is tallied, never scored)."""
        if self.kind == ClaimKind.PREDICTION:
            return ScoredPrediction(
                key=self.key,
                probability=self.probability,
                verdict=self.verdict,
                made_on=self.made_on,
                deadline=self.deadline,
                resolved_on=self.resolved_on,
                tags=self.tags,
                recorded_late=self.recorded_late,
            )
        if self.kind == ClaimKind.PROMISE:
            return TalliedPromise(
                key=self.key,
                verdict=self.verdict,
                progress=self.progress,
                made_on=self.made_on,
                deadline=self.deadline,
                tags=self.tags,
            )
        return ScoredFact(
            key=self.key,
            verdict=self.verdict,
            made_on=self.made_on,
            tags=self.tags,
            recorded_late=self.recorded_late,
        )


Records = tuple[list[ScoredPrediction], list[ScoredFact], list[TalliedPromise]]
"""A source's scoring records: its predictions, its facts and its promises (`split_scored`)."""


def split_scored(claims: Iterable[ClaimRecord]) -> Records:
    """The scoring core's predictions, facts and (tallied, never scored) promises for these claims."""
    predictions: list[ScoredPrediction] = []
    facts: list[ScoredFact] = []
    promises: list[TalliedPromise] = []
    for claim in claims:
        scored = claim.scored()
        if isinstance(scored, ScoredPrediction):
            predictions.append(scored)
        elif isinstance(scored, TalliedPromise):
            promises.append(scored)
        else:
            facts.append(scored)
    return predictions, facts, promises


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


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
"""The one parameter of the loader's queries: the chunk's source ids."""

_claims = Claim.__table__.c
_tags = ClaimTag.__table__.c
_people = Reviewer.__table__.c
_res = Resolution.__table__.c
_cv = CriteriaVersion.__table__.c
_app = Appearance.__table__.c
# The children are read by the claims' source ids rather than a list of claim ids, so that
# one chunk is a handful of queries whatever its size.
_OF_SOURCES = _claims.source_id.in_(_IDS)

CLAIMS_OF_SOURCES = (
    select(
        _claims.id,
        _claims.key,
        _claims.source_id,
        _claims.kind,
        _claims.statement,
        _claims.quote,
        _claims.made_on,
        _claims.probability,
        _claims.confidence,
        _claims.criteria,
        _claims.deadline,
        _claims.window_start,
        _claims.timezone,
        _claims.as_of,
        _claims.status,
        _claims.verdict,
        _claims.probability_basis,
        _claims.recorded_after_outcome,
        _claims.progress,
        _app.url,  # NULL: no appearance (url is NOT NULL in appearances)
        _app.title,
        _app.author,
        _app.published,
    )
    .outerjoin(Appearance.__table__, _app.id == _claims.appearance_id)
    .where(_OF_SOURCES)
    .order_by(_claims.made_on, _claims.key)
)
TAGS_OF_SOURCES = (
    select(_tags.claim_id, _tags.tag)
    .join(Claim.__table__, _claims.id == _tags.claim_id)
    .where(_OF_SOURCES)
    .order_by(_tags.claim_id, _tags.tag)
)
REVIEWERS_OF_SOURCES = (
    select(claim_reviewers.c.claim_id, _people.handle)
    .join(Reviewer.__table__, _people.id == claim_reviewers.c.reviewer_id)
    .join(Claim.__table__, _claims.id == claim_reviewers.c.claim_id)
    .where(_OF_SOURCES)
    # By the claims' own id: ordered by handle alone, or by claim_reviewers.claim_id, SQLite
    # walks the whole claim_reviewers table for every chunk instead of the chunk's claims.
    .order_by(_claims.id, _people.handle)
)
HISTORY_OF_SOURCES = (
    select(
        _res.claim_id,
        _res.verdict,
        _res.evidence,
        _res.note,
        _people.handle,
        _people.name,
        _res.resolved_on,
        _res.progress,
        _res.role,
    )
    .join(Claim.__table__, _claims.id == _res.claim_id)
    .outerjoin(Reviewer.__table__, _people.id == _res.reviewer_id)
    .where(_OF_SOURCES)
    .order_by(_res.id)
)
CRITERIA_OF_SOURCES = (
    select(
        _cv.claim_id,
        _cv.version,
        _cv.criteria,
        _cv.deadline,
        _cv.window_start,
        _cv.timezone,
        _cv.recorded_at,
        _cv.reason,
        _people.name,
    )
    .join(Claim.__table__, _claims.id == _cv.claim_id)
    .outerjoin(Reviewer.__table__, _people.id == _cv.recorded_by_id)
    .where(_OF_SOURCES)
    .order_by(_cv.version)
)
LOADER_STATEMENTS = (
    CLAIMS_OF_SOURCES,
    TAGS_OF_SOURCES,
    REVIEWERS_OF_SOURCES,
    HISTORY_OF_SOURCES,
    CRITERIA_OF_SOURCES,
)
"""Every query the loader runs for a chunk of sources, each with the one parameter `ids`."""


def _public(status: str, history: list[HistoryEntry]) -> tuple[HistoryEntry, ...]:
    """The history a scorecard may show: a double review's verdicts only once they resolve it."""
    return tuple(visible_history(status, history, None, lambda e: e.reviewer, public=True))


def _load_claims(session: Session, source_ids: Sequence[int]) -> list[ClaimRecord]:
    ids = {"ids": list(source_ids)}
    claim_rows = session.execute(CLAIMS_OF_SOURCES, ids).all()
    if not claim_rows:
        return []

    tags: dict[int, list[str]] = defaultdict(list)
    for claim_id, tag in session.execute(TAGS_OF_SOURCES, ids):
        tags[claim_id].append(tag)

    reviewers: dict[int, list[str]] = defaultdict(list)
    for claim_id, handle in session.execute(REVIEWERS_OF_SOURCES, ids):
        reviewers[claim_id].append(handle)

    history: dict[int, list[HistoryEntry]] = defaultdict(list)
    for claim_id, verdict, evidence, note, handle, name, resolved_on, progress, role in session.execute(
        HISTORY_OF_SOURCES, ids
    ):
        history[claim_id].append(
            HistoryEntry(verdict, tuple(evidence or ()), note, handle, name, resolved_on, progress, role)
        )

    criteria: dict[int, list[CriteriaEntry]] = defaultdict(list)
    for claim_id, *entry in session.execute(CRITERIA_OF_SOURCES, ids):
        criteria[claim_id].append(CriteriaEntry._make(entry))

    # Claims share articles (several claims from one piece): one record each, per chunk.
    articles: dict[tuple[Any, ...], Article] = {}
    none: tuple[Any, ...] = ()
    records = []
    for row in claim_rows:
        claim_id = row[0]
        url = row[19]
        article = None
        if url is not None:
            key = tuple(row[19:])
            article = articles.get(key)
            if article is None:
                article = articles[key] = Article._make(key)
        records.append(
            ClaimRecord._make(
                (
                    *row[:16],
                    article,
                    tuple(tags[claim_id]) if claim_id in tags else none,
                    tuple(reviewers[claim_id]) if claim_id in reviewers else none,
                    _public(row[14], history[claim_id]) if claim_id in history else none,
                    tuple(criteria[claim_id]) if claim_id in criteria else none,
                    row[16],
                    bool(row[17]),
                    row[18],
                )
            )
        )
    return records
