"""When the report is due, decided from tracker's tables: APScheduler is only the clock.

A report is overdue when one of its cron slots passed since the last report was made
(by the scheduler or by `tracker report`). Before the first report, the reference is the
first reminder pass on record: a scheduler that has never run has missed nothing.
"""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import JobRun, ReportRun
from tracker.reminders import REMINDERS_JOB
from tracker.scheduler.cron import previous_slot


def last_report_at(session: Session) -> dt.datetime | None:
    """When the latest report was made, or None before the first."""
    return session.scalar(select(func.max(ReportRun.ran_at)))


def first_pass_at(session: Session) -> dt.datetime | None:
    """When the first reminder pass on record started, or None."""
    return session.scalar(select(func.min(JobRun.started_at)).where(JobRun.job == REMINDERS_JOB))


def missed_slot(
    trigger: CronTrigger, last_report: dt.datetime | None, first_pass: dt.datetime | None, now: dt.datetime
) -> dt.datetime | None:
    """The latest slot at or before `now` that no report covers, or None when nothing is owed."""
    reference = last_report or first_pass
    if reference is None:
        return None
    slot = previous_slot(trigger, now)
    return slot if slot is not None and slot > reference else None


def report_overdue(session: Session, trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The slot a catch-up report is owed for at `now`, or None."""
    return missed_slot(trigger, last_report_at(session), first_pass_at(session), now)
