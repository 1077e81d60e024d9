"""Sending deliveries: claiming one, loading what it carries, and marking the outcome.

A delivery is claimed by compare-and-set (status 'sending' with a lease), sent outside any
transaction, and marked in a transaction of its own. A worker that dies mid-send leaves a
'sending' row whose lease runs out; the next pass sends it again with the same Message-ID.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, or_, select, update
from sqlalchemy.orm import Session

from tracker.accounts.links import link_signer
from tracker.config import Settings
from tracker.models import (
    DEADLINE_KINDS,
    Appearance,
    Claim,
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
from tracker.reminders.policy import applies_to, is_escalation
from tracker.reminders.store import first_verdicts, lock_for_write, rowcount

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


def _claim_batch_statement(*, one_report: bool, recheck: bool) -> Any:
    """UPDATE ... RETURNING that claims a batch of due deliveries (only one report's, if told)."""
    due = claimable(bindparam("now"))
    if one_report:
        due = and_(due, Delivery.report_run_id == bindparam("report"))
    # The candidates go through a CTE: PostgreSQL materialises it once, where `id IN (SELECT
    # ... LIMIT n FOR UPDATE SKIP LOCKED)` may be rescanned and claim more than n rows.
    candidates = (
        select(Delivery.id)
        .where(due)
        # No ORDER BY: sorting every due row for each batch made a large queue quadratic.
        # Unordered, the (status, next_attempt_at) index still yields the oldest first.
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
        .cte("candidates")
    )
    chosen = Delivery.id.in_(select(candidates.c.id))
    return (
        update(Delivery)
        .where(and_(chosen, claimable(bindparam("now"))) if recheck else chosen)
        .values(
            status=DeliveryStatus.SENDING.value,
            lease_owner=bindparam("worker"),
            lease_until=bindparam("lease"),
            attempts=Delivery.attempts + 1,
        )
        .returning(Delivery.id, Delivery.report_run_id)
    )


# (one report's emails only, repeat the compare-and-set in the UPDATE) -> statement.
# PostgreSQL repeats it: its candidates are chosen under row locks, and the repeat is cheap.
# SQLite does not: the statement runs under its single write lock, so no other writer can
# touch a candidate in between, and the repeated test made its planner walk every due row
# through the status index instead of looking the twenty ids up (quadratic in a big queue).
_CLAIM_BATCH = {
    (one_report, recheck): _claim_batch_statement(one_report=one_report, recheck=recheck)
    for one_report in (False, True)
    for recheck in (False, True)
}


def claim_rows(
    session: Session,
    *,
    worker: str,
    now: dt.datetime,
    lease_until: dt.datetime,
    limit: int,
    report_id: int | None = None,
) -> list[tuple[int, int | None]]:
    """Claim up to `limit` due deliveries for `worker` until `lease_until`: (id, report run), in id order.

    One UPDATE ... RETURNING, whose subquery picks the candidates (skipping rows another
    worker has locked, on PostgreSQL). It writes first, so on SQLite it takes the write
    lock at once and needs no lock_for_write. With `report_id`, only that report's emails
    are claimed (the report job's own drain); the report run is None for a reminder digest.
    """
    connection = session.connection()
    statement = _CLAIM_BATCH[report_id is not None, connection.dialect.name != "sqlite"]
    params = {"now": now, "limit": limit, "worker": worker, "lease": lease_until, "report": report_id}
    return sorted((int(d), r) for d, r in connection.execute(statement, params))


def extend_leases(session: Session, ids: list[int], *, worker: str, lease_until: dt.datetime) -> set[int]:
    """Extend this worker's leases on `ids` (those it still holds); the ids extended."""
    extended = session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(ids),
            Delivery.lease_owner == worker,
            Delivery.status == DeliveryStatus.SENDING.value,
        )
        .values(lease_until=lease_until)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return {int(i) for i in extended.scalars()}


def release(session: Session, ids: list[int], *, worker: str) -> int:
    """Give back claimed deliveries this worker will not send after all (a stop): due again at once."""
    return rowcount(
        session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_(ids),
                Delivery.lease_owner == worker,
                Delivery.status == DeliveryStatus.SENDING.value,
            )
            .values(
                # Not an attempt: nothing was sent.
                status=case(
                    (Delivery.attempts <= 1, DeliveryStatus.PENDING.value), else_=DeliveryStatus.RETRY.value
                ),
                attempts=Delivery.attempts - 1,
                lease_owner=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )
    )


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, ready to render: its Message-ID, its live reminders and its digest."""

    delivery_id: int
    message_id: str
    reminder_ids: tuple[int, ...]
    digest: Digest
    listed_subject: str  # the subject `tracker reminders list` shows, as stored


_HEADS = (
    select(
        Delivery.id,
        Delivery.message_id,
        Delivery.subject,
        Delivery.reviewer_id,
        Reviewer.handle,
        Reviewer.name,
        Reviewer.email,
        Reviewer.timezone,
    )
    .join(Reviewer, Reviewer.id == Delivery.reviewer_id)
    .where(Delivery.id.in_(bindparam("deliveries", expanding=True)))
)
_CONTENT = (
    select(
        Reminder.delivery_id,
        Reminder.id,
        Reminder.status.label("reminder_status"),
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
    # Only the delivery in the WHERE, so that the planner uses its index rather than the
    # status index (every queued reminder); the few rows of other statuses are dropped below.
    .where(Reminder.delivery_id.in_(bindparam("deliveries", expanding=True)))
    .order_by(Reminder.id)
)


def load_outgoing_many(
    session: Session, delivery_ids: list[int], settings: Settings, now: dt.datetime
) -> dict[int, Outgoing | Exception | None]:
    """What each delivery carries now (None: none of its reminders still applies), in a few queries.

    A delivery whose digest cannot be built (bad data) maps to the exception instead, so
    that one bad delivery does not block the others.
    """
    if not delivery_ids:
        return {}
    connection = session.connection()
    heads = {h.id: h for h in connection.execute(_HEADS, {"deliveries": delivery_ids})}
    rows: dict[int, list[Any]] = defaultdict(list)
    for row in connection.execute(_CONTENT, {"deliveries": delivery_ids}):
        if row.reminder_status == ReminderStatus.QUEUED:
            rows[row.delivery_id].append(row)
    # Resolved, moved or answered since the digest was made (say, while it waited for a
    # retry): drop it. A reviewer who has since given the first verdict is not asked again.
    awaiting = any(r.status == ClaimStatus.AWAITING for found in rows.values() for r in found)
    gave_first = first_verdicts(session) if awaiting else set()
    live = {
        d: [
            r
            for r in found
            if applies_to(r.kind, r.status)
            and r.claim_kind in DEADLINE_KINDS
            and r.claim_deadline == r.deadline
            and (r.claim_id, heads[d].reviewer_id) not in gave_first
        ]
        for d, found in rows.items()
    }
    kept = {r.id for found in live.values() for r in found}
    stale = [r.id for found in rows.values() for r in found if r.id not in kept]
    if stale:
        session.execute(
            update(Reminder).where(Reminder.id.in_(stale)).values(status=ReminderStatus.CANCELLED.value)
        )
    assigned: dict[int, list[str]] = defaultdict(list)
    escalated = sorted({r.claim_id for found in live.values() for r in found if is_escalation(r.kind)})
    if escalated:
        for claim_id, handle in session.execute(
            select(claim_reviewers.c.claim_id, Reviewer.handle)
            .join(Reviewer, Reviewer.id == claim_reviewers.c.reviewer_id)
            .where(claim_reviewers.c.claim_id.in_(escalated))
            .order_by(Reviewer.handle)
        ):
            assigned[claim_id].append(handle)
    found: dict[int, Outgoing | Exception | None] = {}
    # With the web app's address configured, each claim links to its resolve form by a signed link.
    sign = link_signer(session, settings, now) if settings.reminders.resolve_url else None
    for d in delivery_ids:
        if not live.get(d):
            found[d] = None
            continue
        try:
            found[d] = _outgoing(d, heads[d], live[d], assigned, settings, now, sign)
        except Exception as exc:
            found[d] = exc
    return found


def _outgoing(
    delivery_id: int,
    head: Any,
    live: list[Any],
    assigned: dict[int, list[str]],
    settings: Settings,
    now: dt.datetime,
    sign: Callable[[str], str] | None = None,
) -> Outgoing:
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
            claim_kind=r.claim_kind,
            claim_status=r.status,
            assigned=assigned.get(r.claim_id, []),
            resolve_url=settings.reminders.resolve_url,
            now=now,
            sign=sign,
        )
        for r in live
    ]
    items.sort(key=lambda c: (c.days_left, c.key))
    digest = Digest(head.handle, head.name, head.email, head.timezone, tuple(items))
    return Outgoing(delivery_id, head.message_id, tuple(r.id for r in live), digest, head.subject)


def cancel_empty(session: Session, delivery_id: int | list[int], worker: str) -> None:
    """Cancel claimed deliveries that have nothing left to say."""
    ids = [delivery_id] if isinstance(delivery_id, int) else delivery_id
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.lease_owner == worker)
        .values(status=DeliveryStatus.CANCELLED.value, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


_SUBJECT = update(Delivery).where(Delivery.id == bindparam("delivery")).values(subject=bindparam("subject"))


def set_subjects(session: Session, subjects: dict[int, str]) -> None:
    """Keep the listed subjects in step with what is being sent (delivery id -> subject)."""
    if subjects:
        session.connection().execute(
            _SUBJECT, [{"delivery": d, "subject": subject} for d, subject in subjects.items()]
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
