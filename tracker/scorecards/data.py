"""Read what the scorecards show, in chunks of sources, as plain frozen records.

The claim records are named tuples rather than dataclasses: a build makes one per claim,
resolution and criteria version, and a tuple is built in one step rather than field by field.

The site builder and the report never touch ORM objects: they get `SourceRecord`s and
`ClaimRecord`s from here, which also map onto the scoring core's inputs. Claims are read
a chunk of sources at a time, so a build's memory does not grow with the database.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, select
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
from tracker.scorecards.memo import Memo
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


class Article(NamedTuple):
    """Where a claim appeared."""

    url: str
    title: str | None
    author: str | None
    published: dt.date | None


class HistoryEntry(NamedTuple):
    """One entry of a claim's verdict history (verdict None: un-resolved)."""

    verdict: str | None
    evidence: tuple[str, ...]
    note: str | None
    reviewer: str | None  # handle
    reviewer_name: str | None
    resolved_on: dt.date
    recorded_at: dt.datetime


class CriteriaEntry(NamedTuple):
    """One recorded version of a prediction's resolution criteria."""

    version: int
    criteria: str
    deadline: dt.date | None
    window_start: dt.date | None
    timezone: str | None
    recorded_at: dt.datetime


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


def _rows(session: Session, statement: Select[Any]) -> list[Any]:
    """The rows of a statement as the database driver returns them: plain tuples, unconverted.

    A build reads every claim, and SQLAlchemy's result rows and per-value processors cost
    more than the queries; the few conversions needed are done by `_day`, `_moment` and
    `_evidence` instead. The statement's only parameters are integer ids, rendered inline.
    """
    connection = session.connection()
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _day(value: Any) -> Any:
    # SQLite hands back ISO text, PostgreSQL a date.
    if value is None:
        return None
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _moment(value: Any) -> Any:
    """A UTC timestamp as `tracker.db.UTCDateTime` returns it: timezone-aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _evidence(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # SQLite's JSON is text; psycopg parses it already
        value = json.loads(value)
    return tuple(value or ())


_CLAIM_COLUMNS = (
    "id",
    "key",
    "source_id",
    "kind",
    "statement",
    "quote",
    "made_on",
    "probability",
    "confidence",
    "criteria",
    "deadline",
    "window_start",
    "timezone",
    "as_of",
    "status",
    "verdict",
    "created_at",
    "updated_at",
    "appearance_id",
)


def _load_claims(session: Session, source_ids: Sequence[int]) -> list[ClaimRecord]:
    claims = Claim.__table__.c
    claim_rows = _rows(
        session,
        select(*(claims[name] for name in _CLAIM_COLUMNS))
        .where(claims.source_id.in_(source_ids))
        .order_by(claims.made_on, claims.key),
    )
    if not claim_rows:
        return []
    # Conversions memoised for this chunk: many values repeat (dates above all), and a
    # lookup is cheaper than a call. Each is `_day`, `_moment` or `_evidence` of its key.
    days: Memo[Any, Any] = Memo(_day)
    moments: Memo[Any, Any] = Memo(_moment)
    evidences: Memo[Any, tuple[str, ...]] = Memo(_evidence)
    new = tuple.__new__
    # The children are read by the claims' source ids rather than a list of claim ids, so
    # that one chunk is a handful of queries whatever its size.
    of_sources = claims.source_id.in_(source_ids)

    tags: dict[int, list[str]] = defaultdict(list)
    tag_table = ClaimTag.__table__.c
    for claim_id, tag in _rows(
        session,
        select(tag_table.claim_id, tag_table.tag)
        .join(Claim.__table__, claims.id == tag_table.claim_id)
        .where(of_sources)
        .order_by(tag_table.claim_id, tag_table.tag),
    ):
        tags[claim_id].append(tag)

    people = Reviewer.__table__.c
    reviewers: dict[int, list[str]] = defaultdict(list)
    for claim_id, handle in _rows(
        session,
        select(claim_reviewers.c.claim_id, people.handle)
        .join(Reviewer.__table__, people.id == claim_reviewers.c.reviewer_id)
        .join(Claim.__table__, claims.id == claim_reviewers.c.claim_id)
        .where(of_sources)
        # By the claims' own id: ordered by handle alone, or by claim_reviewers.claim_id, SQLite
        # walks the whole claim_reviewers table for every chunk instead of the chunk's claims.
        .order_by(claims.id, people.handle),
    ):
        reviewers[claim_id].append(handle)

    res = Resolution.__table__.c
    history: dict[int, list[HistoryEntry]] = defaultdict(list)
    for claim_id, verdict, evidence, note, handle, name, resolved_on, recorded_at in _rows(
        session,
        select(
            res.claim_id,
            res.verdict,
            res.evidence,
            res.note,
            people.handle,
            people.name,
            res.resolved_on,
            res.recorded_at,
        )
        .join(Claim.__table__, claims.id == res.claim_id)
        .outerjoin(Reviewer.__table__, people.id == res.reviewer_id)
        .where(of_sources)
        .order_by(res.id),
    ):
        history[claim_id].append(
            new(
                HistoryEntry,
                (
                    verdict,
                    evidences[evidence] if type(evidence) is str else _evidence(evidence),
                    note,
                    handle,
                    name,
                    days[resolved_on],
                    moments[recorded_at],
                ),
            )
        )

    cv = CriteriaVersion.__table__.c
    criteria: dict[int, list[CriteriaEntry]] = defaultdict(list)
    for claim_id, version, text, deadline, window_start, timezone, recorded_at in _rows(
        session,
        select(
            cv.claim_id,
            cv.version,
            cv.criteria,
            cv.deadline,
            cv.window_start,
            cv.timezone,
            cv.recorded_at,
        )
        .join(Claim.__table__, claims.id == cv.claim_id)
        .where(of_sources)
        .order_by(cv.version),
    ):
        criteria[claim_id].append(
            new(
                CriteriaEntry,
                (version, text, days[deadline], days[window_start], timezone, moments[recorded_at]),
            )
        )

    appearance_ids = sorted({row[-1] for row in claim_rows if row[-1] is not None})
    articles: dict[int, Article] = {}
    app = Appearance.__table__.c
    for start in range(0, len(appearance_ids), 5000):
        wanted = appearance_ids[start : start + 5000]
        for a_id, url, title, author, published in _rows(
            session, select(app.id, app.url, app.title, app.author, app.published).where(app.id.in_(wanted))
        ):
            articles[a_id] = new(Article, (url, title, author, days[published]))

    none: tuple[Any, ...] = ()
    new = tuple.__new__
    return [
        new(
            ClaimRecord,
            (
                claim_id,
                key,
                source_id,
                kind,
                statement,
                quote,
                days[made_on],
                probability,
                confidence,
                criteria_text,
                days[deadline],
                days[window_start],
                timezone,
                days[as_of],
                status,
                verdict,
                moments[created_at],
                moments[updated_at],
                articles.get(appearance_id) if appearance_id is not None else None,
                tuple(tags[claim_id]) if claim_id in tags else none,
                tuple(reviewers[claim_id]) if claim_id in reviewers else none,
                tuple(history[claim_id]) if claim_id in history else none,
                tuple(criteria[claim_id]) if claim_id in criteria else none,
            ),
        )
        for (
            claim_id,
            key,
            source_id,
            kind,
            statement,
            quote,
            made_on,
            probability,
            confidence,
            criteria_text,
            deadline,
            window_start,
            timezone,
            as_of,
            status,
            verdict,
            created_at,
            updated_at,
            appearance_id,
        ) in claim_rows
    ]
