"""Shared helpers for the scheduler tests: an injectable clock, settings, and the crash harness.

The harness (seeding, a recording aiosmtpd server, tracker processes) is tests/support/crash.py,
which bench/crash.py runs too.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from support import crash as harness
from tracker.config import Settings, load_settings
from tracker.db import make_engine, make_session_factory
from tracker.reminders import PassResult
from tracker.scheduler import Jobs, ReportOutcome


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def at(text: str) -> dt.datetime:
    """An aware UTC datetime from "2027-01-25 08:30"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def scheduler_settings(db_url: str, tmp_path: Path, **groups: dict[str, Any]) -> Settings:
    """Settings for the test database, the report written under tmp_path, groups overridden."""
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    report = {"out_dir": str(tmp_path / "site"), **groups.pop("report", {})}
    return load_settings(config_file=config, env={}, database_url=db_url, report=report, **groups)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "the condition") -> None:
    """Poll `condition` until it holds (a process making progress); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.01)


def run_tracker(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `tracker ARGS...` in a real process and wait for it."""
    return subprocess.run(
        [*harness.tracker_argv(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Events:
    """A Listener that keeps what it is told."""

    def __init__(self) -> None:
        self.passes: list[PassResult] = []
        self.reports: list[ReportOutcome] = []
        self.failures: list[tuple[str, Exception]] = []
        self.catch_ups: list[dt.datetime | None] = []

    def started(self, once: bool, catch_up: dt.datetime | None) -> None:
        self.catch_ups.append(catch_up)

    def passed(self, result: PassResult) -> None:
        self.passes.append(result)

    def reported(self, outcome: ReportOutcome) -> None:
        self.reports.append(outcome)

    def failed(self, job: str, exc: Exception) -> None:
        self.failures.append((job, exc))

    def stopping(self, signum: int, again: bool) -> None:
        """Not exercised in-process: see test_scheduler_cli."""


def race_reports(
    db_url: str, make: Callable[[sessionmaker[Session], str], Jobs]
) -> list[ReportOutcome | None]:
    """Two schedulers, each on its own engine, run the report job at the same moment.

    `make(sessions, worker)` builds each one's Jobs. Returns both outcomes; any exception
    either raised fails the test.
    """
    engines = [make_engine(db_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[ReportOutcome | None] = [None, None]
    errors: list[BaseException] = []

    def fire(i: int) -> None:
        jobs = make(make_session_factory(engines[i]), f"w{i}")
        try:
            barrier.wait()
            outcomes[i] = jobs.report()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    return outcomes
