"""Find sources, reviewers and claims by their stable names, suggesting near misses."""

from __future__ import annotations

import difflib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from tracker.errors import NotFound
from tracker.models import Claim, CriteriaVersion, Resolution, Reviewer, Source


def did_you_mean(wanted: str, known: list[str]) -> str:
    """A " (did you mean 'x'?)" suffix naming the closest known name, or ""."""
    close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _not_found(session: Session, what: str, wanted: str, column: InstrumentedAttribute[Any]) -> NotFound:
    # Reading every name is fine on the error path only; the happy path is one indexed lookup.
    known = list(session.scalars(select(column)))
    return NotFound(f"no {what} {wanted!r}{did_you_mean(wanted, known)}")


def get_reviewer(session: Session, handle: str) -> Reviewer:
    """The reviewer with `handle`, or NotFound with a suggestion."""
    reviewer = session.scalar(select(Reviewer).where(Reviewer.handle == handle))
    if reviewer is None:
        raise _not_found(session, "reviewer", handle, Reviewer.handle)
    return reviewer


def get_source(session: Session, slug: str) -> Source:
    """The source with `slug`, or NotFound with a suggestion."""
    source = session.scalar(select(Source).where(Source.slug == slug))
    if source is None:
        raise _not_found(session, "source", slug, Source.slug)
    return source


def get_claim(session: Session, key: str, *, lock: bool = False) -> Claim:
    """The claim with id `key` and its histories, or NotFound with a suggestion.

    `lock` takes the claim's row lock (SELECT ... FOR UPDATE) before its histories are
    read, for a caller that appends to them and updates the cached verdict or criteria:
    a second writer of the same claim then waits for this transaction and reads what it
    wrote. (On SQLite, whose writers hold the database's write lock from BEGIN, it is a no-op.)
    """
    query = select(Claim).where(Claim.key == key)
    if lock:
        query = query.with_for_update(of=Claim).execution_options(populate_existing=True)
    claim = session.scalar(
        query.options(
            selectinload(Claim.source),
            selectinload(Claim.appearance),
            selectinload(Claim.tags),
            selectinload(Claim.reviewers),
            selectinload(Claim.criteria_versions).selectinload(CriteriaVersion.recorded_by),
            selectinload(Claim.resolutions).selectinload(Resolution.reviewer),
        )
    )
    if claim is None:
        raise _not_found(session, "claim", key, Claim.key)
    return claim
