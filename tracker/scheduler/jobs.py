"""The scheduler's jobs: a reminder pass, and the periodic report mailed to subscribed reviewers.

Each job is one unit of work that takes its time from an injected clock, so the tests
can travel in time; APScheduler only decides when to call them (see `runner`). A lock
makes sure two jobs of one process never run at once, whoever calls them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tracker.channels import Channel, DeliveryFailure, Message
from tracker.config import Settings
from tracker.models import Reviewer
from tracker.reminders import LEASE, PassResult, run_pass
from tracker.reminders import runs as job_runs
from tracker.reminders.engine import transaction
from tracker.reports import Report, make_report
from tracker.scheduler.cron import report_trigger
from tracker.scheduler.due import report_overdue

REPORT_JOB = "report"
# Any fixed number: the advisory lock that makes concurrent schedulers make one report per slot.
_REPORT_LOCK = 0x7472_6B72  # "trkr"

Clock = Callable[[], dt.datetime]


def report_message_id(report_id: int, handle: str) -> str:
    """The report email's Message-ID: one per report run and reviewer, the same on every try."""
    return f"<report-{report_id}.{handle}@tracker>"


@dataclass(frozen=True)
class Subscriber:
    """A reviewer who receives the report by email."""

    handle: str
    name: str
    email: str


@dataclass
class ReportOutcome:
    """What one run of the report job did."""

    report: Report | None  # None: nothing was due (another process made this slot's report)
    emailed: list[str] = field(default_factory=list)  # handles the channel accepted
    failures: list[tuple[str, str]] = field(default_factory=list)  # (handle, error)

    def counts(self) -> dict[str, Any]:
        """What the heartbeat (job_runs.counts) records."""
        return {
            "made": int(self.report is not None),
            "report_id": self.report.run_id if self.report else None,
            "emailed": len(self.emailed),
            "email_failed": len(self.failures),
            "email_failures": [{"reviewer": h, "error": e} for h, e in self.failures],
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

    def reminders(self) -> PassResult | None:
        """One reminder pass at the clock's time; None when stopping before it began."""
        with self._lock:
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

        The report is made and recorded in one transaction; the emails go out after it
        commits, one per subscribed reviewer, and their outcome is recorded in job_runs.
        A stop request does not cut the mailing short: it is not queued anywhere else.
        """
        with self._lock:
            if self.stop():
                return None
            now = self.clock()
            run_id = transaction(
                self.sessions, lambda s: job_runs.start_run(s, REPORT_JOB, worker=self.worker, now=now)
            )
            outcome = ReportOutcome(None)
            try:
                made = transaction(self.sessions, lambda s: self._make(s, now), write=False)
                if made is not None:
                    outcome = self._mail(*made)
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

    def _make(self, session: Session, now: dt.datetime) -> tuple[Report, list[Subscriber]] | None:
        _lock_reports(session)
        if report_overdue(session, report_trigger(self.settings.report.cron), now) is None:
            return None
        report = make_report(
            session, settings=self.settings, now=now, out_dir=Path(self.settings.report.out_dir)
        )
        subscribers = [
            Subscriber(handle, name, email)
            for handle, name, email in session.execute(
                select(Reviewer.handle, Reviewer.name, Reviewer.email)
                .where(Reviewer.subscribed.is_(True))
                .order_by(Reviewer.handle)
            )
        ]
        return report, subscribers

    def _mail(self, report: Report, subscribers: list[Subscriber]) -> ReportOutcome:
        outcome = ReportOutcome(report)
        if not self.settings.report.email or not subscribers:
            return outcome
        rendered = report.rendered
        with self.channel.open() as sender:
            for who in subscribers:
                message = Message(
                    message_id=report_message_id(report.run_id, who.handle),
                    to_address=who.email,
                    to_name=who.name,
                    subject=rendered.subject,
                    text=rendered.text,
                    html=rendered.html,
                    headers=(("X-Tracker-Report", str(report.run_id)),),
                )
                try:
                    sender.send(message)
                except DeliveryFailure as exc:
                    outcome.failures.append((who.handle, str(exc)))
                else:
                    outcome.emailed.append(who.handle)
        return outcome
