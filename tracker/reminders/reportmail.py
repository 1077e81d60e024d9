"""The periodic report's emails, as deliveries in the same outbox as the reminder digests.

The report job queues one delivery per subscribed reviewer in the transaction that
records the report run, so a report is never made without its emails, nor mailed twice:
each has the Message-ID `<report-<run id>.<handle>@tracker>`, unique in the table. From
there the outbox treats them like digests (leases, retries with backoff, `tracker
reminders list --failed` and `resend`); the body is the digest the run stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from tracker.channels import Message
from tracker.models import Delivery, DeliveryStatus, ReportRun, Reviewer

REPORT_HEADER = "X-Tracker-Report"
SUBJECT_LENGTH = 500  # deliveries.subject


def report_message_id(report_id: int, handle: str) -> str:
    """The report email's Message-ID: one per report run and reviewer, the same on every try."""
    return f"<report-{report_id}.{handle}@tracker>"


def queue_report(
    session: Session, report_id: int, *, subject: str, channel: str, now: dt.datetime
) -> list[str]:
    """Queue report `report_id`'s email to every subscribed reviewer, due at `now`; their handles.

    Runs in the caller's transaction, the one that records the report, and never commits.
    A second queueing of the same report fails on the unique Message-ID rather than
    doubling the emails.
    """
    subscribers = session.execute(
        select(Reviewer.id, Reviewer.handle).where(Reviewer.subscribed.is_(True)).order_by(Reviewer.handle)
    ).all()
    if not subscribers:
        return []
    session.execute(
        insert(Delivery),
        [
            {
                "reviewer_id": reviewer_id,
                "report_run_id": report_id,
                "channel": channel,
                "message_id": report_message_id(report_id, handle),
                "subject": subject[:SUBJECT_LENGTH],
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for reviewer_id, handle in subscribers
        ],
    )
    return [handle for _, handle in subscribers]


_REPORT_MAIL = (
    select(
        Delivery.id,
        Delivery.message_id,
        Delivery.subject,
        Delivery.report_run_id,
        Reviewer.handle,
        Reviewer.name,
        Reviewer.email,
        ReportRun.digest_text,
        ReportRun.digest_html,
    )
    .join(Reviewer, Reviewer.id == Delivery.reviewer_id)
    .join(ReportRun, ReportRun.id == Delivery.report_run_id)
    .where(Delivery.id.in_(bindparam("deliveries", expanding=True)))
)


def load_report_mail(session: Session, delivery_ids: list[int]) -> dict[int, tuple[str, Message | Exception]]:
    """The report emails among `delivery_ids`: delivery id -> (reviewer handle, message).

    A report whose digest was not kept maps to the exception instead, so that the outbox
    fails that one delivery for good and sends the others.
    """
    if not delivery_ids:
        return {}
    found: dict[int, tuple[str, Message | Exception]] = {}
    for row in session.connection().execute(_REPORT_MAIL, {"deliveries": delivery_ids}):
        found[row.id] = (row.handle, _message(row))
    return found


def _message(row: Any) -> Message | Exception:
    if row.digest_text is None:
        return ValueError(f"report {row.report_run_id} kept no digest to send")
    return Message(
        message_id=row.message_id,
        to_address=row.email,
        to_name=row.name,
        subject=row.subject,
        text=row.digest_text,
        html=row.digest_html,
        headers=((REPORT_HEADER, str(row.report_run_id)),),
    )
