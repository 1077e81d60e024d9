"""Claims: recording them, freezing their criteria, assigning reviewers, and listing them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.db import lock_catalogue
from tracker.errors import TrackerError
from tracker.estimative import EstimativeScale
from tracker.models import (
    Appearance,
    Claim,
    ClaimKind,
    ClaimStatus,
    ClaimTag,
    CriteriaVersion,
    Reviewer,
    Source,
)
from tracker.rules import (
    check_deadline,
    check_identifier,
    check_kind,
    check_not_future,
    check_probability,
    check_tag,
    check_text,
    check_timezone,
    check_url,
    latest_date,
)
from tracker.services.deadlines import is_overdue
from tracker.services.lookup import get_claim, get_reviewer, get_source

APPEARANCE_FIELDS = ("url", "title", "author", "published")
STATUS_FILTERS = (ClaimStatus.OPEN.value, ClaimStatus.RESOLVED.value, "overdue")


def _prediction_problems(
    made_on: dt.date,
    probability: float | None,
    confidence: str | None,
    criteria: str | None,
    deadline: dt.date | None,
    window_start: dt.date | None,
    as_of: dt.date | None,
) -> list[str | None]:
    problems: list[str | None] = [check_text(criteria, "criteria")]
    if deadline is None:
        problems.append("deadline is required for a prediction")
    else:
        problems.append(check_deadline(made_on, deadline, window_start))
    if (probability is None) == (confidence is None):
        problems.append("give exactly one of probability and confidence")
    elif probability is not None:
        problems.append(check_probability(probability))
    if as_of is not None:
        problems.append("as_of applies to facts only")
    return problems


def _fact_problems(
    probability: float | None,
    confidence: str | None,
    criteria: str | None,
    deadline: dt.date | None,
    window_start: dt.date | None,
) -> list[str | None]:
    # A fact may keep its source's hedge ("may be a protege"), as the claims file allows;
    # facts are never scored, so the words are a record, not a forecast.
    problems: list[str | None] = []
    if probability is not None and confidence is not None:
        problems.append("give probability or confidence, not both")
    elif probability is not None:
        problems.append(check_probability(probability))
    given = {"criteria": criteria, "deadline": deadline, "window_start": window_start}
    problems += [f"{name} applies to predictions only" for name, value in given.items() if value is not None]
    return problems


def _clean_tags(tags: Sequence[str]) -> tuple[list[str], list[str | None]]:
    cleaned = list(dict.fromkeys(t.strip() for t in tags))
    problems: list[str | None] = [check_tag(tag) for tag in cleaned]
    return cleaned, problems


def _appearance_problems(fields: Mapping[str, Any]) -> list[str | None]:
    unknown = sorted(set(fields) - set(APPEARANCE_FIELDS))
    problems: list[str | None] = []
    if unknown:
        problems.append(f"appearance has unknown fields {', '.join(unknown)}")
    url = fields.get("url")
    if not isinstance(url, str):
        problems.append("appearance needs a url")
    elif bad_url := check_url(url):
        problems.append(f"appearance url {bad_url}")
    published = fields.get("published")
    if published is not None and not isinstance(published, dt.date):
        problems.append("appearance published must be a date")
    return problems


def _get_appearance(session: Session, fields: Mapping[str, Any]) -> Appearance:
    existing = session.scalar(select(Appearance).where(Appearance.url == fields["url"]))
    if existing is None:
        existing = Appearance(url=fields["url"])
        session.add(existing)
    # One article holds many claims: reuse it, filling in what was not known before.
    existing.title = existing.title or fields.get("title")
    existing.author = existing.author or fields.get("author")
    existing.published = existing.published or fields.get("published")
    return existing


def add_claim(
    session: Session,
    *,
    key: str,
    kind: str,
    source_slug: str,
    statement: str,
    quote: str,
    made_on: dt.date,
    probability: float | None = None,
    confidence: str | None = None,
    criteria: str | None = None,
    deadline: dt.date | None = None,
    window_start: dt.date | None = None,
    timezone: str | None = None,
    as_of: dt.date | None = None,
    appearance: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
    reviewer_handles: Sequence[str] = (),
    scale: EstimativeScale,
    now: dt.datetime,
) -> Claim:
    """Record a new claim, validated as the claims file is; predictions get criteria version 1."""
    problems: list[str | None] = [
        check_identifier(key, "id", max_length=200),
        check_kind(kind),
        check_text(statement, "statement"),
        check_text(quote, "quote"),
        check_not_future(made_on, "made_on", now),
        check_timezone(timezone) if timezone else None,
    ]
    if kind == ClaimKind.PREDICTION:
        problems += _prediction_problems(
            made_on, probability, confidence, criteria, deadline, window_start, as_of
        )
    elif kind == ClaimKind.FACT:
        problems += _fact_problems(probability, confidence, criteria, deadline, window_start)
        # A fact is judged on what was known when it was said, unless told otherwise.
        as_of = as_of or made_on
    estimate = None
    if confidence is not None:
        try:
            estimate = scale.estimate(confidence)
        except TrackerError as exc:
            problems.append(str(exc))
    clean_tags, tag_problems = _clean_tags(tags)
    problems += tag_problems
    lock_catalogue(session)  # an import adding the same id waits, or is waited for
    reviewers: list[Reviewer] = []
    for handle in dict.fromkeys(reviewer_handles):
        try:
            reviewers.append(get_reviewer(session, handle))
        except TrackerError as exc:
            problems.append(str(exc))
    source: Source | None = None
    try:
        source = get_source(session, source_slug)
    except TrackerError as exc:
        problems.append(str(exc))
    if session.scalar(select(Claim.id).where(Claim.key == key)) is not None:
        problems.append("a claim with this id already exists")
    if appearance is not None:
        problems += _appearance_problems(appearance)
    found = [p for p in problems if p]
    if found or source is None:
        raise TrackerError(f"claim {key!r}: {'; '.join(p for p in found)}")

    claim = Claim(
        key=key,
        kind=kind,
        statement=statement.strip(),
        quote=quote.strip(),
        made_on=made_on,
        source=source,
        appearance=_get_appearance(session, appearance) if appearance else None,
        probability=estimate.probability if estimate else probability,
        confidence=confidence,
        criteria=criteria.strip() if criteria else None,
        deadline=deadline,
        window_start=window_start,
        timezone=timezone,
        as_of=as_of,
        status=ClaimStatus.OPEN.value,
        tags=[ClaimTag(tag=t) for t in sorted(clean_tags)],
        reviewers=sorted(reviewers, key=lambda r: r.handle),
        created_at=now,
        updated_at=now,
    )
    session.add(claim)
    if claim.criteria is not None:
        session.add(_record_criteria(claim, 1, now))
    session.flush()
    return claim


def _record_criteria(claim: Claim, version: int, now: dt.datetime) -> CriteriaVersion:
    assert claim.criteria is not None
    return CriteriaVersion(
        claim=claim,
        version=version,
        criteria=claim.criteria,
        deadline=claim.deadline,
        window_start=claim.window_start,
        timezone=claim.timezone,
        recorded_at=now,
    )


def revise_criteria(
    session: Session,
    claim: Claim,
    criteria: str,
    deadline: dt.date,
    window_start: dt.date | None,
    timezone: str | None,
    now: dt.datetime,
) -> CriteriaVersion | None:
    """Record new criteria as the next version; identical criteria change nothing (None)."""
    if claim.kind != ClaimKind.PREDICTION:
        raise TrackerError(f"claim {claim.key!r}: only predictions have resolution criteria")
    criteria = criteria.strip()
    problems = [
        check_text(criteria, "criteria"),
        check_deadline(claim.made_on, deadline, window_start),
        check_timezone(timezone) if timezone else None,
    ]
    found = [p for p in problems if p]
    if found:
        raise TrackerError(f"claim {claim.key!r}: {'; '.join(found)}")
    versions = claim.criteria_versions
    latest = versions[-1] if versions else None
    if latest is not None and (latest.criteria, latest.deadline, latest.window_start, latest.timezone) == (
        criteria,
        deadline,
        window_start,
        timezone,
    ):
        return None
    claim.criteria, claim.deadline, claim.window_start, claim.timezone = (
        criteria,
        deadline,
        window_start,
        timezone,
    )
    claim.updated_at = now
    entry = _record_criteria(claim, (latest.version if latest else 0) + 1, now)
    session.add(entry)
    session.flush()
    return entry


def assign(session: Session, claim_key: str, handle: str) -> bool:
    """Assign a reviewer to a claim; False when already assigned."""
    claim = get_claim(session, claim_key, lock=True)
    reviewer = get_reviewer(session, handle)
    if reviewer in claim.reviewers:
        return False
    claim.reviewers.append(reviewer)
    session.flush()
    return True


def unassign(session: Session, claim_key: str, handle: str) -> bool:
    """Take a reviewer off a claim; False when they were not assigned."""
    claim = get_claim(session, claim_key, lock=True)
    reviewer = get_reviewer(session, handle)
    if reviewer not in claim.reviewers:
        return False
    claim.reviewers.remove(reviewer)
    session.flush()
    return True


def list_claims(
    session: Session,
    *,
    source: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    due_before: dt.date | None = None,
    tag: str | None = None,
    now: dt.datetime | None = None,
    default_timezone: str = "UTC",
    include_members: bool = True,
) -> list[Claim]:
    """Claims matching every filter given, soonest deadline first.

    `source` also matches the source's members (an outlet's analysts) unless
    `include_members` is False; `due_before` keeps deadlines strictly before that
    date; status "overdue" means open predictions whose deadline has passed at
    `now`, read in the claim's timezone or `default_timezone`.
    """
    stmt = select(Claim).options(
        selectinload(Claim.source), selectinload(Claim.tags), selectinload(Claim.reviewers)
    )
    if source is not None:
        found = get_source(session, source)
        ids = [found.id] + ([m.id for m in found.members] if include_members else [])
        stmt = stmt.where(Claim.source_id.in_(ids))
    if kind is not None:
        problem = check_kind(kind)
        if problem:
            raise TrackerError(problem)
        stmt = stmt.where(Claim.kind == kind)
    if status is not None and status not in STATUS_FILTERS:
        raise TrackerError(f"status {status!r} is not one of {', '.join(STATUS_FILTERS)}")
    if status == "overdue":
        if now is None:
            raise TrackerError("the overdue filter needs the current time")
        # SQL narrows to candidates; the exact test depends on each claim's timezone.
        stmt = stmt.where(
            Claim.status == ClaimStatus.OPEN.value,
            Claim.kind == ClaimKind.PREDICTION.value,
            Claim.deadline < latest_date(now),
        )
    elif status is not None:
        stmt = stmt.where(Claim.status == status)
    if due_before is not None:
        stmt = stmt.where(Claim.deadline < due_before)
    if tag is not None:
        stmt = stmt.where(Claim.tags.any(ClaimTag.tag == tag))
    stmt = stmt.order_by(Claim.deadline.is_(None), Claim.deadline, Claim.made_on, Claim.key)
    claims = list(session.scalars(stmt))
    if status == "overdue" and now is not None:
        claims = [c for c in claims if is_overdue(c, now, default_timezone)]
    return claims
