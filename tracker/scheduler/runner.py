"""APScheduler wiring for `tracker scheduler`: the clock that fires the jobs, and a clean stop.

APScheduler is the clock, not the truth: every job is safe to run at any time, because it
decides from tracker's tables what is due. The options keep a wake from sleep calm:

- coalesce: a job that missed several runs (a laptop asleep for a week) runs once;
- misfire_grace_time None: however late, a missed run still happens, never silently skipped;
- max_instances 1 and one worker thread (plus the jobs' own lock): jobs never overlap.

SIGTERM and SIGINT set the stop flag that the reminder pass checks between deliveries,
then leave APScheduler's loop; the job under way finishes, and the process exits 0.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tracker.clock import utcnow
from tracker.reminders import REMINDERS_JOB, PassResult
from tracker.scheduler.cron import report_trigger
from tracker.scheduler.jobs import REPORT_JOB, Jobs, ReportOutcome

CATCH_UP_JOB = "report-catch-up"
JOB_OPTIONS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Listener(Protocol):
    """Told what the scheduler does, to show it (the CLI prints one line per event)."""

    def started(self, once: bool, catch_up: dt.datetime | None) -> None: ...
    def passed(self, result: PassResult) -> None: ...
    def reported(self, outcome: ReportOutcome) -> None: ...
    def failed(self, job: str, exc: Exception) -> None: ...
    def stopping(self, signum: int, again: bool) -> None: ...


class _Stop(BaseException):
    """Raised in the main thread by the first SIGTERM or SIGINT to leave APScheduler's loop."""


class Runner:
    """Runs the jobs once (`--once`) or on their schedule until a signal."""

    def __init__(self, jobs: Jobs, listener: Listener) -> None:
        self.jobs = jobs
        self.listener = listener
        self.stopping = threading.Event()
        jobs.stop = self.stopping.is_set

    def run_reminders(self) -> None:
        """The reminder job as APScheduler calls it: failures are shown, not raised."""
        try:
            result = self.jobs.reminders()
        except Exception as exc:  # recorded in job_runs by the pass; the next run tries again
            self.listener.failed(REMINDERS_JOB, exc)
            return
        if result is not None:
            self.listener.passed(result)

    def run_report(self) -> None:
        """The report job as APScheduler calls it: failures are shown, not raised."""
        try:
            outcome = self.jobs.report()
        except Exception as exc:  # recorded in job_runs; the next start or slot catches up
            self.listener.failed(REPORT_JOB, exc)
            return
        if outcome is not None:
            self.listener.reported(outcome)

    def once(self) -> None:
        """One reminder pass, and the report when one is overdue; errors propagate."""
        with self._signals(leave_loop=False):
            overdue = self.jobs.report_overdue()
            self.listener.started(True, overdue)
            result = self.jobs.reminders()
            if result is not None:
                self.listener.passed(result)
            if overdue is not None:
                outcome = self.jobs.report()
                if outcome is not None:
                    self.listener.reported(outcome)

    def build(self, start: dt.datetime, catch_up: dt.datetime | None) -> BlockingScheduler:
        """The APScheduler scheduler, not started: a pass now and every pass_minutes, the report on cron."""
        settings = self.jobs.settings
        scheduler = BlockingScheduler(
            timezone=dt.UTC, executors={"default": ThreadPoolExecutor(max_workers=1)}
        )
        every = IntervalTrigger(minutes=settings.reminders.pass_minutes, start_date=start, timezone=dt.UTC)
        # The options are given per job, not as job_defaults, so that they show before start.
        # The first pass runs at once: it is the catch-up pass after a stop, however long.
        scheduler.add_job(
            self.run_reminders,
            every,
            id=REMINDERS_JOB,
            name="reminder pass",
            next_run_time=start,
            **JOB_OPTIONS,
        )
        cron = report_trigger(settings.report.cron)
        scheduler.add_job(self.run_report, cron, id=REPORT_JOB, name="report", **JOB_OPTIONS)
        if catch_up is not None:
            once = DateTrigger(start, timezone=dt.UTC)
            scheduler.add_job(self.run_report, once, id=CATCH_UP_JOB, name="catch-up report", **JOB_OPTIONS)
        return scheduler

    def forever(self) -> None:
        """Run on schedule until SIGTERM or SIGINT, then let the job under way finish."""
        scheduler: BlockingScheduler | None = None
        with self._signals(leave_loop=True):
            try:
                # Decided before the first pass, which would otherwise count as the reference.
                catch_up = self.jobs.report_overdue()
                scheduler = self.build(utcnow(), catch_up)
                self.listener.started(False, catch_up)
                scheduler.start()
            except _Stop:
                pass
            finally:
                self.stopping.set()
                if scheduler is not None and scheduler.running:
                    # Waits for the job under way; queued ones see the stop flag and return at once.
                    scheduler.shutdown(wait=True)

    @contextmanager
    def _signals(self, *, leave_loop: bool) -> Iterator[None]:
        def handle(signum: int, _frame: Any) -> None:
            again = self.stopping.is_set()
            self.stopping.set()
            self.listener.stopping(signum, again)
            if leave_loop and not again:
                raise _Stop

        previous = {signum: signal.signal(signum, handle) for signum in SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
