"""`tracker remind` (one reminder pass) and `tracker reminders list|resend` (the delivery queue)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from tracker.app import App
from tracker.channels import make_channel
from tracker.cli.app import pass_app
from tracker.cli.output import Column, emit_json, info, table
from tracker.cli.params import json_option, now_option, resolve_now
from tracker.reminders import PassResult, default_worker, run_pass
from tracker.reminders.deliveries import LISTED, DeliveryRow, held_count, list_deliveries, resend


def _ready(app: App) -> None:
    # Fail on a missing or outdated database before any channel is touched.
    with app.begin(dry_run=True, write=False):
        pass


def pass_json(result: PassResult, now: dt.datetime) -> dict[str, Any]:
    """A pass's outcome as JSON."""
    data: dict[str, Any] = {
        "now": now,
        "dry_run": result.dry_run,
        **result.counts(),
        "channel_down": result.channel_down,
    }
    data["failures"] = [
        {"delivery": f.delivery_id, "reviewer": f.reviewer, "status": f.status, "error": f.error}
        for f in result.failures
    ]
    if result.dry_run:
        data["messages"] = [
            {"message_id": m.message_id, "to": m.to_address, "subject": m.subject, "text": m.text}
            for m in result.messages
        ]
    return data


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def pass_summary(result: PassResult) -> str:
    """One line saying what a pass did."""
    verb = "would send" if result.dry_run else "sent"
    parts = [
        f"{_plural(result.recorded, 'reminder')} fell due",
        f"{result.cancelled} cancelled",
        f"{_plural(result.deliveries_created, 'digest')} made",
        f"{verb} {result.sent}",
    ]
    if result.retried or result.failed:
        parts.append(f"{result.retried} to retry, {result.failed} failed")
    if result.held:
        parts.append(f"{result.held} held for the daily limit")
    if result.channel_down:
        parts.append("the channel kept failing: the rest waits for the next pass")
    prefix = "dry run (nothing written): " if result.dry_run else ""
    return prefix + "; ".join(parts)


@click.command()
@now_option
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing, write nothing.")
@json_option
@pass_app
def remind(app: App, now: dt.datetime | None, dry_run: bool, as_json: bool) -> None:
    """Run one reminder pass and exit: record what fell due, send the digests (cron-friendly).

    Exits 0 even when some deliveries failed (they are listed, and retried by later
    passes); 1 when the configuration or the database is not usable.
    """
    now = resolve_now(now)
    _ready(app)
    # With --json, stdout is the JSON: the console channel writes its messages to stderr.
    channel = make_channel(app.settings, stream=sys.stderr if as_json else None)
    result = run_pass(
        app.session_factory,
        settings=app.settings,
        now=now,
        channel=channel,
        worker_id=default_worker(),
        dry_run=dry_run,
    )
    if as_json:
        emit_json(pass_json(result, now))
        return
    for message in result.messages:
        click.echo(f"--- would send to {message.to_name} <{message.to_address}>: {message.subject}")
        click.echo(f"Message-ID: {message.message_id}")
        click.echo(message.text.rstrip("\n") + "\n")
    click.echo(pass_summary(result))
    for failure in result.failures:
        info(f"delivery {failure.delivery_id} to {failure.reviewer}: {failure.status}: {failure.error}")


@click.group()
def reminders() -> None:
    """The delivery queue (reminder digests and report emails): what is queued, what failed, re-sending."""


def delivery_json(row: DeliveryRow) -> dict[str, Any]:
    """A delivery as JSON."""
    return {
        "id": row.id,
        "status": row.status,
        "reviewer": row.reviewer,
        "email": row.email,
        "channel": row.channel,
        "claims": list(row.claims),
        "report": row.report,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "sent_at": row.sent_at,
        "last_error": row.last_error,
        "message_id": row.message_id,
        "subject": row.subject,
        "created_at": row.created_at,
    }


def _carries(row: DeliveryRow) -> str:
    """What the CLAIMS column shows: a digest's claims, or the report an email carries."""
    return f"(report {row.report})" if row.report is not None else ", ".join(row.claims)


@reminders.command("list")
@click.option("--failed", is_flag=True, help="Deliveries that failed for good (re-send with `resend`).")
@click.option("--pending", is_flag=True, help="Deliveries waiting to go out, or to be retried.")
@click.option("--all", "everything", is_flag=True, help="Every delivery, sent and cancelled ones too.")
@now_option
@json_option
@pass_app
def list_(
    app: App, failed: bool, pending: bool, everything: bool, now: dt.datetime | None, as_json: bool
) -> None:
    """List deliveries (reminder digests and report emails): by default every one not yet sent, newest first."""
    statuses: list[str] | None = None
    if not everything:
        chosen = [name for name, flag in (("failed", failed), ("pending", pending)) if flag] or list(LISTED)
        statuses = [status for name in chosen for status in LISTED[name]]
    with app.begin(write=False) as session:
        rows = list_deliveries(session, statuses)
        held = held_count(session, resolve_now(now))
    if as_json:
        emit_json([delivery_json(r) for r in rows])
        return
    columns = [
        Column("ID", align=">"),
        Column("STATUS"),
        Column("REVIEWER", min_width=8),
        Column("TRIES", align=">"),
        Column("CLAIMS", min_width=10),
        Column("LAST ERROR", min_width=10, wrap=True),  # an error is read whole
    ]
    lines = [
        [str(r.id), r.status, r.reviewer, str(r.attempts), _carries(r), r.last_error or ""] for r in rows
    ]
    click.echo(table(columns, lines) if lines else "no deliveries match")
    if held:
        info(f"{_plural(held, 'reminder')} due and not yet in a digest (the next pass, or the daily limit)")


@reminders.command("resend")
@click.argument("ids", nargs=-1, type=int, metavar="ID...")
@click.option("--all-failed", is_flag=True, help="Re-send every failed delivery.")
@now_option
@json_option
@pass_app
def resend_(app: App, ids: tuple[int, ...], all_failed: bool, now: dt.datetime | None, as_json: bool) -> None:
    """Put failed deliveries back in the queue, attempts reset; the next pass sends them."""
    if bool(ids) == all_failed:
        raise click.UsageError("give delivery IDs or --all-failed")
    with app.begin() as session:
        queued = resend(session, None if all_failed else list(ids), resolve_now(now))
    if as_json:
        emit_json({"queued": queued})
    elif queued:
        click.echo(
            f"queued {_plural(len(queued), 'delivery', 'deliveries')} again: {', '.join(map(str, queued))}"
        )
    else:
        click.echo("no failed deliveries")
