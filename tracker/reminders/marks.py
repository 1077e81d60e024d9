"""Marking a delivery sent: the one write per message, committed before the next message goes out.

The same two UPDATEs, two ways:

- `mark_sent(session, ...)` inside a caller's unit of work (a dry run's, tests');
- `HeldMarks`, the send loop's: one connection held for the whole loop, and the two
  statements compiled once for its dialect and run on the driver's cursor, each mark
  still a transaction of its own, committed before it returns. Marking bounds delivery
  throughput (BENCHMARKS.md), and checking a session out and back in, then SQLAlchemy's
  work for each statement, cost more than the UPDATEs and the commit themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, or_, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from tracker.db import UTCDateTime
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
        # Not IN (...): an expanding IN cannot be compiled once for the driver.
        or_(Reminder.status == ReminderStatus.QUEUED.value, Reminder.status == ReminderStatus.FAILED.value),
    )
    .values(status=ReminderStatus.SENT.value)
)


def mark_sent(session: Session, delivery_id: int, at: dt.datetime) -> bool:
    """Record that the channel accepted the delivery; False if it was already marked sent."""
    # No lock_for_write: the first statement writes, so SQLite takes its write lock at once.
    connection = session.connection()
    done = connection.execute(_SENT, {"delivery": delivery_id, "at": at})
    connection.execute(_REMINDERS_SENT, {"delivery": delivery_id})
    return rowcount(done) == 1


class _DriverStatement:
    """A Core statement compiled once for a dialect, with its parameters laid out for the driver."""

    def __init__(self, statement: Any, dialect: Dialect, supplied: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        # The statement's own literal values (statuses, NULLs), filled in once; `supplied`
        # names the parameters each call gives.
        self._defaults = compiled.construct_params(dict.fromkeys(supplied))
        self._order = tuple(compiled.positiontup) if compiled.positiontup is not None else None

    def params(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters: a tuple in order for positional paramstyles, else a dict."""
        if self._order is not None:
            return tuple(values[name] if name in values else self._defaults[name] for name in self._order)
        return {**self._defaults, **values}


class HeldMarks:
    """Marks on one connection held for a whole send loop, each a transaction committed before it returns.

    Nothing is held between two marks but the idle connection. The connection is
    SQLAlchemy's (tracker's SQLite settings come with it), but the transaction and the two
    UPDATEs run on its driver connection: on SQLite, which tracker's engine runs without
    the driver's implicit transactions (tracker.db), BEGIN is said explicitly; psycopg
    begins by itself. Connects on the first mark: a pass may send nothing.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = engine.dialect
        self._sent = _DriverStatement(_SENT, dialect, ("delivery", "at"))
        self._reminders = _DriverStatement(_REMINDERS_SENT, dialect, ("delivery",))
        self._at: Callable[[Any], Any] = UTCDateTime().bind_processor(dialect) or (lambda value: value)
        self._begin = "BEGIN" if dialect.name == "sqlite" else None
        self._driver_error: type[Exception] = dialect.loaded_dbapi.Error
        self._connection: Connection | None = None

    def __call__(self, delivery_id: int, at: dt.datetime) -> bool:
        """Record that the channel accepted the delivery; False if it was already marked sent."""
        values = {"delivery": delivery_id, "at": self._at(at)}
        for attempt in range(RETRIES):
            if self._connection is None:
                self._connection = self._engine.connect()
            driver: Any = self._connection.connection.dbapi_connection
            cursor = driver.cursor()
            try:
                if self._begin:
                    cursor.execute(self._begin)
                cursor.execute(self._sent.sql, self._sent.params(values))
                done = cursor.rowcount
                cursor.execute(self._reminders.sql, self._reminders.params(values))
                driver.commit()
                return bool(done == 1)
            except self._driver_error as exc:
                with suppress(self._driver_error):
                    driver.rollback()
                if attempt < RETRIES - 1 and retryable(exc):
                    continue
                # SQLAlchemy never saw this error: do not give a broken connection back to the pool.
                self._connection.invalidate()
                self.close()
                raise
            finally:
                with suppress(self._driver_error):  # never hide the error that got us here
                    cursor.close()
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Give the connection back to the pool."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
