"""`tracker scheduler`: reminder passes every pass_minutes and the periodic report, until stopped."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from tracker.channels import make_channel
from tracker.cli.app import App, pass_app
from tracker.cli.errors import translate
from tracker.cli.output import info
from tracker.cli.params import DATETIME
from tracker.cli.reminders import pass_summary
from tracker.reminders import LEASE, PassResult, default_worker

if TYPE_CHECKING:
    from tracker.scheduler import ReportOutcome


def shifted_clock(start: dt.datetime) -> Callable[[], dt.datetime]:
    """A clock that reads `start` now and then runs at real speed (for --now)."""
    origin = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - origin)


def system_clock() -> dt.datetime:
    """The real time, in UTC."""
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


class ConsoleListener:
    """Prints one line per scheduler event on stderr (stdout carries the console channel's messages)."""

    def __init__(self, app: App, clock: Callable[[], dt.datetime]) -> None:
        self.app, self.clock = app, clock

    def _say(self, text: str) -> None:
        info(f"{_stamp(self.clock())} {text}")

    def started(self, once: bool, catch_up: dt.datetime | None) -> None:
        """Say what will run, and when."""
        settings = self.app.settings
        owed = f"; a catch-up report for {_stamp(catch_up)}" if catch_up else ""
        if once:
            self._say(f"tracker scheduler --once: one reminder pass{owed}")
            return
        from tracker.scheduler import next_slot, report_trigger

        # APScheduler fires on the real clock, whatever --now says.
        upcoming = next_slot(report_trigger(settings.report.cron), system_clock())
        self._say(
            f"tracker scheduler ({default_worker()}): a reminder pass now and every "
            f"{settings.reminders.pass_minutes} min; the report on '{settings.report.cron}' (UTC), "
            f"next {_stamp(upcoming)}{owed}; SIGTERM or Ctrl-C stops"
        )

    def passed(self, result: PassResult) -> None:
        """One line per pass, and one per failed delivery."""
        stopped = " (stopped early: the rest waits for the next pass)" if result.stopped else ""
        self._say(f"reminder pass: {pass_summary(result)}{stopped}")
        for failure in result.failures:
            info(f"  delivery {failure.delivery_id} to {failure.reviewer}: {failure.status}: {failure.error}")

    def reported(self, outcome: ReportOutcome) -> None:
        """What the report job did."""
        report = outcome.report
        if report is None:
            self._say("report: not due (already made for this slot)")
            return
        mailed = f"; emailed to {len(outcome.emailed)} subscribed reviewers" if outcome.emailed else ""
        self._say(f"report: {report.rendered.subject} (in {report.out_dir}){mailed}")
        for handle, error in outcome.failures:
            info(f"  report email to {handle} failed: {error}")

    def failed(self, job: str, exc: Exception) -> None:
        """A job raised: show it in one line; the job_runs row has it too."""
        url, password = self.app.url_and_password()
        self._say(f"{job} job failed: {translate(exc, url, password).message}")

    def stopping(self, signum: int, again: bool) -> None:
        """A signal arrived."""
        name = signal.Signals(signum).name
        if again:
            self._say(f"{name}: still finishing the current job (SIGKILL stops at once)")
        else:
            self._say(f"{name}: finishing the current job, then exiting")


@click.command("scheduler")
@click.option(
    "--once",
    is_flag=True,
    help="Run what is due at start (a reminder pass, and the report when one is owed), then exit.",
)
@click.option(
    "--now",
    type=DATETIME,
    default=None,
    help="Start the clock at this time (ISO 8601), then let it run at real speed (tests, replays).",
)
# For the crash tests: a lease short enough to be seen running out.
@click.option("--lease-seconds", type=click.IntRange(min=1), default=None, hidden=True)
@pass_app
def scheduler(app: App, once: bool, now: dt.datetime | None, lease_seconds: int | None) -> None:
    """Run the reminder passes and the periodic report on their schedule, until SIGTERM or Ctrl-C.

    A pass runs at start and every reminders.pass_minutes; the report runs on
    report.cron (UTC), and once at start when a scheduled report was missed. What is due
    is decided from the database, so a restart, a crash or a week asleep makes one
    catch-up pass and one report. SIGTERM or SIGINT lets the current job finish (a pass
    stops between deliveries), then exits 0.
    """
    # Imported here: APScheduler takes longer to import than most commands take to run.
    from tracker.scheduler import Jobs, Runner, report_trigger

    # Fail on a missing or outdated database, a bad cron or an unconfigured channel before starting.
    with app.begin(dry_run=True):
        pass
    report_trigger(app.settings.report.cron)
    clock = shifted_clock(now) if now is not None else system_clock
    jobs = Jobs(
        app.session_factory,
        app.settings,
        make_channel(app.settings),
        clock,
        default_worker(),
        lease=dt.timedelta(seconds=lease_seconds) if lease_seconds else LEASE,
    )
    runner = Runner(jobs, ConsoleListener(app, clock))
    if once:
        runner.once()
    else:
        runner.forever()
