"""The heartbeat: one job_runs row per pass, so that `tracker status` can tell a silent stop."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import JobRun

REMINDERS_JOB = "reminders"
ERROR_LENGTH = 2000


def default_worker() -> str:
    """This process's name for leases and job runs: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(session: Session, job: str, *, worker: str, now: dt.datetime) -> int:
    """Record that `job` started (finished_at stays NULL until it ends); its run id."""
    run = JobRun(
        job=job, started_at=now, host=socket.gethostname(), pid=os.getpid(), worker=worker, counts={}
    )
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    *,
    now: dt.datetime,
    counts: Mapping[str, Any],
    error: str | None = None,
) -> None:
    """Record how run `run_id` ended: its counts, and the error when it failed."""
    run = session.get(JobRun, run_id)
    if run is None:  # deleted under us (a reset database): nothing to report to
        return
    run.finished_at = now
    run.ok = error is None
    run.error = error[:ERROR_LENGTH] if error else None
    run.counts = dict(counts)


def last_runs(session: Session, job: str = REMINDERS_JOB, limit: int = 10) -> list[JobRun]:
    """The latest runs of `job`, newest first."""
    return list(
        session.scalars(
            select(JobRun)
            .where(JobRun.job == job)
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(limit)
        )
    )
