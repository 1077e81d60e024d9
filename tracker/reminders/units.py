"""What every step of the reminder engine shares: short transactions retried on demand, and the result.

Each step of a pass (record, group, claim, mark) is a unit of work of its own, so a crash
loses at most the step it interrupted and other processes can work beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from tracker.channels import Message
from tracker.clock import Clock
from tracker.config import Settings
from tracker.reminders import store

RETRIES = 3
# How long a claimed delivery is this worker's: a sender that dies leaves it to others after this.
LEASE = dt.timedelta(minutes=5)
T = TypeVar("T")


class Sessions(Protocol):
    """What the engine needs of a session factory: `with sessions.begin() as session:`."""

    def begin(self) -> AbstractContextManager[Session]: ...


def retryable(exc: Exception) -> bool:
    """Whether the database asked for the transaction to be tried again (SQLAlchemy's error or the driver's)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    # Deadlock or serialisation failure (PostgreSQL), or a lock that outlived busy_timeout (SQLite).
    return code in ("40P01", "40001") or "database is locked" in str(orig)


def transaction(sessions: Sessions, work: Callable[[Session], T], *, write: bool = True) -> T:
    """Run `work` in a transaction of its own, again when the database asks for a retry."""
    for attempt in range(RETRIES):
        try:
            with sessions.begin() as session:
                if write:
                    store.lock_for_write(session)
                return work(session)
        except OperationalError as exc:
            if attempt == RETRIES - 1 or not retryable(exc):
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class FailureNote:
    """A delivery attempt that failed in this pass."""

    delivery_id: int
    reviewer: str
    status: str  # retry or failed
    error: str


@dataclass
class PassResult:
    """What one pass did (or, on a dry run, would do)."""

    recorded: int = 0
    cancelled: int = 0
    skipped: int = 0
    deliveries_created: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0
    dry_run: bool = False
    stopped: bool = False  # ended early because `stop` said so
    channel_down: bool = False  # stopped sending after a few temporary failures in a row
    failures: list[FailureNote] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)  # dry run: what would be sent

    def counts(self) -> dict[str, int]:
        """The counters alone, as the heartbeat records them."""
        return {k: v for k, v in asdict(self).items() if isinstance(v, int) and not isinstance(v, bool)}


def never() -> bool:
    """A stop flag that is never raised."""
    return False


@dataclass(frozen=True)
class PassContext:
    """What every step of a pass, and of the send loop above all, shares.

    Built once per pass (or per drain of the report job) by `run_pass` or `deliver`.
    """

    sessions: Sessions
    settings: Settings
    now: dt.datetime  # the pass's time: what is due is decided at it
    clock: Clock  # leases and sent times follow it (`now`, then running in real time)
    worker: str  # the lease owner this process writes
    result: PassResult  # counted into as the pass goes
    lease: dt.timedelta = LEASE
    stop: Callable[[], bool] = never  # asked between reviewers and between deliveries (SIGTERM)
    report_id: int | None = None  # send only this report run's emails (the report job's drain)
    channel: str = ""  # the channel's name, recorded on the digests it groups

    def transaction(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """`work` in a unit of work of its own, retried when the database asks."""
        return transaction(self.sessions, work, write=write)
