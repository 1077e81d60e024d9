"""`tracker status`: the scheduler's heartbeat, what is queued and due next, and what needs a look."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import emit_json, fields
from tracker.cli.params import json_option, now_option, resolve_now

if TYPE_CHECKING:
    from tracker.health import Health, RunInfo

NEEDS_ATTENTION = 3
"""Exit code when status has warnings (the scheduler stopped, a report is owed, deliveries failed)."""


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _relative(moment: dt.datetime, now: dt.datetime) -> str:
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 60:
        return "now"
    minutes = round(abs(seconds) / 60)
    if minutes < 120:
        span = f"{minutes} min"
    elif minutes < 2 * 1440:
        span = f"{minutes // 60} h"
    else:
        span = f"{minutes // 1440} days"
    return f"in {span}" if seconds > 0 else f"{span} ago"


def _run(info: RunInfo | None, now: dt.datetime) -> str:
    if info is None:
        return "never"
    when = info.finished_at or info.started_at
    return f"{_stamp(when)} ({_relative(when, now)}, {info.worker})"


def _emails(by_status: dict[str, int]) -> str:
    """The latest report's emails: "emailed 2 of 3, 1 to retry"."""
    total = sum(by_status.values())
    rest = {"pending": "pending", "sending": "sending", "retry": "to retry", "failed": "failed"}
    parts = [f"emailed {by_status.get('sent', 0)} of {total}"]
    parts += [f"{by_status[status]} {label}" for status, label in rest.items() if by_status.get(status)]
    return ", ".join(parts)


def _text(health: Health) -> str:
    f, now = health.facts, health.now
    late = " (late)" if health.next_pass_at < now else ""
    passes = (
        f"last success {_run(f.last_good_pass, now)}; every {health.pass_minutes} min, "
        f"next due {_stamp(health.next_pass_at)}{late}"
    )
    if f.last_pass is not None and f.last_pass != f.last_good_pass:
        outcome = "running or died" if f.last_pass.ok is None else "failed"
        passes += f"; latest run {_stamp(f.last_pass.started_at)} {outcome}"
    made = _stamp(f.last_report_at) if f.last_report_at else "never"
    if f.report_emails:
        made += f" ({_emails(f.report_emails)})"
    if health.report_owed_since is not None:
        upcoming = f"owed since {_stamp(health.report_owed_since)}"
    elif health.next_report_at is not None:
        upcoming = f"next due {_stamp(health.next_report_at)}"
    else:
        upcoming = "never due"
    queue = f.deliveries
    deliveries = (
        f"{queue['pending']} pending, {queue['sending']} sending, {queue['retry']} to retry, "
        f"{queue['failed']} failed; {f.waiting} reminders waiting for a digest"
    )
    if f.unrecorded:
        deliveries += f", {f.unrecorded} due and not yet recorded"
    lines = [
        fields(
            [
                ("status at", _stamp(now)),
                ("reminder passes", passes),
                ("report", f"last made {made}; {upcoming}"),
                ("report cron", f"{health.cron} (UTC)"),
                ("deliveries", deliveries),
            ]
        )
    ]
    lines += [f"WARNING: {w}" for w in health.warnings]
    lines.append(
        "ok" if health.ok else f"{len(health.warnings)} warning{'s' if len(health.warnings) > 1 else ''}"
    )
    return "\n".join(lines)


@click.command("status")
@now_option
@json_option
@pass_app
def status(app: App, now: dt.datetime | None, as_json: bool) -> None:
    """Show the scheduler's last runs, the next due times and the delivery queue; warn when stalled.

    Exits 0 when all is well and 3 when there is a warning: the scheduler has not run a
    successful reminder pass for two intervals (or never, while reminders are due), a
    report is owed, the last run failed, or deliveries failed for good. --json prints
    the same for monitoring, with "ok", "stale" and "warnings".
    """
    # Imported here: it pulls in APScheduler, slow to import, for the cron arithmetic.

    # Imported here: it pulls in APScheduler, slow to import, for the cron arithmetic.
    from tracker.health import status as health_status

    now = resolve_now(now)
    with app.begin(dry_run=True, write=False) as session:
        health = health_status(session, app.settings, now)
    if as_json:
        emit_json(health.to_json())
    else:
        click.echo(_text(health))
    if not health.ok:
        raise click.exceptions.Exit(NEEDS_ATTENTION)
