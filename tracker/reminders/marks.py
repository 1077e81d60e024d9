"""Marking a delivery sent: the one write per message, committed before the next message goes out.

The same two UPDATEs, two ways:

- `mark_sent(session, ...)` inside a caller's unit of work (a dry run's, tests');
- `HeldMarks`, the send loop's: one SQLAlchemy connection held for the whole loop, each mark
  still a transaction of its own, committed before it returns. Marking bounds delivery
  throughput (BENCHMARKS.md), and checking a session out and back in for every message
  cost more than the UPDATEs and the commit themselves.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, bindparam, or_, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tracker.models import Delivery, DeliveryStatus, Reminder, ReminderStatus
from tracker.reminders.store import rowcount
from tracker.reminders.units import RETRIES, retryable

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
        # Not IN (...): an IN list of literals is expanded into the SQL at every execution.
        or_(Reminder.status == ReminderStatus.QUEUED.value, Reminder.status == ReminderStatus.FAILED.value),
    )
    .values(status=ReminderStatus.SENT.value)
)


def _mark(connection: Connection, delivery_id: int, at: dt.datetime) -> bool:
    done = connection.execute(_SENT, {"delivery": delivery_id, "at": at})
    connection.execute(_REMINDERS_SENT, {"delivery": delivery_id})
    return rowcount(done) == 1


def mark_sent(session: Session, delivery_id: int, at: dt.datetime) -> bool:
    """Record that the channel accepted the delivery; False if it was already marked sent."""
    # No lock_for_write: the first statement writes, so SQLite takes its write lock at once.
    return _mark(session.connection(), delivery_id, at)


class HeldMarks:
    """Marks on one connection held for a whole send loop, each a transaction committed before it returns.

    Nothing is held between two marks but the idle connection. Connects on the first mark:
    a pass may send nothing.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def __call__(self, delivery_id: int, at: dt.datetime) -> bool:
        """Record that the channel accepted the delivery; False if it was already marked sent."""
        for attempt in range(RETRIES):
            if self._connection is None:
                self._connection = self._engine.connect()
            try:
                with self._connection.begin():
                    return _mark(self._connection, delivery_id, at)
            except OperationalError as exc:
                if attempt < RETRIES - 1 and retryable(exc):
                    continue
                self.close()
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Give the connection back to the pool."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
