"""Recording due reminders and cancelling the ones that no longer apply.

Every function takes the session first and never commits: the engine runs each step in
its own short transaction, so a crash loses at most the step it interrupted, and another
process can work beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Exists, and_, bindparam, exists, func, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.config import ReminderSettings, Settings
from tracker.errors import TrackerError
from tracker.models import (
    DEADLINE_KINDS,
    Claim,
    ClaimStatus,
    Delivery,
    DeliveryStatus,
    Reminder,
    ReminderStatus,
    Resolution,
    Reviewer,
    ReviewerRole,
    ReviewRole,
    claim_reviewers,
)
from tracker.reminders import policy
from tracker.reminders.policy import Due

ACTIVE = (ReminderStatus.PENDING.value, ReminderStatus.QUEUED.value)
CHUNK = 500


def rowcount(result: Any) -> int:
    """Rows an UPDATE or INSERT touched."""
    return int(cast(CursorResult[Any], result).rowcount)


def lock_for_write(session: Session) -> None:
    """Take SQLite's write lock before reading, as the first statement of a writing transaction.

    SQLite's deferred BEGIN starts as a reader; upgrading to a writer after another process
    has committed fails at once ("database is locked") instead of waiting. A write that
    changes nothing takes the lock up front, so busy_timeout makes concurrent passes queue.
    PostgreSQL needs nothing: its row locks and SKIP LOCKED do the work.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("UPDATE reminders SET id = id WHERE 0 = 1")


def _insert_ignoring_conflicts(session: Session) -> Any:
    name = session.connection().dialect.name
    if name == "postgresql":
        return postgresql.insert(Reminder).on_conflict_do_nothing(
            index_elements=["claim_id", "reviewer_id", "kind", "deadline"]
        )
    if name == "sqlite":
        return sqlite.insert(Reminder).on_conflict_do_nothing(
            index_elements=["claim_id", "reviewer_id", "kind", "deadline"]
        )
    raise TrackerError(f"reminders need SQLite or PostgreSQL, not {name}")


# --- double review ------------------------------------------------------------------------------------

_FIRST = ReviewRole.FIRST.value
_UNDER_REVIEW = (ClaimStatus.OPEN.value, ClaimStatus.AWAITING.value, ClaimStatus.DISPUTED.value)


def _latest_first() -> Any:
    """The id of a claim's latest first-of-two verdict: while it awaits, the current round's
    (an un-resolve re-opens the claim, so an awaiting claim's latest first verdict is this round's)."""
    later = Resolution.__table__.alias("later")
    return (
        select(func.max(later.c.id))
        .where(later.c.claim_id == Resolution.claim_id, later.c.role == _FIRST)
        .scalar_subquery()
    )


def answered(claim_id: Any, reviewer_id: Any) -> Exists:
    """SQL: the reviewer gave the first verdict of the claim, which awaits the second (not to be reminded)."""
    return exists().where(
        Claim.id == claim_id,
        Claim.status == ClaimStatus.AWAITING.value,
        Resolution.claim_id == claim_id,
        Resolution.reviewer_id == reviewer_id,
        Resolution.role == _FIRST,
        Resolution.id == _latest_first(),
    )


_FIRST_VERDICTS = (
    select(Resolution.claim_id, Resolution.reviewer_id)
    .join(Claim, Claim.id == Resolution.claim_id)
    .where(
        Claim.status == ClaimStatus.AWAITING.value,
        Resolution.role == _FIRST,
        Resolution.id == _latest_first(),
    )
)


def first_verdicts(session: Session) -> set[tuple[int, int]]:
    """(claim, reviewer) of each claim awaiting a second verdict, with who gave the first."""
    return {(c, r) for c, r in session.connection().execute(_FIRST_VERDICTS) if r is not None}


# --- stopping and rescheduling -----------------------------------------------------------------------


def cancel_stale(session: Session, claim_ids: Sequence[int] | None = None) -> int:
    """Cancel reminders not yet sent whose claim was resolved, deadline moved or reviewer changed.

    Under double review: a first verdict cancels its author's reminders (the others still owe
    one); an agreeing second verdict resolves the claim, cancelling all; a differing one
    cancels the reviewers' and escalations (the admins get `disputed-<k>` instead), which
    an adjudication cancels in turn.

    `claim_ids` narrows it to those claims (an edit cancels its claim's reminders at once,
    rather than at the next pass).
    """
    dispute = Reminder.kind.like(policy.DISPUTED_PREFIX + "%")
    claim_still_due = exists().where(
        Claim.id == Reminder.claim_id,
        Claim.kind.in_(DEADLINE_KINDS),
        Claim.deadline == Reminder.deadline,
        or_(
            and_(dispute, Claim.status == ClaimStatus.DISPUTED.value),
            and_(not_(dispute), Claim.status.in_(policy.REMINDED)),
        ),
    )
    assigned = exists().where(
        claim_reviewers.c.claim_id == Reminder.claim_id,
        claim_reviewers.c.reviewer_id == Reminder.reviewer_id,
    )
    is_admin = exists().where(Reviewer.id == Reminder.reviewer_id, Reviewer.role == ReviewerRole.ADMIN.value)
    escalation = Reminder.kind.like(policy.ESCALATION_PREFIX + "%")
    stale = or_(
        not_(claim_still_due),
        and_(
            not_(escalation),
            not_(dispute),
            or_(not_(assigned), answered(Reminder.claim_id, Reminder.reviewer_id)),
        ),
        # Escalations go to admins who are not on the claim themselves (see the policy).
        and_(escalation, or_(not_(is_admin), assigned)),
        # A dispute goes to every admin, assigned or not.
        and_(dispute, not_(is_admin)),
    )
    of_claims = [] if claim_ids is None else [Reminder.claim_id.in_(list(claim_ids))]
    cancelled = rowcount(
        session.execute(
            update(Reminder)
            .where(Reminder.status.in_(ACTIVE), stale, *of_claims)
            .values(status=ReminderStatus.CANCELLED.value)
            .execution_options(synchronize_session=False)
        )
    )
    if cancelled:
        # A digest not yet sent whose every reminder was cancelled has nothing left to say.
        # (A report email has no reminders: it always has something to say.)
        live = exists().where(
            Reminder.delivery_id == Delivery.id, Reminder.status != ReminderStatus.CANCELLED.value
        )
        session.execute(
            update(Delivery)
            .where(
                Delivery.status.in_((DeliveryStatus.PENDING.value, DeliveryStatus.RETRY.value)),
                Delivery.report_run_id.is_(None),
                not_(live),
            )
            .values(status=DeliveryStatus.CANCELLED.value)
            .execution_options(synchronize_session=False)
        )
    return cancelled


# --- recording ---------------------------------------------------------------------------------------


# No ORDER BY: SQLite would walk the whole table in id order to avoid a sort, instead of
# the (status, deadline) index range over the few claims in reach.
_IN_REACH = (
    select(Claim.id, Claim.deadline, Claim.timezone, claim_reviewers.c.reviewer_id, Reviewer.timezone)
    .outerjoin(claim_reviewers, claim_reviewers.c.claim_id == Claim.id)
    .outerjoin(Reviewer, Reviewer.id == claim_reviewers.c.reviewer_id)
    .where(
        Claim.status.in_(policy.REMINDED),
        Claim.kind.in_(DEADLINE_KINDS),
        Claim.deadline <= bindparam("horizon"),
    )
)
# Disputed claims remind the admins whatever their deadline (the dispute may come before it); they are few.
_DISPUTED = select(Claim.id, Claim.deadline, Claim.timezone).where(
    Claim.status == ClaimStatus.DISPUTED.value,
    Claim.kind.in_(DEADLINE_KINDS),
    Claim.deadline.is_not(None),
)
_ADMINS = select(Reviewer.id, Reviewer.timezone).where(Reviewer.role == ReviewerRole.ADMIN.value)


def scan_due(session: Session, settings: Settings, now: dt.datetime) -> list[Due]:
    """Every recipient's latest due reminder at `now`, as `policy.all_due` has it, in one indexed scan.

    The rows are the open predictions whose deadline is close enough to have anything due,
    with their reviewers (Core rows: the ORM's row handling would cost more than the scan).
    Claims share deadlines and timezones, so each (deadline, timezones) case is worked out
    once; no object is built per row but the Due itself.
    """
    rules, default_zone = settings.reminders, settings.timezone
    connection = session.connection()
    admins = connection.execute(_ADMINS).all()
    memo: dict[tuple[Any, ...], tuple[str, dt.datetime] | None] = {}
    found: list[Due] = []
    gave_first = first_verdicts(session)
    # Escalations go to the admins not assigned to the claim: keep who is, when there are admins.
    assigned: dict[int, tuple[dt.date, str, set[int]]] = {}
    for claim_id, deadline, claim_zone, reviewer_id, reviewer_zone in connection.execute(
        _IN_REACH, {"horizon": policy.horizon(rules, now)}
    ):
        zone = claim_zone or default_zone
        if admins:
            entry = assigned.setdefault(claim_id, (deadline, zone, set()))
            if reviewer_id is not None:
                entry[2].add(reviewer_id)
        if reviewer_id is None or (claim_id, reviewer_id) in gave_first:
            continue
        key = ("reviewer", deadline, zone, reviewer_zone)
        if key not in memo:
            memo[key] = policy.latest_for_reviewer(deadline, zone, reviewer_zone, rules, now)
        hit = memo[key]
        if hit is not None:
            found.append(Due(claim_id, reviewer_id, hit[0], deadline, hit[1]))
    for claim_id, (deadline, zone, ids) in assigned.items():
        for admin_id, admin_zone in admins:
            if admin_id in ids:  # an admin on the claim gets the ordinary nudges instead
                continue
            key = ("escalation", deadline, zone, admin_zone)
            if key not in memo:
                memo[key] = policy.latest_escalation(deadline, zone, admin_zone, rules, now)
            hit = memo[key]
            if hit is not None:
                found.append(Due(claim_id, admin_id, hit[0], deadline, hit[1]))
    for claim_id, maybe_deadline, claim_zone in connection.execute(_DISPUTED) if admins else ():
        deadline = cast(dt.date, maybe_deadline)  # never NULL: the query asks for deadlines
        zone = claim_zone or default_zone
        for admin_id, admin_zone in admins:
            key = ("dispute", deadline, zone, admin_zone)
            if key not in memo:
                memo[key] = policy.latest_dispute(deadline, zone, admin_zone, rules, now)
            hit = memo[key]
            if hit is not None:
                found.append(Due(claim_id, admin_id, hit[0], deadline, hit[1]))
    return found


def _recorded(
    session: Session, rules: ReminderSettings, now: dt.datetime
) -> dict[tuple[Any, ...], tuple[int, str]]:
    """(claim, reviewer, kind, deadline) -> (id, status) of the recent reminders of the claims in reach."""
    # The same narrowing as open_deadlines; older rows cannot be anyone's latest due kind.
    rows = session.connection().execute(
        select(
            Reminder.claim_id,
            Reminder.reviewer_id,
            Reminder.kind,
            Reminder.deadline,
            Reminder.id,
            Reminder.status,
        )
        .join(Claim, Claim.id == Reminder.claim_id)
        .where(
            Claim.status.in_(_UNDER_REVIEW),
            Claim.kind.in_(DEADLINE_KINDS),
            or_(Claim.deadline <= policy.horizon(rules, now), Claim.status == ClaimStatus.DISPUTED.value),
            Reminder.deadline == Claim.deadline,
            Reminder.due_at >= now - policy.lookback(rules),
        )
    )
    return {(c, r, k, d): (rid, status) for c, r, k, d, rid, status in rows}


def record(session: Session, dues: Sequence[Due], rules: ReminderSettings, now: dt.datetime) -> int:
    """Record the due reminders not recorded yet; returns how many were new (or revived)."""
    if not dues:
        return 0
    known = _recorded(session, rules, now)
    new: list[dict[str, Any]] = []
    revive: list[int] = []
    for due in sorted(dues):
        hit = known.get((due.claim_id, due.reviewer_id, due.kind, due.deadline))
        if hit is None:
            new.append(
                {
                    "claim_id": due.claim_id,
                    "reviewer_id": due.reviewer_id,
                    "kind": due.kind,
                    "deadline": due.deadline,
                    "due_at": due.due_at,
                    "status": ReminderStatus.PENDING.value,
                    "created_at": now,
                }
            )
        elif hit[1] == ReminderStatus.CANCELLED:
            # Cancelled while it did not apply (claim resolved, reviewer unassigned); it applies again.
            revive.append(hit[0])
    count = 0
    for start in range(0, len(new), CHUNK):
        # Another pass may record the same rows at the same moment: the unique key decides.
        stmt = _insert_ignoring_conflicts(session).returning(Reminder.id)
        count += len(session.execute(stmt, new[start : start + CHUNK]).all())
    for start in range(0, len(revive), CHUNK):
        count += rowcount(
            session.execute(
                update(Reminder)
                .where(
                    Reminder.id.in_(revive[start : start + CHUNK]),
                    Reminder.status == ReminderStatus.CANCELLED.value,
                )
                .values(status=ReminderStatus.PENDING.value, delivery_id=None)
                .execution_options(synchronize_session=False)
            )
        )
    return count
