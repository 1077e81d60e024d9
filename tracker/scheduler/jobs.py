"""The scheduler's jobs: a reminder pass, and the periodic report emailed to subscribed reviewers.

Each job is one unit of work that takes its time from an injected clock, so the tests
can travel in time; APScheduler only decides when to call them (see `runner`). A lock
makes sure two jobs of one process never run at once, whoever calls them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tracker.audit import SCHEDULER, Actor, Interface, acting
from tracker.channels import Channel
from tracker.clock import Clock
from tracker.config import Settings
from tracker.reminders import LEASE, PassResult, run_pass
from tracker.reminders import runs as job_runs
from tracker.reminders.engine import deliver, transaction
from tracker.reminders.reportmail import queue_report
from tracker.reports import Report, make_report
from tracker.scheduler.cron import report_trigger
from tracker.scheduler.due import report_overdue

REPORT_JOB = "report"
# Any fixed number: the advisory lock that makes concurrent schedulers make one report per slot.
_REPORT_LOCK = 0x7472_6B72  # "trkr"


@dataclass
class ReportOutcome:
    """What one run of the report job did."""

    report: Report | None  # None: nothing was due (another process made this slot's report)
    queued: list[str] = field(default_factory=list)  # handles whose email was queued with the report
    delivery: PassResult | None = None  # the drain right after: what went out at once

    @property
    def emailed(self) -> int:
        """Report emails the channel accepted during the job (the rest wait in the outbox)."""
        return self.delivery.sent if self.delivery else 0

    @property
    def waiting(self) -> int:
        """Report emails queued and not sent by the job: retries, or left for the next pass."""
        return len(self.queued) - self.emailed

    def counts(self) -> dict[str, Any]:
        """What the heartbeat (job_runs.counts) records."""
        failures = self.delivery.failures if self.delivery else []
        return {
            "made": int(self.report is not None),
            "report_id": self.report.run_id if self.report else None,
            "queued": len(self.queued),
            "emailed": self.emailed,
            "email_retry": self.delivery.retried if self.delivery else 0,
            "email_failed": self.delivery.failed if self.delivery else 0,
            "email_failures": [
                {"delivery": f.delivery_id, "reviewer": f.reviewer, "status": f.status, "error": f.error}
                for f in failures
            ],
        }


def _never() -> bool:
    return False


def _lock_reports(session: Session) -> None:
    # PostgreSQL: schedulers that fire together queue here, and the second finds the slot
    # covered. SQLite needs nothing: a writer whose snapshot is stale cannot commit, and the
    # retry re-reads the table.
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REPORT_LOCK})


@dataclass
class Jobs:
    """Everything the jobs need, built once by the CLI and passed in: no globals."""

    sessions: sessionmaker[Session]
    settings: Settings
    channel: Channel
    clock: Clock
    worker: str
    lease: dt.timedelta = LEASE
    stop: Callable[[], bool] = _never
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _acting(self) -> AbstractContextManager[Actor]:
        # Whatever a job writes is the scheduler's, stamped by its clock (it runs in its own thread).
        return acting(Actor(Interface.SCHEDULER, SCHEDULER, clock=self.clock))

    def reminders(self) -> PassResult | None:
        """One reminder pass at the clock's time; None when stopping before it began."""
        with self._lock, self._acting():
            if self.stop():
                return None
            return run_pass(
                self.sessions,
                settings=self.settings,
                now=self.clock(),
                channel=self.channel,
                worker_id=self.worker,
                clock=self.clock,
                lease=self.lease,
                stop=self.stop,
            )

    def report_overdue(self) -> dt.datetime | None:
        """The cron slot a catch-up report is owed for now, or None."""
        trigger = report_trigger(self.settings.report.cron)
        now = self.clock()
        return transaction(self.sessions, lambda s: report_overdue(s, trigger, now), write=False)

    def report(self) -> ReportOutcome | None:
        """Make the report if a slot passed since the last one, and mail it; None when stopping.

        The report is made, recorded and its emails queued in one transaction, so a crash
        either leaves no report (the next start makes it) or a report whose emails wait in
        the outbox. The job then sends them at once; what it cannot send (a stop, a
        temporary failure) the reminder passes send, with retries, like any digest.
        """
        with self._lock, self._acting():
            if self.stop():
                return None
            now = self.clock()
            run_id = transaction(
                self.sessions, lambda s: job_runs.start_run(s, REPORT_JOB, worker=self.worker, now=now)
            )
            outcome = ReportOutcome(None)
            try:
                outcome = transaction(self.sessions, lambda s: self.make(s, now), write=False)
                if outcome.queued and outcome.report is not None:
                    outcome.delivery = deliver(
                        self.sessions,
                        settings=self.settings,
                        now=now,
                        channel=self.channel,
                        worker_id=self.worker,
                        clock=self.clock,
                        lease=self.lease,
                        stop=self.stop,
                        report_id=outcome.report.run_id,
                    )
            except BaseException as exc:
                error = f"{type(exc).__name__}: {exc}"
                transaction(
                    self.sessions,
                    lambda s: job_runs.finish_run(
                        s, run_id, now=self.clock(), counts=outcome.counts(), error=error
                    ),
                )
                raise
            transaction(
                self.sessions,
                lambda s: job_runs.finish_run(s, run_id, now=self.clock(), counts=outcome.counts()),
            )
            return outcome

    def make(self, session: Session, now: dt.datetime) -> ReportOutcome:
        """Make the report owed at `now` and queue its emails, in the caller's transaction.

        Sends nothing: what this queues goes out from the outbox. Without a report owed
        (another scheduler made this slot's) it does nothing.
        """
        _lock_reports(session)
        if report_overdue(session, report_trigger(self.settings.report.cron), now) is None:
            return ReportOutcome(None)
        report = make_report(
            session, settings=self.settings, now=now, out_dir=Path(self.settings.report.out_dir)
        )
        queued: list[str] = []
        if self.settings.report.email:
            queued = queue_report(
                session, report.run_id, subject=report.rendered.subject, channel=self.channel.name, now=now
            )
        return ReportOutcome(report, queued)
