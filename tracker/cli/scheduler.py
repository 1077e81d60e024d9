"""`tracker scheduler`: reminder passes every pass_minutes and the periodic report, until stopped."""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from tracker.app import App
from tracker.channels import make_channel
from tracker.cli.app import pass_app
from tracker.cli.errors import translate
from tracker.cli.output import info
from tracker.cli.params import DATETIME
from tracker.cli.reminders import pass_json, pass_summary
from tracker.clock import running_from, utcnow
from tracker.reminders import LEASE, PassResult, default_worker

if TYPE_CHECKING:
    from tracker.scheduler import ReportOutcome


def _stamp(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


class ConsoleListener:
    """Shows each scheduler event: a line on stderr, or with --json a JSON object per line on stdout.

    Stdout otherwise carries the console channel's messages (stderr with --json).
    """

    def __init__(self, app: App, clock: Callable[[], dt.datetime], *, as_json: bool = False) -> None:
        self.app, self.clock, self.as_json = app, clock, as_json

    def _emit(self, event: str, text: str, data: dict[str, Any], details: list[str] | None = None) -> None:
        at = self.clock()
        if self.as_json:
            line = {"event": event, "at": at.isoformat(), **data}
            click.echo(json.dumps(line, ensure_ascii=False, default=str))
            return
        info(f"{_stamp(at)} {text}")
        for detail in details or []:
            info(f"  {detail}")

    def started(self, once: bool, catch_up: dt.datetime | None) -> None:
        """Say what will run, and when."""
        from tracker.scheduler import next_slot, report_trigger

        settings = self.app.settings
        # APScheduler fires on the real clock, whatever --now says.
        upcoming = None if once else next_slot(report_trigger(settings.report.cron), utcnow())
        data = {
            "once": once,
            "worker": default_worker(),
            "pass_minutes": settings.reminders.pass_minutes,
            "report_cron": settings.report.cron,
            "next_report": upcoming.isoformat() if upcoming else None,
            "catch_up_report": catch_up.isoformat() if catch_up else None,
        }
        owed = f"; a catch-up report for {_stamp(catch_up)}" if catch_up else ""
        if once:
            text = f"tracker scheduler --once: one reminder pass{owed}"
        else:
            text = (
                f"tracker scheduler ({default_worker()}): a reminder pass now and every "
                f"{settings.reminders.pass_minutes} min; the report on '{settings.report.cron}' (UTC), "
                f"next {_stamp(upcoming)}{owed}; SIGTERM or Ctrl-C stops"
            )
        self._emit("started", text, data)

    def passed(self, result: PassResult) -> None:
        """One line per pass, and one per failed delivery."""
        stopped = " (stopped early: the rest waits for the next pass)" if result.stopped else ""
        data = pass_json(result, self.clock())
        del data["now"]
        self._emit(
            "pass",
            f"reminder pass: {pass_summary(result)}{stopped}",
            {**data, "stopped": result.stopped},
            [f"delivery {f.delivery_id} to {f.reviewer}: {f.status}: {f.error}" for f in result.failures],
        )

    def reported(self, outcome: ReportOutcome) -> None:
        """What the report job did: the report, and its emails sent or left in the outbox."""
        report = outcome.report
        data: dict[str, Any] = outcome.counts()
        if report is None:
            self._emit("report", "report: not due (already made for this slot)", data)
            return
        data.update(subject=report.rendered.subject, out_dir=str(report.out_dir))
        mailed = ""
        if outcome.queued:
            mailed = f"; emailed {outcome.emailed} of {len(outcome.queued)} subscribed reviewers"
            if outcome.waiting:
                mailed += f" ({outcome.waiting} waiting in the delivery queue)"
        failures = outcome.delivery.failures if outcome.delivery else []
        self._emit(
            "report",
            f"report: {report.rendered.subject} (in {report.out_dir}){mailed}",
            data,
            [f"report email {f.delivery_id} to {f.reviewer}: {f.status}: {f.error}" for f in failures],
        )

    def failed(self, job: str, exc: Exception) -> None:
        """A job raised: show it in one line; the job_runs row has it too."""
        url, password = self.app.url_and_password()
        error = translate(exc, url, password).message
        self._emit("error", f"{job} job failed: {error}", {"job": job, "error": error})

    def stopping(self, signum: int, again: bool) -> None:
        """A signal arrived."""
        name = signal.Signals(signum).name
        if again:
            text = f"{name}: still finishing the current job (SIGKILL stops at once)"
        else:
            text = f"{name}: finishing the current job, then exiting"
        self._emit("signal", text, {"signal": name, "again": again})


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
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per event on stdout (the console channel then writes to stderr).",
)
@pass_app
def scheduler(
    app: App, once: bool, now: dt.datetime | None, lease_seconds: int | None, as_json: bool
) -> None:
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
    with app.begin(dry_run=True, write=False):
        pass
    report_trigger(app.settings.report.cron)
    clock = running_from(now) if now is not None else utcnow
    jobs = Jobs(
        app.session_factory,
        app.settings,
        make_channel(app.settings, stream=sys.stderr if as_json else None),
        clock,
        default_worker(),
        lease=dt.timedelta(seconds=lease_seconds) if lease_seconds else LEASE,
    )
    runner = Runner(jobs, ConsoleListener(app, clock, as_json=as_json))
    if once:
        runner.once()
    else:
        runner.forever()
