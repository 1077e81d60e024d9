"""What every step of the reminder engine shares: short transactions retried on demand, and the result.

Each step of a pass (record, group, claim, mark) is a unit of work of its own, so a crash
loses at most the step it interrupted and other processes can work beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TypeVar

from sqlalchemy.orm import Session

from tracker.channels import Message
from tracker.clock import Clock
from tracker.config import Settings

# The engine's units of work are tracker.db's, re-exported here for the reminder modules.
from tracker.db import RETRIES as RETRIES
from tracker.db import Sessions as Sessions
from tracker.db import retryable as retryable
from tracker.db import transaction as transaction

# How long a claimed delivery is this worker's: a sender that dies leaves it to others after this.
LEASE = dt.timedelta(minutes=5)
T = TypeVar("T")


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
