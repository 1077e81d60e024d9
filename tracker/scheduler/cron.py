"""The report's schedule: a crontab expression in UTC, and its slots before and after a moment."""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.cron import CronTrigger

from tracker.errors import TrackerError

# Windows searched backwards for the latest slot, shortest first, so that the walk forwards
# from the first slot found stays short whatever the expression (every minute ... Feb 29).
_DAY = 24 * 60
_WINDOWS = tuple(
    dt.timedelta(minutes=m)
    for m in (1, 60, _DAY, 8 * _DAY, 32 * _DAY, 367 * _DAY, 4 * 366 * _DAY, 29 * 366 * _DAY)
)
_TICK = dt.timedelta(seconds=1)


def report_trigger(expression: str) -> CronTrigger:
    """The trigger for a five-field crontab expression, read in UTC; TrackerError when it is not one."""
    try:
        return CronTrigger.from_crontab(expression, timezone=dt.UTC)
    except ValueError as exc:
        raise TrackerError(
            f"TRACKER_REPORT_CRON: {expression!r} is not a crontab expression (e.g. '0 8 * * mon'): {exc}"
        ) from exc


def next_slot(trigger: CronTrigger, after: dt.datetime) -> dt.datetime | None:
    """The first time strictly after `after` that the trigger fires."""
    found: dt.datetime | None = trigger.get_next_fire_time(None, after + _TICK)
    return found


def previous_slot(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The latest time at or before `now` that the trigger fires (None if not within 29 years)."""
    for window in _WINDOWS:
        slot: dt.datetime | None = trigger.get_next_fire_time(None, now - window)
        if slot is None or slot > now:
            continue
        while (later := next_slot(trigger, slot)) is not None and later <= now:
            slot = later
        return slot
    return None
