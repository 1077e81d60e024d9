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

from sqlalchemy import BindParameter, Select, bindparam, select
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
    recorded_late,
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
    article: Article | None
    tags: tuple[str, ...]
    reviewers: tuple[str, ...]
    history: tuple[HistoryEntry, ...]
    criteria_history: tuple[CriteriaEntry, ...]
    probability_basis: str | None = None
    recorded_after_outcome: bool = False

    @property
    def recorded_late(self) -> bool:
        """Recorded after its outcome was known, or with criteria first set after the deadline."""
        return recorded_late(self.recorded_after_outcome, self.criteria_history, self.deadline)

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
                recorded_late=self.recorded_late,
            )
        return ScoredFact(
            key=self.key,
            verdict=self.verdict,
            made_on=self.made_on,
            tags=self.tags,
            recorded_late=self.recorded_late,
        )


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


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
"""The one parameter of the loader's queries: a list of ids."""
_IDS_MARKER = "(__[POSTCOMPILE_ids])"  # where SQLAlchemy leaves an expanding parameter's list


class _Compiled:
    """The loader's SQL for each statement and dialect, compiled once with the id list left open."""

    def __init__(self) -> None:
        self._sql: dict[tuple[str, int], str] = {}

    def __call__(self, statement: Select[Any], dialect: Any, count: int) -> str:
        key = (dialect.name, id(statement))
        sql = self._sql.get(key)
        if sql is None:
            sql = str(statement.compile(dialect=dialect))
            assert _IDS_MARKER in sql, sql
            self._sql[key] = sql
        placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
        return sql.replace(_IDS_MARKER, f"({', '.join([placeholder] * count)})")


_compiled = _Compiled()


def _rows(session: Session, statement: Select[Any], ids: Sequence[int]) -> list[Any]:
    """The rows of one of the loader's statements for `ids`, as the driver returns them.

    A build reads every claim, and SQLAlchemy's result rows and per-value processors cost
    more than the queries; the few conversions needed are done by `_day`, `_moment` and
    `_evidence` instead. The statements are module constants, compiled once per dialect;
    the ids go to the driver as parameters.
    """
    if not ids:
        return []
    connection = session.connection()
    sql = _compiled(statement, connection.dialect, len(ids))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, tuple(ids))
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
    "probability_basis",
    "recorded_after_outcome",
    "appearance_id",
)


_claims = Claim.__table__.c
_tags = ClaimTag.__table__.c
_people = Reviewer.__table__.c
_res = Resolution.__table__.c
_cv = CriteriaVersion.__table__.c
_app = Appearance.__table__.c
# The children are read by the claims' source ids rather than a list of claim ids, so that
# one chunk is a handful of queries whatever its size.
_OF_SOURCES = _claims.source_id.in_(_IDS)

_CLAIMS_OF_SOURCES = (
    select(*(_claims[name] for name in _CLAIM_COLUMNS))
    .where(_OF_SOURCES)
    .order_by(_claims.made_on, _claims.key)
)
_TAGS_OF_SOURCES = (
    select(_tags.claim_id, _tags.tag)
    .join(Claim.__table__, _claims.id == _tags.claim_id)
    .where(_OF_SOURCES)
    .order_by(_tags.claim_id, _tags.tag)
)
_REVIEWERS_OF_SOURCES = (
    select(claim_reviewers.c.claim_id, _people.handle)
    .join(Reviewer.__table__, _people.id == claim_reviewers.c.reviewer_id)
    .join(Claim.__table__, _claims.id == claim_reviewers.c.claim_id)
    .where(_OF_SOURCES)
    # By the claims' own id: ordered by handle alone, or by claim_reviewers.claim_id, SQLite
    # walks the whole claim_reviewers table for every chunk instead of the chunk's claims.
    .order_by(_claims.id, _people.handle)
)
_HISTORY_OF_SOURCES = (
    select(
        _res.claim_id,
        _res.verdict,
        _res.evidence,
        _res.note,
        _people.handle,
        _people.name,
        _res.resolved_on,
    )
    .join(Claim.__table__, _claims.id == _res.claim_id)
    .outerjoin(Reviewer.__table__, _people.id == _res.reviewer_id)
    .where(_OF_SOURCES)
    .order_by(_res.id)
)
_CRITERIA_OF_SOURCES = (
    select(
        _cv.claim_id, _cv.version, _cv.criteria, _cv.deadline, _cv.window_start, _cv.timezone, _cv.recorded_at
    )
    .join(Claim.__table__, _claims.id == _cv.claim_id)
    .where(_OF_SOURCES)
    .order_by(_cv.version)
)
_ARTICLES = select(_app.id, _app.url, _app.title, _app.author, _app.published).where(_app.id.in_(_IDS))


def _load_claims(session: Session, source_ids: Sequence[int]) -> list[ClaimRecord]:
    claim_rows = _rows(session, _CLAIMS_OF_SOURCES, source_ids)
    if not claim_rows:
        return []
    # Conversions memoised for this chunk: many values repeat (dates above all), and a
    # lookup is cheaper than a call. Each is `_day`, `_moment` or `_evidence` of its key.
    days: Memo[Any, Any] = Memo(_day)
    moments: Memo[Any, Any] = Memo(_moment)
    evidences: Memo[Any, tuple[str, ...]] = Memo(_evidence)
    new = tuple.__new__

    tags: dict[int, list[str]] = defaultdict(list)
    for claim_id, tag in _rows(session, _TAGS_OF_SOURCES, source_ids):
        tags[claim_id].append(tag)

    reviewers: dict[int, list[str]] = defaultdict(list)
    for claim_id, handle in _rows(session, _REVIEWERS_OF_SOURCES, source_ids):
        reviewers[claim_id].append(handle)

    history: dict[int, list[HistoryEntry]] = defaultdict(list)
    for claim_id, verdict, evidence, note, handle, name, resolved_on in _rows(
        session, _HISTORY_OF_SOURCES, source_ids
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
                ),
            )
        )

    criteria: dict[int, list[CriteriaEntry]] = defaultdict(list)
    for claim_id, version, text, deadline, window_start, timezone, recorded_at in _rows(
        session, _CRITERIA_OF_SOURCES, source_ids
    ):
        criteria[claim_id].append(
            new(
                CriteriaEntry,
                (version, text, days[deadline], days[window_start], timezone, moments[recorded_at]),
            )
        )

    appearance_ids = sorted({row[-1] for row in claim_rows if row[-1] is not None})
    articles: dict[int, Article] = {}
    # A thousand ids a query: well under any driver's limit on parameters.
    for start in range(0, len(appearance_ids), 1000):
        wanted = appearance_ids[start : start + 1000]
        for a_id, url, title, author, published in _rows(session, _ARTICLES, wanted):
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
                articles.get(appearance_id) if appearance_id is not None else None,
                tuple(tags[claim_id]) if claim_id in tags else none,
                tuple(reviewers[claim_id]) if claim_id in reviewers else none,
                tuple(history[claim_id]) if claim_id in history else none,
                tuple(criteria[claim_id]) if claim_id in criteria else none,
                probability_basis,
                bool(recorded_after_outcome),
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
            probability_basis,
            recorded_after_outcome,
            appearance_id,
        ) in claim_rows
    ]
