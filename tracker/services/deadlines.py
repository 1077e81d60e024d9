"""When a deadline has passed: deadlines are dates, read in the claim's stated timezone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tracker.models import DEADLINE_KINDS, Claim, ClaimStatus


def deadline_passed(deadline: dt.date, timezone: str, now: dt.datetime) -> bool:
    """Whether the whole of `deadline` is over in `timezone` at `now`."""
    return now.astimezone(ZoneInfo(timezone)).date() > deadline


def is_overdue(claim: Claim, now: dt.datetime, default_timezone: str = "UTC") -> bool:
    """An open prediction or promise whose deadline has passed where it is read."""
    return (
        claim.kind in DEADLINE_KINDS
        and claim.status == ClaimStatus.OPEN
        and claim.deadline is not None
        and deadline_passed(claim.deadline, claim.timezone or default_timezone, now)
    )


def local_today(timezone: str, now: dt.datetime) -> dt.date:
    """The calendar date in `timezone` at `now`."""
    return now.astimezone(ZoneInfo(timezone)).date()
