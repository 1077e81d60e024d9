"""`tracker status`: is the scheduler alive, what is queued, what is due next, what needs a look.

`gather` reads the facts from tracker's tables; `assess` is pure and turns them into a
`Health`. The failure it exists for is the silent one: a scheduler that stopped running
(PredictionBook's reminders stopped for weeks and nobody knew). So the heartbeat is the
last *successful* reminder pass, and it is stale after two missed intervals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.models import Delivery, DeliveryStatus, JobRun, ReportRun
from tracker.reminders import REMINDERS_JOB, store
from tracker.reminders.deliveries import held_count
from tracker.reminders.runs import last_runs
from tracker.scheduler.cron import next_slot, report_trigger
from tracker.scheduler.due import first_pass_at, last_report_at, missed_slot
from tracker.scheduler.jobs import REPORT_JOB

STALE_AFTER = 2  # missed pass intervals before the scheduler counts as stopped
QUEUE = (
    DeliveryStatus.PENDING.value,
    DeliveryStatus.SENDING.value,
    DeliveryStatus.RETRY.value,
    DeliveryStatus.FAILED.value,
)


@dataclass(frozen=True)
class RunInfo:
    """One job run as status shows it."""

    started_at: dt.datetime
    finished_at: dt.datetime | None
    ok: bool | None  # None: not finished (running, or its process died)
    error: str | None
    worker: str
    counts: dict[str, Any]

    @classmethod
    def of(cls, run: JobRun | None) -> RunInfo | None:
        """The RunInfo of a job_runs row, or None."""
        if run is None:
            return None
        return cls(run.started_at, run.finished_at, run.ok, run.error, run.worker, dict(run.counts or {}))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "ok": self.ok,
            "error": self.error,
            "worker": self.worker,
            "counts": self.counts,
        }


@dataclass(frozen=True)
class Facts:
    """What status is computed from, read from the tables at `now`."""

    now: dt.datetime
    last_pass: RunInfo | None  # the latest reminder pass, whatever its outcome
    last_good_pass: RunInfo | None  # the latest one that succeeded
    first_pass_at: dt.datetime | None
    last_report_job: RunInfo | None
    last_report_at: dt.datetime | None  # the latest report made, by the scheduler or `tracker report`
    deliveries: dict[str, int]  # pending, sending, retry, failed
    waiting: int  # reminders due and not yet in a digest
    unrecorded: int  # reminders due that no pass has recorded (counted only before the first good pass)
    # The latest report's emails by delivery status (sent, pending, retry, failed ...).
    report_emails: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    """The scheduler's health at `now`; `ok` when there is nothing to warn about."""

    now: dt.datetime
    facts: Facts
    pass_minutes: int
    next_pass_at: dt.datetime  # in the past when a pass is late
    cron: str
    report_owed_since: dt.datetime | None  # a report slot that passed with no report since
    next_report_at: dt.datetime | None
    stale: bool  # the scheduler has not run when it should have
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Nothing to warn about."""
        return not self.warnings

    def to_json(self) -> dict[str, Any]:
        """The same, for monitoring."""
        f = self.facts

        def run(info: RunInfo | None) -> dict[str, Any] | None:
            return info.to_json() if info else None

        return {
            "now": self.now.isoformat(),
            "ok": self.ok,
            "stale": self.stale,
            "warnings": list(self.warnings),
            "reminders": {
                "pass_minutes": self.pass_minutes,
                "last_success": run(f.last_good_pass),
                "last_run": run(f.last_pass),
                "next_due": self.next_pass_at.isoformat(),
                "waiting": f.waiting,
                "unrecorded": f.unrecorded,
            },
            "report": {
                "cron": self.cron,
                "last_made_at": f.last_report_at.isoformat() if f.last_report_at else None,
                "last_run": run(f.last_report_job),
                "owed_since": self.report_owed_since.isoformat() if self.report_owed_since else None,
                "next_due": self.next_report_at.isoformat() if self.next_report_at else None,
                "emails": dict(f.report_emails),
            },
            "deliveries": dict(f.deliveries),
        }


def _last_good(session: Session, job: str) -> JobRun | None:
    return session.scalars(
        select(JobRun)
        .where(JobRun.job == job, JobRun.ok.is_(True))
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(1)
    ).first()


def _report_emails(session: Session) -> dict[str, int]:
    latest = (
        select(ReportRun.id).order_by(ReportRun.ran_at.desc(), ReportRun.id.desc()).limit(1).scalar_subquery()
    )
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.report_run_id == latest)
        .group_by(Delivery.status)
    )
    return {status: int(count) for status, count in rows}


def gather(session: Session, settings: Settings, now: dt.datetime) -> Facts:
    """Read what status needs from the tables."""
    latest = last_runs(session, REMINDERS_JOB, 1)
    good = _last_good(session, REMINDERS_JOB)
    report_runs = last_runs(session, REPORT_JOB, 1)
    counts = dict.fromkeys(QUEUE, 0)
    for status, count in session.execute(
        select(Delivery.status, func.count()).where(Delivery.status.in_(QUEUE)).group_by(Delivery.status)
    ):
        counts[status] = int(count)
    unrecorded = 0
    if good is None:
        # Before the first pass nothing is recorded, so ask the policy what is due.
        unrecorded = len(store.scan_due(session, settings, now))
    return Facts(
        now=now,
        last_pass=RunInfo.of(latest[0] if latest else None),
        last_good_pass=RunInfo.of(good),
        first_pass_at=first_pass_at(session),
        last_report_job=RunInfo.of(report_runs[0] if report_runs else None),
        last_report_at=last_report_at(session),
        deliveries=counts,
        waiting=held_count(session, now),
        unrecorded=unrecorded,
        report_emails=_report_emails(session),
    )


def _minutes(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _pass_warnings(f: Facts, every: dt.timedelta) -> tuple[bool, list[str]]:
    warnings: list[str] = []
    stale = False
    hint = "is `tracker scheduler` running?"
    good, latest = f.last_good_pass, f.last_pass
    if good is not None:
        seen = good.finished_at or good.started_at
        if f.now - seen > STALE_AFTER * every:
            stale = True
            warnings.append(
                f"no successful reminder pass for {_minutes(f.now - seen)} (since {_stamp(seen)}; "
                f"one is due every {_minutes(every)}): {hint}"
            )
    elif latest is not None:
        stale = True
        warnings.append(f"no reminder pass has ever succeeded: {hint}")
    else:
        due = f.unrecorded + f.waiting + sum(f.deliveries.values())
        if due:
            stale = True
            are = "reminder is" if due == 1 else "reminders are"
            warnings.append(f"no reminder pass has ever run, and {due} {are} due: {hint}")
    if latest is not None and latest.ok is False:
        warnings.append(f"the last reminder pass, at {_stamp(latest.started_at)}, failed: {latest.error}")
    elif latest is not None and latest.ok is None and f.now - latest.started_at > STALE_AFTER * every:
        warnings.append(
            f"the reminder pass started at {_stamp(latest.started_at)} by {latest.worker} never finished "
            "(its process may have died)"
        )
    return stale, warnings


def _report_warnings(f: Facts, owed: dt.datetime | None, grace: dt.timedelta) -> tuple[bool, list[str]]:
    warnings: list[str] = []
    job = f.last_report_job
    # A report job under way covers the slot for a while; one that never finished does not.
    running = (
        job is not None
        and job.ok is None
        and owed is not None
        and job.started_at >= owed
        and f.now - job.started_at <= grace
    )
    stale = owed is not None and f.now - owed > grace and not running
    if stale and owed is not None:
        since = f"since {_stamp(f.last_report_at)}" if f.last_report_at else "yet"
        warnings.append(
            f"the report due at {_stamp(owed)} was not made (no report {since}): "
            "is `tracker scheduler` running? (`tracker report` makes one by hand)"
        )
    if job is not None and job.ok is False:
        warnings.append(f"the last report job, at {_stamp(job.started_at)}, failed: {job.error}")
    elif job is not None and job.ok is None and f.now - job.started_at > grace:
        # A report it made is on record with its emails queued: the passes send them.
        warnings.append(
            f"the report job started at {_stamp(job.started_at)} by {job.worker} never finished "
            "(its process may have died)"
        )
    # Report emails that fail for good are failed deliveries, warned about with the others.
    return stale, warnings


def assess(facts: Facts, settings: Settings) -> Health:
    """Status from the facts: the next due times, staleness and warnings."""
    every = dt.timedelta(minutes=settings.reminders.pass_minutes)
    last = facts.last_pass
    next_pass = last.started_at + every if last else facts.now
    trigger = report_trigger(settings.report.cron)
    owed = missed_slot(trigger, facts.last_report_at, facts.first_pass_at, facts.now)
    pass_stale, warnings = _pass_warnings(facts, every)
    report_stale, report_warnings = _report_warnings(facts, owed, STALE_AFTER * every)
    failed = facts.deliveries.get(DeliveryStatus.FAILED.value, 0)
    if failed:
        warnings.append(
            f"{failed} {'delivery' if failed == 1 else 'deliveries'} failed for good: "
            "see `tracker reminders list --failed`; `tracker reminders resend` queues them again"
        )
    return Health(
        now=facts.now,
        facts=facts,
        pass_minutes=settings.reminders.pass_minutes,
        next_pass_at=next_pass,
        cron=settings.report.cron,
        report_owed_since=owed,
        next_report_at=owed or next_slot(trigger, facts.now),
        stale=pass_stale or report_stale,
        warnings=tuple(warnings + report_warnings),
    )


def status(session: Session, settings: Settings, now: dt.datetime) -> Health:
    """Gather and assess in one call."""
    return assess(gather(session, settings, now), settings)
