"""Claims: recording them, freezing their criteria, assigning reviewers, and listing them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.db import lock_catalogue
from tracker.errors import InvalidInput, NotFound, Problem, TrackerError
from tracker.estimative import EstimativeScale
from tracker.models import (
    DEADLINE_KINDS,
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
    check_claim,
    check_identifier,
    check_kind,
    check_not_future,
    check_tag,
    check_text,
    check_timezone,
    check_url,
    deadline_problems,
    latest_date,
)
from tracker.services.deadlines import is_overdue
from tracker.services.lookup import get_claim, get_reviewer, get_source

APPEARANCE_FIELDS = ("url", "title", "author", "published")
STATUS_FILTERS = (*(s.value for s in ClaimStatus), "overdue")


def appearance_problems(fields: Mapping[str, Any]) -> list[Problem]:
    unknown = sorted(set(fields) - set(APPEARANCE_FIELDS))
    problems: list[Problem] = []
    if unknown:
        problems.append(Problem.at("appearance", f"appearance has unknown fields {', '.join(unknown)}"))
    url = fields.get("url")
    if not isinstance(url, str):
        problems.append(Problem.at("url", "appearance needs a url"))
    elif bad_url := check_url(url):
        problems.append(Problem.at("url", f"appearance url {bad_url}"))
    published = fields.get("published")
    if published is not None and not isinstance(published, dt.date):
        problems.append(Problem.at("published", "appearance published must be a date"))
    return problems


def _problems(*checks: tuple[str, str | None]) -> list[Problem]:
    """A Problem for each (field, problem) whose problem is not None."""
    return [Problem.at(field, problem) for field, problem in checks if problem]


def get_appearance(session: Session, fields: Mapping[str, Any]) -> Appearance:
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
    made_on: dt.date | None,
    probability: float | None = None,
    confidence: str | None = None,
    unstated: bool = False,
    probability_basis: str | None = None,
    file_rules: bool = False,
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
    """Record a new claim, validated as the claims file is; predictions get criteria version 1.

    `unstated` records a prediction made with no words of likelihood (never scored).
    `file_rules` applies the claims file's stricter rules, as the web form does: the
    confidence words must occur in the quote, and a bare number needs `probability_basis`.
    `made_on` None (a form left it empty, or it did not parse) is reported, and the checks
    that need it are skipped, so that every other problem is reported too.

    Raises InvalidInput with every problem, each under its field (id, source, statement,
    quote, made_on, probability, probability_basis, confidence, criteria, deadline,
    window_start, timezone, as_of, url, tags, reviewers).
    """
    problems = _problems(
        ("id", check_identifier(key, "id", max_length=200)),
        ("kind", check_kind(kind)),
        ("statement", check_text(statement, "statement")),
        ("quote", check_text(quote, "quote")),
        ("made_on", "made_on is required" if made_on is None else check_not_future(made_on, "made_on", now)),
        ("timezone", check_timezone(timezone) if timezone else None),
    )
    resolution = {"criteria": criteria, "deadline": deadline, "window_start": window_start}
    given = [name for name, value in resolution.items() if value is not None]
    if kind in DEADLINE_KINDS and given:
        problems += _problems(
            ("criteria", check_text(criteria, "criteria")),
            ("deadline", f"deadline is required for a {kind}" if deadline is None else None),
        )
    check = check_claim(
        kind=kind if check_kind(kind) is None else None,
        made_on=made_on,
        probability=probability,
        confidence=confidence,
        resolution=(deadline, window_start) if given else None,
        as_of=as_of,
        scale=scale,
        unstated=unstated,
        quote=quote if file_rules else None,
        probability_basis=probability_basis,
        file_rules=file_rules,
    )
    # The claims file's `resolution` block is the criteria, deadline and window_start fields here.
    # A problem inside it (resolution.deadline) is worded relative to its field: name the field.
    resolution_field = given[0] if given else "criteria"
    for found in check.problems:
        if found.loc == ("resolution",):
            problems.append(Problem.at(resolution_field, found.message))
        else:
            message = f"{found.field} {found.message}" if len(found.loc) > 1 else found.message
            problems.append(Problem.at(found.field, message))
    if kind == ClaimKind.FACT:
        # A fact is judged on what was known when it was said, unless told otherwise.
        as_of = as_of or made_on
    clean_tags = list(dict.fromkeys(t.strip() for t in tags))
    problems += _problems(*(("tags", check_tag(tag)) for tag in clean_tags))
    lock_catalogue(session)  # an import adding the same id waits, or is waited for
    reviewers: list[Reviewer] = []
    for handle in dict.fromkeys(reviewer_handles):
        try:
            reviewers.append(get_reviewer(session, handle))
        except NotFound as exc:
            problems.append(Problem.at("reviewers", str(exc)))
    source: Source | None = None
    try:
        source = get_source(session, source_slug)
    except NotFound as exc:
        problems.append(Problem.at("source", str(exc)))
    if session.scalar(select(Claim.id).where(Claim.key == key)) is not None:
        problems.append(Problem.at("id", "a claim with this id already exists"))
    if appearance is not None:
        problems += appearance_problems(appearance)
    if problems or source is None or made_on is None:
        raise InvalidInput(problems, f"claim {key!r}")

    claim = Claim(
        key=key,
        kind=kind,
        statement=statement.strip(),
        quote=quote.strip(),
        made_on=made_on,
        source=source,
        appearance=get_appearance(session, appearance) if appearance else None,
        probability=check.probability,
        confidence=confidence,
        probability_basis=probability_basis.strip() if probability_basis else None,
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


def _record_criteria(
    claim: Claim, version: int, now: dt.datetime, reason: str | None = None, by: Reviewer | None = None
) -> CriteriaVersion:
    assert claim.criteria is not None
    return CriteriaVersion(
        claim=claim,
        version=version,
        criteria=claim.criteria,
        deadline=claim.deadline,
        window_start=claim.window_start,
        timezone=claim.timezone,
        recorded_at=now,
        reason=reason,
        recorded_by=by,
    )


def revise_criteria(
    session: Session,
    claim: Claim,
    criteria: str,
    deadline: dt.date,
    window_start: dt.date | None,
    timezone: str | None,
    now: dt.datetime,
    *,
    reason: str | None = None,
    by: Reviewer | None = None,
) -> CriteriaVersion | None:
    """Record new criteria as the next version; identical criteria change nothing (None).

    `reason` (why the goalposts moved) and `by` (who moved them) are kept on the version.
    """
    if claim.kind not in DEADLINE_KINDS:
        raise TrackerError(f"claim {claim.key!r}: only predictions and promises have resolution criteria")
    criteria = criteria.strip()
    problems = _problems(
        ("criteria", check_text(criteria, "criteria")),
        *((wrong.field, str(wrong)) for wrong in deadline_problems(claim.made_on, deadline, window_start)),
        ("timezone", check_timezone(timezone) if timezone else None),
    )
    if problems:
        raise InvalidInput(problems, f"claim {claim.key!r}")
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
    entry = _record_criteria(claim, (latest.version if latest else 0) + 1, now, reason, by)
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
            Claim.kind.in_(DEADLINE_KINDS),
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
