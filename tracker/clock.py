"""The one clock: the real time in UTC, and the running clock a pass started at `now` keeps.

Everything that needs the current time takes it as an input (`now`, or a `Clock` to call);
these are the only places tracker reads the system's time.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

Clock = Callable[[], dt.datetime]
"""A source of the current time, timezone-aware UTC."""


def utcnow() -> dt.datetime:
    """The real current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def running_from(start: dt.datetime) -> Clock:
    """A clock that reads `start` now and then runs at real speed (a pass's leases, `--now`)."""
    origin = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - origin)
