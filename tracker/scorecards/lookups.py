"""Small reads the site builder needs beside the claims: the feed, and what makes pages stale.

Kept apart from `data`, which reads the claims themselves, so that each stays small.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Claim, Resolution, Reviewer, Source


@dataclass(frozen=True, slots=True)
class ResolutionEvent:
    """One entry of some claim's verdict history, with what a feed shows about it."""

    id: int  # the history entry's id: stable, so feed entry ids are too
    claim_key: str
    kind: str
    statement: str
    source_slug: str
    source_name: str
    verdict: str | None  # None: the claim was re-opened, or (progress set) a promise's progress
    evidence: tuple[str, ...]
    note: str | None
    reviewer_name: str | None
    resolved_on: dt.date
    recorded_at: dt.datetime
    progress: str | None = None  # an open promise's progress status


def recent_resolutions(session: Session, limit: int = 50) -> list[ResolutionEvent]:
    """The latest `limit` verdict-history entries on any claim, most recently recorded first."""
    # Ordered by the primary key, which follows recording order: an index walk, not a sort.
    rows = session.execute(
        select(
            Resolution.id,
            Claim.key,
            Claim.kind,
            Claim.statement,
            Source.slug,
            Source.name,
            Resolution.verdict,
            Resolution.evidence,
            Resolution.note,
            Reviewer.name,
            Resolution.resolved_on,
            Resolution.recorded_at,
            Resolution.progress,
        )
        .join(Claim, Claim.id == Resolution.claim_id)
        .join(Source, Source.id == Claim.source_id)
        .outerjoin(Reviewer, Reviewer.id == Resolution.reviewer_id)
        .order_by(Resolution.id.desc())
        .limit(limit)
    )
    return [
        ResolutionEvent(
            id=row[0],
            claim_key=row[1],
            kind=row[2],
            statement=row[3],
            source_slug=row[4],
            source_name=row[5],
            verdict=row[6],
            evidence=tuple(row[7] or ()),
            note=row[8],
            reviewer_name=row[9],
            resolved_on=row[10],
            recorded_at=row[11],
            progress=row[12],
        )
        for row in rows
    ]


def first_source(session: Session) -> str | None:
    """The database's first source, as id and creation time: tracker never deletes a source.

    Nothing else in the database is both unique to it and fixed for its whole life, so
    this stands for the installation where no `site_url` names it (see `feed.feed_id`).
    """
    row = session.execute(select(Source.id, Source.created_at).order_by(Source.id).limit(1)).first()
    if row is None:
        return None
    return f"{row[0]}:{row[1].astimezone(dt.UTC).isoformat()}"


def reviewers_digest(session: Session) -> str:
    """A hash of every reviewer's handle and name, which pages show but no source revision covers."""
    digest = hashlib.sha256()
    for handle, name in session.execute(select(Reviewer.handle, Reviewer.name).order_by(Reviewer.handle)):
        digest.update(f"{handle}\x00{name}\x00".encode())
    return digest.hexdigest()[:16]


def sources_with_claims(session: Session, source_ids: Iterable[int]) -> set[int]:
    """Which of these sources have at least one claim (and so a page)."""
    ids = sorted(set(source_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        found.update(
            session.execute(select(Claim.source_id).where(Claim.source_id.in_(part)).distinct()).scalars()
        )
    return found
