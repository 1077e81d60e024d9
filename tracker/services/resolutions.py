"""Verdicts: an append-only history per claim, whose latest entry is the current verdict.

A promise's history also holds its progress statuses (in-the-works, stalled) while it is
open: entries with no verdict that leave the claim open (see `Resolution`).

A claim that needs two verdicts (`review.verdicts_required`, see `tracker.review`) goes
open -> awaiting (first verdict) -> resolved (a second, equal verdict by another reviewer)
or disputed (a different one) -> resolved (an admin's adjudication, with a note). Un-resolving
starts a new round from any of these. Every step locks the claim row first, so two second
verdicts given at once are taken one after the other: the later one finds the claim no
longer awaiting and is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tracker.config import ReviewSettings
from tracker.errors import InvalidInput, Problem, TrackerError
from tracker.models import (
    Claim,
    ClaimStatus,
    Resolution,
    Reviewer,
    ReviewerRole,
    ReviewRole,
    current_progress,
)
from tracker.review import current_round
from tracker.rules import check_evidence, check_progress, check_verdict, resolved_on_problem
from tracker.services.deadlines import local_today
from tracker.services.lookup import get_claim, get_reviewer


@dataclass(frozen=True)
class _Entry:
    """Who is adding to which claim's history, read under the claim's row lock."""

    claim: Claim
    reviewer: Reviewer
    evidence: list[str]  # stripped, without repeats
    today: dt.date  # the reviewer's own date

    def append(
        self,
        session: Session,
        now: dt.datetime,
        *,
        on: dt.date,
        note: str | None,
        verdict: str | None = None,
        progress: str | None = None,
        role: ReviewRole = ReviewRole.VERDICT,
    ) -> Resolution:
        """Add the history entry; the caller sets what it does to the claim's cached state."""
        entry = Resolution(
            claim=self.claim,
            verdict=verdict,
            progress=progress,
            evidence=self.evidence,
            note=(note or "").strip() or None,
            reviewer=self.reviewer,
            resolved_on=on,
            recorded_at=now,
            role=role.value,
        )
        session.add(entry)
        self.claim.updated_at = now
        return entry


def _entry(
    session: Session, claim_key: str, by_handle: str, evidence: Sequence[str], now: dt.datetime
) -> _Entry:
    claim = get_claim(session, claim_key, lock=True)
    reviewer = get_reviewer(session, by_handle)
    unique = list(dict.fromkeys(url.strip() for url in evidence))
    return _Entry(claim, reviewer, unique, local_today(reviewer.timezone, now))


def _date_problems(claim: Claim, reviewer: Reviewer, day: dt.date, today: dt.date) -> list[Problem]:
    problems: list[Problem] = []
    if too_early := resolved_on_problem(claim.made_on, day):
        problems.append(Problem.at("resolved_on", str(too_early)))
    if day > today:
        future = f"resolved_on {day} is in the future for {reviewer.handle} ({reviewer.timezone})"
        problems.append(Problem.at("resolved_on", future))
    return problems


def _verdict_problems(
    claim: Claim, reviewer: Reviewer, verdict: str, evidence: list[str], day: dt.date, today: dt.date
) -> list[Problem]:
    problems: list[Problem] = []
    if problem := check_verdict(claim.kind, verdict):
        problems.append(Problem.at("verdict", problem))
    elif problem := check_evidence(verdict, evidence):
        problems.append(Problem.at("evidence", problem))
    return problems + _date_problems(claim, reviewer, day, today)


def _round_problem(claim: Claim, reviewer: Reviewer, required: int) -> Problem | None:
    """Why `reviewer` may not give a verdict on the claim now, if they may not."""
    if claim.status == ClaimStatus.DISPUTED:
        first, second = current_round(claim.resolutions)[:2]
        return Problem.at(
            "verdict",
            f"the claim is disputed ({_said(first)}, {_said(second)}); an admin adjudicates it",
        )
    if claim.status == ClaimStatus.AWAITING:
        (first,) = current_round(claim.resolutions)[:1]
        if first.reviewer_id == reviewer.id:
            return Problem.at(
                "by", f"{reviewer.handle} gave the first verdict; the second must come from another reviewer"
            )
        return None
    if claim.status == ClaimStatus.RESOLVED and _double_reviewed(claim):
        return Problem.at(
            "verdict", "the claim is resolved by double review; un-resolve it to start a new round"
        )
    if claim.status == ClaimStatus.RESOLVED and required > 1:
        return Problem.at(
            "verdict",
            "the claim is resolved and now needs two verdicts; un-resolve it to start a round of two",
        )
    return None


def _double_reviewed(claim: Claim) -> bool:
    return any(r.role != ReviewRole.VERDICT for r in current_round(claim.resolutions))


def _said(entry: Resolution) -> str:
    return f"{entry.reviewer.handle if entry.reviewer else 'someone'} said {entry.verdict}"


def resolve(
    session: Session,
    claim_key: str,
    verdict: str,
    evidence: Sequence[str],
    note: str | None,
    by_handle: str,
    resolved_on: dt.date | None,
    now: dt.datetime,
    *,
    review: ReviewSettings | None = None,
) -> Resolution:
    """Append a verdict to the claim's history: the current one, or one of a double review.

    `resolved_on` defaults to the reviewer's local date at `now`. With one verdict required
    (`review`, default: the built-in settings), a verdict equal to the current one is still
    recorded: a second reviewer agreeing is information. With two, the entry's `role` and
    the claim's status say what it did (see the module's docstring).
    """
    review = review or ReviewSettings()
    it = _entry(session, claim_key, by_handle, evidence, now)
    claim, reviewer = it.claim, it.reviewer
    resolved_on = resolved_on or it.today
    required = review.required_for(claim.tag_names)
    problems = _verdict_problems(claim, reviewer, verdict, it.evidence, resolved_on, it.today)
    if round_problem := _round_problem(claim, reviewer, required):
        problems.insert(0, round_problem)
    if problems:
        raise InvalidInput(problems, f"claim {claim_key!r}")
    current: str | None = verdict
    role, status = ReviewRole.VERDICT, ClaimStatus.RESOLVED
    if claim.status == ClaimStatus.AWAITING:
        role = ReviewRole.SECOND
        if current_round(claim.resolutions)[0].verdict != verdict:
            status, current = ClaimStatus.DISPUTED, None
    elif required > 1:
        role, status, current = ReviewRole.FIRST, ClaimStatus.AWAITING, None
    entry = it.append(session, now, on=resolved_on, note=note, verdict=verdict, role=role)
    claim.verdict, claim.status = current, status.value
    session.flush()
    return entry


def adjudicate(
    session: Session,
    claim_key: str,
    verdict: str,
    evidence: Sequence[str],
    note: str | None,
    by_handle: str,
    resolved_on: dt.date | None,
    now: dt.datetime,
) -> Resolution:
    """An admin settles a disputed claim: their verdict, with a note saying why, resolves it."""
    it = _entry(session, claim_key, by_handle, evidence, now)
    claim, reviewer = it.claim, it.reviewer
    resolved_on = resolved_on or it.today
    problems: list[Problem] = []
    if claim.status != ClaimStatus.DISPUTED:
        problems.append(
            Problem.at("verdict", f"only a disputed claim is adjudicated; this one is {claim.status}")
        )
    if reviewer.role != ReviewerRole.ADMIN:
        problems.append(Problem.at("by", f"{reviewer.handle} is not an admin; only an admin adjudicates"))
    if not (note or "").strip():
        problems.append(Problem.at("note", "an adjudication needs a note saying why"))
    problems += _verdict_problems(claim, reviewer, verdict, it.evidence, resolved_on, it.today)
    if problems:
        raise InvalidInput(problems, f"claim {claim_key!r}")
    entry = it.append(session, now, on=resolved_on, note=note, verdict=verdict, role=ReviewRole.ADJUDICATION)
    claim.verdict, claim.status = verdict, ClaimStatus.RESOLVED.value
    session.flush()
    return entry


def record_progress(
    session: Session,
    claim_key: str,
    status: str,
    evidence: Sequence[str],
    note: str | None,
    by_handle: str,
    rated_on: dt.date | None,
    now: dt.datetime,
) -> Resolution:
    """Append a progress status to an open promise's history; the promise stays open.

    The claim's current progress becomes the latest-dated status (`current_progress`), so
    a status recorded late for an earlier date does not replace a newer one.
    """
    it = _entry(session, claim_key, by_handle, evidence, now)
    claim, reviewer = it.claim, it.reviewer
    rated_on = rated_on or it.today
    problems: list[Problem] = []
    if problem := check_progress(claim.kind, status):
        problems.append(Problem.at("progress", problem))
    elif claim.status != ClaimStatus.OPEN:
        message = f"progress is for an open promise; this one is {claim.verdict or claim.status} (un-resolve it first)"
        problems.append(Problem.at("progress", message))
    elif problem := check_evidence(status, it.evidence, "progress"):
        problems.append(Problem.at("evidence", problem))
    problems += _date_problems(claim, reviewer, rated_on, it.today)
    if problems:
        raise InvalidInput(problems, f"claim {claim_key!r}")
    history = [(r.resolved_on, r.progress) for r in claim.resolutions if r.progress is not None]
    entry = it.append(session, now, on=rated_on, note=note, progress=status)
    claim.progress = current_progress([*history, (rated_on, status)])
    session.flush()
    return entry


def unresolve(session: Session, claim_key: str, by_handle: str, note: str, now: dt.datetime) -> Resolution:
    """Re-open a resolved claim with a new history entry (verdict None); the note says why.

    A claim awaiting its second verdict, or (by an admin) a disputed one, can be re-opened
    too: its round of double review starts again (the entries stay in the history).
    """
    it = _entry(session, claim_key, by_handle, [], now)
    claim, reviewer = it.claim, it.reviewer
    if claim.status == ClaimStatus.OPEN:
        raise TrackerError(f"claim {claim_key!r} is not resolved")
    if claim.status == ClaimStatus.DISPUTED and reviewer.role != ReviewerRole.ADMIN:
        # Else the reviewer who lost the dispute could start the round again instead of an admin settling it.
        raise TrackerError(f"claim {claim_key!r} is disputed: only an admin adjudicates or re-opens it")
    if not note or not note.strip():
        raise InvalidInput(
            [Problem.at("note", "un-resolving needs a note saying why")], f"claim {claim_key!r}"
        )
    entry = it.append(session, now, on=it.today, note=note)
    claim.verdict, claim.status = None, ClaimStatus.OPEN.value
    session.flush()
    return entry
