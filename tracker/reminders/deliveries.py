"""The delivery queue as people see it: `tracker reminders list` and `tracker reminders resend`.

The queue holds the reminder digests and the periodic report's emails alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from tracker.errors import NotFound, TrackerError
from tracker.models import Delivery, DeliveryStatus, Reminder, ReminderStatus


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery as `tracker reminders list` shows it."""

    id: int
    status: str
    reviewer: str
    email: str
    channel: str
    claims: tuple[str, ...]
    attempts: int
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    last_error: str | None
    message_id: str
    subject: str
    created_at: dt.datetime
    report: int | None = None  # the report run a report email carries; None for a digest


LISTED = {
    "failed": (DeliveryStatus.FAILED.value,),
    "pending": (DeliveryStatus.PENDING.value, DeliveryStatus.RETRY.value, DeliveryStatus.SENDING.value),
}


def list_deliveries(
    session: Session, statuses: Sequence[str] | None = None, limit: int | None = None
) -> list[DeliveryRow]:
    """Deliveries with these statuses (all when None), newest first, with their claims' keys."""
    stmt = (
        select(Delivery)
        .options(
            selectinload(Delivery.reviewer), selectinload(Delivery.reminders).selectinload(Reminder.claim)
        )
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
    )
    if statuses is not None:
        stmt = stmt.where(Delivery.status.in_(statuses))
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = []
    for d in session.scalars(stmt):
        keys = tuple(sorted({r.claim.key for r in d.reminders if r.status != ReminderStatus.CANCELLED}))
        waiting = d.status in (DeliveryStatus.PENDING, DeliveryStatus.RETRY)
        rows.append(
            DeliveryRow(
                id=d.id,
                status=d.status,
                reviewer=d.reviewer.handle,
                email=d.reviewer.email,
                channel=d.channel,
                claims=keys,
                attempts=d.attempts,
                next_attempt_at=d.next_attempt_at if waiting else None,
                sent_at=d.sent_at,
                last_error=d.last_error,
                message_id=d.message_id,
                subject=d.subject,
                created_at=d.created_at,
                report=d.report_run_id,
            )
        )
    return rows


def held_count(session: Session, now: dt.datetime) -> int:
    """Reminders due but not yet in a digest (held by the daily limit, or awaiting the next pass)."""
    count = session.scalar(
        select(func.count()).where(Reminder.status == ReminderStatus.PENDING.value, Reminder.due_at <= now)
    )
    return int(count or 0)


def resend(session: Session, ids: Sequence[int] | None, now: dt.datetime) -> list[int]:
    """Put failed deliveries (these ids, or every failed one when None) back in the queue, attempts reset."""
    if ids is None:
        chosen = list(
            session.scalars(select(Delivery.id).where(Delivery.status == DeliveryStatus.FAILED.value))
        )
    else:
        found = {d.id: d.status for d in session.scalars(select(Delivery).where(Delivery.id.in_(ids)))}
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise NotFound(f"no delivery {', '.join(missing)}")
        wrong = [f"{i} is {found[i]}" for i in ids if found[i] != DeliveryStatus.FAILED]
        if wrong:
            raise TrackerError(f"only failed deliveries can be re-sent: {'; '.join(wrong)}")
        chosen = sorted(set(ids))
    if not chosen:
        return []
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(chosen), Delivery.status == DeliveryStatus.FAILED.value)
        .values(status=DeliveryStatus.RETRY.value, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Reminder)
        .where(Reminder.delivery_id.in_(chosen), Reminder.status == ReminderStatus.FAILED.value)
        .values(status=ReminderStatus.QUEUED.value)
        .execution_options(synchronize_session=False)
    )
    return chosen
