"""What every step of the reminder engine shares: short transactions retried on demand, and the result.

Each step of a pass (record, group, claim, mark) is a unit of work of its own, so a crash
loses at most the step it interrupted and other processes can work beside it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from tracker.channels import Message

# The engine's units of work are tracker.db's, re-exported here for the reminder modules.
from tracker.db import RETRIES as RETRIES
from tracker.db import Sessions as Sessions
from tracker.db import retryable as retryable
from tracker.db import transaction as transaction


def elapsed_clock(now: dt.datetime) -> Callable[[], dt.datetime]:
    """`now`, advancing in real time: leases and timestamps must move during a long pass."""
    start = time.monotonic()
    return lambda: now + dt.timedelta(seconds=time.monotonic() - start)


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
