"""Reviewers and sources: who resolves claims, and who made them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from tracker.db import lock_catalogue
from tracker.errors import InvalidInput, NotFound, Problem
from tracker.models import Claim, Reviewer, ReviewerRole, Source, SourceKind
from tracker.rules import (
    check_email,
    check_identifier,
    check_role,
    check_source_kind,
    check_text,
    check_timezone,
    check_url,
)
from tracker.services.lookup import get_reviewer, get_source


def _raise_if(checks: dict[str, str | None], what: str) -> None:
    """Raise InvalidInput with a problem for each field whose check found one."""
    problems = [Problem.at(field, problem) for field, problem in checks.items() if problem]
    if problems:
        raise InvalidInput(problems, what)


def add_reviewer(
    session: Session,
    handle: str,
    name: str,
    email: str,
    timezone: str = "UTC",
    role: str = ReviewerRole.REVIEWER.value,
    *,
    subscribed: bool = False,
    now: dt.datetime | None = None,
) -> Reviewer:
    """Record a new reviewer (subscribed: emailed the periodic report); the handle must be unused."""
    _raise_if(
        {
            "handle": check_identifier(handle, "handle"),
            "name": check_text(name, "name"),
            "email": check_email(email),
            "timezone": check_timezone(timezone),
            "role": check_role(role),
        },
        f"reviewer {handle!r}",
    )
    lock_catalogue(session)  # an import adding the same handle waits, or is waited for
    if session.scalar(select(Reviewer.id).where(Reviewer.handle == handle)) is not None:
        _raise_if({"handle": "a reviewer with this handle already exists"}, f"reviewer {handle!r}")
    reviewer = Reviewer(
        handle=handle, name=name.strip(), email=email, timezone=timezone, role=role, subscribed=subscribed
    )
    if now is not None:
        reviewer.created_at = now
    session.add(reviewer)
    session.flush()
    return reviewer


def set_subscribed(session: Session, handles: list[str], subscribed: bool) -> list[Reviewer]:
    """Subscribe these reviewers to the periodic report's email, or unsubscribe them."""
    reviewers = [get_reviewer(session, handle) for handle in handles]
    for reviewer in reviewers:
        reviewer.subscribed = subscribed
    session.flush()
    return reviewers


def list_reviewers(session: Session) -> list[Reviewer]:
    """All reviewers, by handle."""
    return list(session.scalars(select(Reviewer).order_by(Reviewer.handle)))


def add_source(
    session: Session,
    slug: str,
    name: str,
    kind: str = SourceKind.OUTLET.value,
    url: str | None = None,
    notes: str | None = None,
    member_of: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> Source:
    """Record a new source, optionally as a member of an existing outlet or organisation."""
    _raise_if(
        {
            "slug": check_identifier(slug, "slug"),
            "name": check_text(name, "name"),
            "kind": check_source_kind(kind),
            "url": check_url(url) if url else None,
        },
        f"source {slug!r}",
    )
    lock_catalogue(session)
    if session.scalar(select(Source.id).where(Source.slug == slug)) is not None:
        _raise_if({"slug": "a source with this slug already exists"}, f"source {slug!r}")
    try:
        parent = get_source(session, member_of) if member_of else None
    except NotFound as exc:
        raise InvalidInput([Problem.at("member_of", str(exc))], f"source {slug!r}") from None
    if parent is not None and parent.kind == SourceKind.PERSON:
        _raise_if(
            {"member_of": f"cannot be a member of {member_of!r}, which is a person"}, f"source {slug!r}"
        )
    source = Source(slug=slug, name=name.strip(), kind=kind, url=url, notes=notes, parent=parent)
    if now is not None:
        source.created_at = now
    session.add(source)
    session.flush()
    return source


def list_sources(session: Session) -> list[Source]:
    """All sources, by slug, with their parent loaded."""
    return list(session.scalars(select(Source).options(selectinload(Source.parent)).order_by(Source.slug)))


def claim_counts(session: Session) -> dict[int, int]:
    """Number of claims per source id (sources without claims are absent)."""
    rows = session.execute(select(Claim.source_id, func.count()).group_by(Claim.source_id))
    return {row[0]: row[1] for row in rows}
