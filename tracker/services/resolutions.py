"""Verdicts: an append-only history per claim, whose latest entry is the current verdict.

A promise's history also holds its progress statuses (in-the-works, stalled) while it is
open: entries with no verdict that leave the claim open (see `Resolution`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from tracker.errors import InvalidInput, Problem, TrackerError
from tracker.models import Claim, ClaimStatus, Resolution, Reviewer, current_progress
from tracker.rules import check_evidence, check_progress, check_verdict, resolved_on_problem
from tracker.services.deadlines import local_today
from tracker.services.lookup import get_claim, get_reviewer


def _date_problems(claim: Claim, reviewer: Reviewer, day: dt.date, today: dt.date) -> list[Problem]:
    problems: list[Problem] = []
    if too_early := resolved_on_problem(claim.made_on, day):
        problems.append(Problem.at("resolved_on", str(too_early)))
    if day > today:
        future = f"resolved_on {day} is in the future for {reviewer.handle} ({reviewer.timezone})"
        problems.append(Problem.at("resolved_on", future))
    return problems


def resolve(
    session: Session,
    claim_key: str,
    verdict: str,
    evidence: Sequence[str],
    note: str | None,
    by_handle: str,
    resolved_on: dt.date | None,
    now: dt.datetime,
) -> Resolution:
    """Append a verdict to the claim's history and make it the current one.

    `resolved_on` defaults to the reviewer's local date at `now`. A verdict equal to
    the current one is still recorded: a second reviewer agreeing is information.
    """
    claim = get_claim(session, claim_key, lock=True)
    reviewer = get_reviewer(session, by_handle)
    evidence = list(dict.fromkeys(url.strip() for url in evidence))
    today = local_today(reviewer.timezone, now)
    resolved_on = resolved_on or today
    problems: list[Problem] = []
    if problem := check_verdict(claim.kind, verdict):
        problems.append(Problem.at("verdict", problem))
    elif problem := check_evidence(verdict, evidence):
        problems.append(Problem.at("evidence", problem))
    problems += _date_problems(claim, reviewer, resolved_on, today)
    if problems:
        raise InvalidInput(problems, f"claim {claim_key!r}")
    entry = Resolution(
        claim=claim,
        verdict=verdict,
        evidence=evidence,
        note=(note or "").strip() or None,
        reviewer=reviewer,
        resolved_on=resolved_on,
        recorded_at=now,
    )
    session.add(entry)
    claim.verdict, claim.status, claim.updated_at = verdict, ClaimStatus.RESOLVED.value, now
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
    claim = get_claim(session, claim_key, lock=True)
    reviewer = get_reviewer(session, by_handle)
    evidence = list(dict.fromkeys(url.strip() for url in evidence))
    today = local_today(reviewer.timezone, now)
    rated_on = rated_on or today
    problems: list[Problem] = []
    if problem := check_progress(claim.kind, status):
        problems.append(Problem.at("progress", problem))
    elif claim.verdict is not None:
        message = f"progress is for an open promise; this one is {claim.verdict} (un-resolve it first)"
        problems.append(Problem.at("progress", message))
    elif problem := check_evidence(status, evidence, "progress"):
        problems.append(Problem.at("evidence", problem))
    problems += _date_problems(claim, reviewer, rated_on, today)
    if problems:
        raise InvalidInput(problems, f"claim {claim_key!r}")
    entry = Resolution(
        claim=claim,
        verdict=None,
        progress=status,
        evidence=evidence,
        note=(note or "").strip() or None,
        reviewer=reviewer,
        resolved_on=rated_on,
        recorded_at=now,
    )
    session.add(entry)
    history = [(r.resolved_on, r.progress) for r in claim.resolutions if r.progress is not None]
    claim.progress = current_progress([*history, (rated_on, status)])
    claim.updated_at = now
    session.flush()
    return entry


def unresolve(session: Session, claim_key: str, by_handle: str, note: str, now: dt.datetime) -> Resolution:
    """Re-open a resolved claim with a new history entry (verdict None); the note says why."""
    claim = get_claim(session, claim_key, lock=True)
    reviewer = get_reviewer(session, by_handle)
    if claim.verdict is None:
        raise TrackerError(f"claim {claim_key!r} is not resolved")
    if not note or not note.strip():
        raise InvalidInput(
            [Problem.at("note", "un-resolving needs a note saying why")], f"claim {claim_key!r}"
        )
    entry = Resolution(
        claim=claim,
        verdict=None,
        evidence=[],
        note=note.strip(),
        reviewer=reviewer,
        resolved_on=local_today(reviewer.timezone, now),
        recorded_at=now,
    )
    session.add(entry)
    claim.verdict, claim.status, claim.updated_at = None, ClaimStatus.OPEN.value, now
    session.flush()
    return entry
