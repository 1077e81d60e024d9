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
    lock_catalogue(session)  # an import adding the same handle waits, or is waited for
    checks = {
        "handle": check_identifier(handle, "handle"),
        "name": check_text(name, "name"),
        "email": check_email(email),
        "timezone": check_timezone(timezone),
        "role": check_role(role),
    }
    if (
        not checks["handle"]
        and session.scalar(select(Reviewer.id).where(Reviewer.handle == handle)) is not None
    ):
        checks["handle"] = "a reviewer with this handle already exists"
    _raise_if(checks, f"reviewer {handle!r}")
    reviewer = Reviewer(
        handle=handle, name=name.strip(), email=email, timezone=timezone, role=role, subscribed=subscribed
    )
    if now is not None:
        reviewer.created_at = now
    session.add(reviewer)
    session.flush()
    return reviewer


def edit_reviewer(
    session: Session,
    handle: str,
    name: str,
    email: str,
    timezone: str,
    role: str,
    *,
    subscribed: bool,
) -> Reviewer:
    """Change a reviewer's name, email, timezone, role and subscription; the handle stays."""
    lock_catalogue(session)  # and so two admins demoting each other cannot leave no admin
    reviewer = get_reviewer(session, handle)
    checks = {
        "name": check_text(name, "name"),
        "email": check_email(email),
        "timezone": check_timezone(timezone),
        "role": check_role(role),
    }
    if reviewer.role == ReviewerRole.ADMIN and role != ReviewerRole.ADMIN and not checks["role"]:
        admins = session.scalar(
            select(func.count()).select_from(Reviewer).where(Reviewer.role == ReviewerRole.ADMIN.value)
        )
        if admins == 1:
            checks["role"] = "the only admin cannot stop being one; make another admin first"
    _raise_if(checks, f"reviewer {handle!r}")
    reviewer.name, reviewer.email, reviewer.timezone = name.strip(), email, timezone
    reviewer.role, reviewer.subscribed = role, subscribed
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


def _source_problems(
    session: Session, slug: str, name: str, kind: str, url: str | None, member_of: str | None
) -> tuple[dict[str, str | None], Source | None]:
    """The field problems of a source's values, and the parent `member_of` names (when it exists)."""
    checks: dict[str, str | None] = {
        "slug": check_identifier(slug, "slug"),
        "name": check_text(name, "name"),
        "kind": check_source_kind(kind),
        "url": check_url(url) if url else None,
    }
    parent = None
    if member_of:
        try:
            parent = get_source(session, member_of)
        except NotFound as exc:
            checks["member_of"] = str(exc)
    if parent is not None and parent.kind == SourceKind.PERSON:
        checks["member_of"] = f"cannot be a member of {member_of!r}, which is a person"
    return checks, parent


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
    lock_catalogue(session)
    checks, parent = _source_problems(session, slug, name, kind, url, member_of)
    if not checks["slug"] and session.scalar(select(Source.id).where(Source.slug == slug)) is not None:
        checks["slug"] = "a source with this slug already exists"
    _raise_if(checks, f"source {slug!r}")
    source = Source(slug=slug, name=name.strip(), kind=kind, url=url, notes=notes, parent=parent)
    if now is not None:
        source.created_at = now
    session.add(source)
    session.flush()
    return source


def edit_source(
    session: Session,
    slug: str,
    name: str,
    kind: str,
    url: str | None = None,
    notes: str | None = None,
    member_of: str | None = None,
) -> Source:
    """Change a source's name, kind, address, notes and parent; its slug stays (files and URLs use it)."""
    lock_catalogue(session)
    source = get_source(session, slug)
    checks, parent = _source_problems(session, slug, name, kind, url, member_of)
    ancestor = parent
    while ancestor is not None and not checks.get("member_of"):
        if ancestor.id == source.id:
            # Scorecards add members up into their parents: a loop would never end.
            checks["member_of"] = f"{member_of!r} is {slug!r} or one of its members"
        ancestor = ancestor.parent
    if kind == SourceKind.PERSON and not checks["kind"] and source.members:
        checks["kind"] = "a person cannot have members, and this source has some"
    _raise_if(checks, f"source {slug!r}")
    source.name, source.kind, source.url, source.notes = name.strip(), kind, url, notes
    source.parent = parent
    session.flush()
    return source


def list_sources(session: Session) -> list[Source]:
    """All sources, by slug, with their parent loaded."""
    return list(session.scalars(select(Source).options(selectinload(Source.parent)).order_by(Source.slug)))


def claim_counts(session: Session) -> dict[int, int]:
    """Number of claims per source id (sources without claims are absent)."""
    rows = session.execute(select(Claim.source_id, func.count()).group_by(Claim.source_id))
    return {row[0]: row[1] for row in rows}
