"""Grouping a reviewer's due reminders into one digest, at most one a day (first reminders excepted).

Plain SQL expressions rather than ORM objects: this runs once per reviewer per pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.models import Claim, Delivery, DeliveryStatus, Reminder, ReminderStatus, Reviewer
from tracker.reminders import policy
from tracker.reminders.digest import message_id, subject_line
from tracker.reminders.store import lock_for_write, rowcount


@dataclass(frozen=True)
class Grouped:
    """What grouping one reviewer's due reminders did."""

    delivery_id: int | None = None  # the digest made (or put back in the queue), if any
    held: int = 0  # reminders left pending by the one-digest-a-day limit
    skipped: int = 0  # older reminders superseded by a later one for the same claim


def reviewers_with_due(session: Session, now: dt.datetime) -> list[int]:
    """Reviewers that have pending reminders due by `now`."""
    return list(
        session.scalars(
            select(Reminder.reviewer_id)
            .where(Reminder.status == ReminderStatus.PENDING.value, Reminder.due_at <= now)
            .distinct()
            .order_by(Reminder.reviewer_id)
        )
    )


def supersede(pending: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """Keep the latest of (id, claim_id, deadline, due_at) rows per (claim, deadline); ids of the rest."""
    latest: dict[tuple[int, dt.date], Any] = {}
    for row in pending:
        key = (row.claim_id, row.deadline)
        if key not in latest or (row.due_at, row.id) > (latest[key].due_at, latest[key].id):
            latest[key] = row
    keep = sorted(latest.values(), key=lambda r: r.id)
    kept = {r.id for r in keep}
    return keep, [r.id for r in pending if r.id not in kept]


# Built once: grouping runs these for every reviewer with something due.
_REVIEWER = (
    select(Reviewer.handle, Reviewer.timezone)
    .where(Reviewer.id == bindparam("reviewer"))
    # Locking the reviewer serialises digest-making per reviewer across processes; one that
    # finds the row locked leaves the reviewer to the process holding it.
    .with_for_update(skip_locked=True, key_share=True)
)
# Only the reviewer in the WHERE: with the status there too, SQLite picks the (status, due_at)
# index and reads every reviewer's pending reminders for each reviewer, quadratic in a big
# pass. The reviewer's own rows are few; status and time are checked in Python.
_REVIEWER_REMINDERS = select(
    Reminder.id, Reminder.claim_id, Reminder.deadline, Reminder.due_at, Reminder.status
).where(Reminder.reviewer_id == bindparam("reviewer"))
_TOLD = select(Reminder.claim_id).where(
    Reminder.reviewer_id == bindparam("reviewer"),
    Reminder.claim_id.in_(bindparam("claims", expanding=True)),
    Reminder.status.in_((ReminderStatus.QUEUED.value, ReminderStatus.SENT.value)),
)
# A report email is not a digest: it does not count against the one-digest-a-day limit.
_LAST_DIGEST = select(func.max(Delivery.created_at)).where(
    Delivery.reviewer_id == bindparam("reviewer"),
    Delivery.status != DeliveryStatus.CANCELLED.value,
    Delivery.report_run_id.is_(None),
)
_DEADLINES = select(Claim.deadline, Claim.timezone).where(Claim.id.in_(bindparam("claims", expanding=True)))
_SKIP = (
    update(Reminder)
    .where(Reminder.id.in_(bindparam("ids", expanding=True)))
    .values(status=ReminderStatus.SKIPPED.value)
)
_TAKE = (
    update(Reminder)
    .where(Reminder.id.in_(bindparam("ids", expanding=True)), Reminder.status == ReminderStatus.PENDING.value)
    .values(status=bindparam("new_status"), delivery_id=bindparam("delivery"))
)


def group_reviewer(
    session: Session, reviewer_id: int, *, settings: Settings, now: dt.datetime, channel: str
) -> Grouped:
    """Put one reviewer's due reminders into one digest, unless the daily limit holds them."""
    lock_for_write(session)
    db = session.connection()
    reviewer = db.execute(_REVIEWER, {"reviewer": reviewer_id}).first()
    if reviewer is None:
        return Grouped()
    pending = [
        r
        for r in db.execute(_REVIEWER_REMINDERS, {"reviewer": reviewer_id})
        if r.status == ReminderStatus.PENDING and r.due_at <= now
    ]
    if not pending:
        return Grouped()
    keep, superseded = supersede(pending)
    if superseded:
        db.execute(_SKIP, {"ids": superseded})
    claim_ids = sorted({r.claim_id for r in keep})
    told = set(db.execute(_TOLD, {"reviewer": reviewer_id, "claims": claim_ids}).scalars())
    if told >= set(claim_ids):
        # Nothing new to this reviewer: at most one digest per digest day.
        last = db.execute(_LAST_DIGEST, {"reviewer": reviewer_id}).scalar()
        hour = settings.reminders.send_hour
        if last is not None and policy.digest_day(last, reviewer.timezone, hour) == policy.digest_day(
            now, reviewer.timezone, hour
        ):
            return Grouped(held=len(keep), skipped=len(superseded))
    ids = [r.id for r in keep]
    overdue = sum(
        1
        for deadline, zone in db.execute(_DEADLINES, {"claims": claim_ids})
        if deadline is not None and policy.days_left(deadline, zone or settings.timezone, now) < 0
    )
    delivery_id, status = _delivery_for(
        session,
        reviewer_id,
        message_id(reviewer.handle, ids),
        subject=subject_line(len(ids), overdue),
        now=now,
        channel=channel,
    )
    # A delivery that already went out with exactly these reminders (revived after a race) stands.
    new_status = ReminderStatus.SENT if status == DeliveryStatus.SENT else ReminderStatus.QUEUED
    taken = rowcount(db.execute(_TAKE, {"ids": ids, "new_status": new_status.value, "delivery": delivery_id}))
    if taken != len(ids):
        # Cannot happen while the reviewer row is locked; never send a digest built on a race.
        raise RuntimeError(f"reminders of reviewer {reviewer_id} changed while grouping")
    return Grouped(delivery_id=delivery_id, skipped=len(superseded))


def _delivery_for(
    session: Session, reviewer_id: int, mid: str, *, subject: str, now: dt.datetime, channel: str
) -> tuple[int, str]:
    """(id, status) of a new pending delivery, or of the one that already carries exactly these reminders.

    The Message-ID is a function of the reminders, so reminders cancelled and then revived
    (a claim re-opened, a reviewer assigned back) meet their old delivery again: it is put
    back in the queue rather than duplicated.
    """
    fresh: dict[str, Any] = {
        "subject": subject,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "lease_owner": None,
        "lease_until": None,
    }
    existing = session.execute(select(Delivery.id, Delivery.status).where(Delivery.message_id == mid)).first()
    if existing is None:
        new_id = session.scalar(
            insert(Delivery)
            .values(reviewer_id=reviewer_id, channel=channel, message_id=mid, **fresh)
            .returning(Delivery.id)
        )
        assert new_id is not None
        return new_id, DeliveryStatus.PENDING.value
    if existing.status in (DeliveryStatus.CANCELLED, DeliveryStatus.FAILED):
        session.execute(update(Delivery).where(Delivery.id == existing.id).values(**fresh))
        return existing.id, DeliveryStatus.PENDING.value
    return existing.id, existing.status
