"""`tracker scheduler`: APScheduler fires the reminder passes and the periodic report.

APScheduler is the clock; the truth is in tracker's tables (reminders, deliveries,
report_runs, job_runs), so any number of scheduler processes, restarts, crashes or a
laptop waking after a week make one catch-up pass and one report, never a storm.
"""

from __future__ import annotations

from tracker.reminders.reportmail import report_message_id
from tracker.scheduler.cron import next_slot, previous_slot, report_trigger
from tracker.scheduler.due import first_pass_at, last_report_at, missed_slot, report_overdue
from tracker.scheduler.jobs import REPORT_JOB, Jobs, ReportOutcome
from tracker.scheduler.runner import CATCH_UP_JOB, JOB_OPTIONS, Listener, Runner

__all__ = [
    "CATCH_UP_JOB",
    "JOB_OPTIONS",
    "REPORT_JOB",
    "Jobs",
    "Listener",
    "ReportOutcome",
    "Runner",
    "first_pass_at",
    "last_report_at",
    "missed_slot",
    "next_slot",
    "previous_slot",
    "report_message_id",
    "report_overdue",
    "report_trigger",
]
