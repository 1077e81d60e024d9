"""Sending deliveries: claiming one, loading what it carries, and marking the outcome.

A delivery is claimed by compare-and-set (status 'sending' with a lease), sent outside any
transaction, and marked in a transaction of its own. A worker that dies mid-send leaves a
'sending' row whose lease runs out; the next pass sends it again with the same Message-ID.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.models import (
    Appearance,
    Claim,
    ClaimKind,
    ClaimStatus,
    Delivery,
    DeliveryStatus,
    Reminder,
    ReminderStatus,
    Reviewer,
    Source,
    claim_reviewers,
)
from tracker.reminders.digest import Digest, digest_claim
from tracker.reminders.policy import is_escalation
from tracker.reminders.store import lock_for_write, rowcount

MAX_BACKOFF = dt.timedelta(hours=6)
ERROR_LENGTH = 2000


def claimable(now: Any) -> ColumnElement[bool]:
    """Deliveries that may be claimed at `now`: due ones, and those whose sender's lease ran out."""
    return or_(
        and_(
            Delivery.status.in_((DeliveryStatus.PENDING.value, DeliveryStatus.RETRY.value)),
            Delivery.next_attempt_at <= now,
        ),
        and_(Delivery.status == DeliveryStatus.SENDING.value, Delivery.lease_until < now),
    )


# Built once: a pass runs these for every delivery, and building a statement costs more
# than running it.
_CANDIDATE = (
    select(Delivery.id)
    .where(claimable(bindparam("now")))
    .order_by(Delivery.next_attempt_at, Delivery.id)
    .limit(1)
    # SKIP LOCKED (PostgreSQL; SQLite has one writer anyway) lets several workers take
    # different rows instead of queueing behind each other's choice.
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(Delivery)
    .where(Delivery.id == bindparam("delivery"), claimable(bindparam("now")))
    .values(
        status=DeliveryStatus.SENDING.value,
        lease_owner=bindparam("worker"),
        lease_until=bindparam("lease"),
        attempts=Delivery.attempts + 1,
    )
)


def claim_next(session: Session, *, worker: str, now: dt.datetime, lease_until: dt.datetime) -> int | None:
    """Claim the next due delivery for `worker` until `lease_until`; its id, or None when none is due."""
    lock_for_write(session)
    connection = session.connection()
    candidate = connection.execute(_CANDIDATE, {"now": now}).scalar()
    if candidate is None:
        return None
    claimed = connection.execute(
        _CLAIM, {"delivery": candidate, "now": now, "worker": worker, "lease": lease_until}
    )
    # The compare-and-set is the guarantee; the lock above only avoids wasted contention.
    return int(candidate) if rowcount(claimed) == 1 else None


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, ready to render: its Message-ID, its live reminders and its digest."""

    delivery_id: int
    message_id: str
    reminder_ids: tuple[int, ...]
    digest: Digest


_HEAD = (
    select(Delivery.message_id, Reviewer.handle, Reviewer.name, Reviewer.email, Reviewer.timezone)
    .join(Reviewer, Reviewer.id == Delivery.reviewer_id)
    .where(Delivery.id == bindparam("delivery"))
)
_CONTENT = (
    select(
        Reminder.id,
        Reminder.kind,
        Reminder.deadline,
        Claim.id.label("claim_id"),
        Claim.key,
        Claim.statement,
        Claim.criteria,
        Claim.timezone,
        Claim.status,
        Claim.kind.label("claim_kind"),
        Claim.deadline.label("claim_deadline"),
        Source.name.label("source"),
        Appearance.url,
        Appearance.title,
    )
    .join(Claim, Claim.id == Reminder.claim_id)
    .join(Source, Source.id == Claim.source_id)
    .outerjoin(Appearance, Appearance.id == Claim.appearance_id)
    .where(Reminder.delivery_id == bindparam("delivery"), Reminder.status == ReminderStatus.QUEUED.value)
    .order_by(Reminder.id)
)


def load_outgoing(
    session: Session, delivery_id: int, settings: Settings, now: dt.datetime
) -> Outgoing | None:
    """What a delivery carries now, or None when none of its reminders still applies."""
    connection = session.connection()
    head = connection.execute(_HEAD, {"delivery": delivery_id}).one()
    rows = connection.execute(_CONTENT, {"delivery": delivery_id}).all()
    # Resolved or moved since the digest was made (say, while it waited for a retry): drop it.
    live = [
        r
        for r in rows
        if r.status == ClaimStatus.OPEN
        and r.claim_kind == ClaimKind.PREDICTION
        and r.claim_deadline == r.deadline
    ]
    stale = [r.id for r in rows if r not in live]
    if stale:
        session.execute(
            update(Reminder).where(Reminder.id.in_(stale)).values(status=ReminderStatus.CANCELLED.value)
        )
    if not live:
        return None
    assigned: dict[int, list[str]] = defaultdict(list)
    escalated = sorted({r.claim_id for r in live if is_escalation(r.kind)})
    if escalated:
        for claim_id, handle in session.execute(
            select(claim_reviewers.c.claim_id, Reviewer.handle)
            .join(Reviewer, Reviewer.id == claim_reviewers.c.reviewer_id)
            .where(claim_reviewers.c.claim_id.in_(escalated))
            .order_by(Reviewer.handle)
        ):
            assigned[claim_id].append(handle)
    items = [
        digest_claim(
            key=r.key,
            statement=r.statement,
            criteria=r.criteria,
            deadline=r.deadline,
            claim_timezone=r.timezone or settings.timezone,
            reviewer_handle=head.handle,
            reviewer_timezone=head.timezone,
            source=r.source,
            article_url=r.url,
            article_title=r.title,
            kind=r.kind,
            assigned=assigned.get(r.claim_id, []),
            resolve_url=settings.reminders.resolve_url,
            now=now,
        )
        for r in live
    ]
    items.sort(key=lambda c: (c.days_left, c.key))
    digest = Digest(head.handle, head.name, head.email, head.timezone, tuple(items))
    return Outgoing(delivery_id, head.message_id, tuple(r.id for r in live), digest)


def cancel_empty(session: Session, delivery_id: int, worker: str) -> None:
    """Cancel a claimed delivery that has nothing left to say."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.lease_owner == worker)
        .values(status=DeliveryStatus.CANCELLED.value, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


_SENT = (
    update(Delivery)
    # A success stands whoever holds the lease now: the message is out.
    .where(Delivery.id == bindparam("delivery"), Delivery.status != DeliveryStatus.SENT.value)
    .values(
        status=DeliveryStatus.SENT.value,
        sent_at=bindparam("at"),
        lease_owner=None,
        lease_until=None,
        last_error=None,
    )
)
_REMINDERS_SENT = (
    update(Reminder)
    .where(
        Reminder.delivery_id == bindparam("delivery"),
        Reminder.status.in_((ReminderStatus.QUEUED.value, ReminderStatus.FAILED.value)),
    )
    .values(status=ReminderStatus.SENT.value)
)


def mark_sent(session: Session, delivery_id: int, at: dt.datetime) -> bool:
    """Record that the channel accepted the delivery; False if it was already marked sent."""
    lock_for_write(session)
    connection = session.connection()
    done = connection.execute(_SENT, {"delivery": delivery_id, "at": at})
    connection.execute(_REMINDERS_SENT, {"delivery": delivery_id})
    return rowcount(done) == 1


def set_subject(session: Session, delivery_id: int, subject: str) -> None:
    """Keep the listed subject in step with what is being sent."""
    session.connection().execute(
        update(Delivery).where(Delivery.id == bindparam("delivery")).values(subject=bindparam("subject")),
        {"delivery": delivery_id, "subject": subject},
    )


def backoff(attempts: int, retry_seconds: int, retry_after: float | None = None) -> dt.timedelta:
    """The wait before attempt `attempts + 1`: retry_seconds doubling per attempt, capped at 6 hours."""
    delay = min(dt.timedelta(seconds=retry_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    if retry_after is not None:
        # The far end said how long to wait (HTTP Retry-After): never come back sooner.
        delay = max(delay, dt.timedelta(seconds=retry_after))
    return delay


def mark_failed(
    session: Session,
    delivery_id: int,
    *,
    worker: str,
    at: dt.datetime,
    error: str,
    permanent: bool,
    settings: Settings,
    retry_after: float | None = None,
) -> str | None:
    """Record a failed attempt: 'retry' with backoff, or 'failed' when permanent or out of attempts.

    Returns the new status, or None when this worker no longer holds the delivery (its
    lease ran out and another worker took it over: that worker's outcome decides).
    """
    lock_for_write(session)
    delivery = session.scalar(
        select(Delivery)
        .where(Delivery.id == delivery_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if delivery is None or delivery.status != DeliveryStatus.SENDING or delivery.lease_owner != worker:
        return None
    rules = settings.reminders
    delivery.last_error = error[:ERROR_LENGTH]
    delivery.lease_owner = delivery.lease_until = None
    if permanent or delivery.attempts >= rules.max_attempts:
        delivery.status = DeliveryStatus.FAILED.value
        session.execute(
            update(Reminder)
            .where(Reminder.delivery_id == delivery_id, Reminder.status == ReminderStatus.QUEUED.value)
            .values(status=ReminderStatus.FAILED.value)
            .execution_options(synchronize_session=False)
        )
    else:
        delivery.status = DeliveryStatus.RETRY.value
        delivery.next_attempt_at = at + backoff(delivery.attempts, rules.retry_seconds, retry_after)
    session.flush()
    return delivery.status
