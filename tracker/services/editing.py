"""Editing a recorded claim: its words, tags, reviewers and article in place; its criteria as a new version.

What a claim is judged by (criteria, deadline, window, timezone) is never overwritten:
a change appends a CriteriaVersion that says why, and who made it. The words of the
claim are corrected in place, as the claims file's re-import does. A moved deadline
cancels the claim's reminders for the old one at once; the next reminder pass schedules
the new ones (`tracker.reminders.store`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tracker.errors import InvalidInput, NotFound, Problem
from tracker.estimative import EstimativeScale
from tracker.models import DEADLINE_KINDS, Claim, ClaimKind, ClaimTag, CriteriaVersion, Reviewer
from tracker.rules import ClaimProblem, check_claim, check_tag, check_text, check_timezone
from tracker.services.claims import appearance_problems, get_appearance, revise_criteria
from tracker.services.lookup import get_claim, get_reviewer

CRITERIA_FIELDS = ("criteria", "deadline", "window_start", "timezone")


@dataclass(frozen=True)
class Criteria:
    """What a prediction is judged by: the fields that change only as a new version."""

    criteria: str
    deadline: dt.date | None
    window_start: dt.date | None
    timezone: str | None

    @classmethod
    def of(cls, claim: Claim) -> Criteria | None:
        """The claim's criteria now, or None (a fact has none)."""
        if claim.criteria is None:
            return None
        return cls(claim.criteria, claim.deadline, claim.window_start, claim.timezone)


@dataclass(frozen=True)
class Edited:
    """What an edit changed: the fields edited in place, and the new criteria version, if any."""

    fields: tuple[str, ...]
    version: CriteriaVersion | None

    @property
    def any(self) -> bool:
        """Whether anything changed at all."""
        return bool(self.fields or self.version)


def edit_claim(
    session: Session,
    key: str,
    *,
    statement: str,
    quote: str,
    tags: Sequence[str],
    reviewer_handles: Sequence[str],
    appearance: Mapping[str, Any] | None,
    criteria: Criteria | None,
    reason: str | None,
    by: str,
    scale: EstimativeScale,
    now: dt.datetime,
) -> Edited:
    """Edit the claim `key` (its row locked) as `by`; every problem at once, each under its field.

    `criteria` None leaves the criteria alone; a change to them needs a `reason`. The
    rules are the claims file's (`rules.check_claim`): a new quote must still hold the
    source's confidence words, and the deadline must not come before made_on.
    """
    claim = get_claim(session, key, lock=True)
    editor = get_reviewer(session, by)
    statement, quote = statement.strip(), quote.strip()
    problems = [
        Problem.at(name, problem)
        for name, problem in (
            ("statement", check_text(statement, "statement")),
            ("quote", check_text(quote, "quote")),
        )
        if problem
    ]
    clean_tags = sorted(dict.fromkeys(t.strip() for t in tags if t.strip()))
    problems += [Problem.at("tags", p) for p in map(check_tag, clean_tags) if p]
    reviewers: list[Reviewer] = []
    for handle in dict.fromkeys(reviewer_handles):
        try:
            reviewers.append(get_reviewer(session, handle))
        except NotFound as exc:
            problems.append(Problem.at("reviewers", str(exc)))
    if appearance is not None:
        problems += appearance_problems(appearance)

    moved = criteria is not None and criteria != Criteria.of(claim)
    if moved:
        assert criteria is not None
        if claim.kind not in DEADLINE_KINDS:
            problems.append(Problem.at("criteria", f"a {claim.kind} has no resolution criteria"))
        problems += [
            Problem.at(name, problem)
            for name, problem in (
                ("criteria", check_text(criteria.criteria, "criteria")),
                ("deadline", "deadline is required for a prediction" if criteria.deadline is None else None),
                ("timezone", check_timezone(criteria.timezone) if criteria.timezone else None),
                ("reason", check_text(reason, "the reason for changing the criteria or the deadline")),
            )
            if problem
        ]
    # The rules between fields, as the claims file applies them. A claim recorded under
    # older rules may break some already; only the problems this edit brings are its own.
    current = Criteria.of(claim)
    before = _check(claim, None, current, scale)
    after = _check(claim, quote if quote != claim.quote else None, criteria if moved else current, scale)
    for found in after:
        if found in before:
            continue
        if found.loc == ("confidence",):  # the words are the claim's; it is the new quote that lacks them
            problems.append(Problem.at("quote", found.message))
        elif len(found.loc) > 1:
            problems.append(Problem.at(found.field, f"{found.field} {found.message}"))
        else:
            problems.append(Problem.at(found.field, found.message))
    if problems:
        raise InvalidInput(problems, f"claim {key!r}")

    changed = _edit_in_place(session, claim, statement, quote, clean_tags, reviewers, appearance)
    version = None
    if moved and criteria is not None and criteria.deadline is not None:
        old_deadline = claim.deadline
        version = revise_criteria(
            session,
            claim,
            criteria.criteria,
            criteria.deadline,
            criteria.window_start,
            criteria.timezone,
            now,
            reason=(reason or "").strip(),
            by=editor,
        )
        if version is not None and claim.deadline != old_deadline:
            # Imported here: the reminders package reaches the services (through accounts) on import.
            from tracker.reminders.store import cancel_stale

            session.flush()
            cancel_stale(session, claim_ids=[claim.id])
    if changed:
        claim.updated_at = now
        session.flush()
    return Edited(tuple(changed), version)


def _check(
    claim: Claim, quote: str | None, criteria: Criteria | None, scale: EstimativeScale
) -> list[ClaimProblem]:
    """`rules.check_claim` on the claim with `quote` (None: not checked against the words) and `criteria`."""
    return check_claim(
        kind=claim.kind,
        made_on=claim.made_on,
        probability=None if claim.confidence else claim.probability,
        confidence=claim.confidence,
        unstated=claim.kind == ClaimKind.PREDICTION and claim.probability is None and not claim.confidence,
        quote=quote or None,
        resolution=(criteria.deadline, criteria.window_start) if criteria is not None else None,
        as_of=claim.as_of,
        scale=scale,
    ).problems


def _edit_in_place(
    session: Session,
    claim: Claim,
    statement: str,
    quote: str,
    tags: list[str],
    reviewers: list[Reviewer],
    appearance: Mapping[str, Any] | None,
) -> list[str]:
    """Set the fields edited in place; the names of those that changed."""
    changed: list[str] = []
    if claim.statement != statement:
        claim.statement = statement
        changed.append("statement")
    if claim.quote != quote:
        claim.quote = quote
        changed.append("quote")
    if claim.tag_names != tags:
        # Keep the rows of tags that stay: a new row with the same key would collide with the old.
        claim.tags = [t for t in claim.tags if t.tag in tags] + [
            ClaimTag(tag=t) for t in tags if t not in claim.tag_names
        ]
        changed.append("tags")
    wanted = sorted(reviewers, key=lambda r: r.handle)
    if [r.id for r in claim.reviewers] != [r.id for r in wanted]:
        claim.reviewers = wanted
        changed.append("reviewers")
    url = appearance.get("url") if appearance else None
    current = claim.appearance.url if claim.appearance else None
    if url != current:
        claim.appearance = get_appearance(session, appearance) if appearance else None
        changed.append("article")
    return changed
