"""`tracker assign|unassign|resolve|unresolve|progress`: the reviewers' side of a claim."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import click
from sqlalchemy.orm import Session

from tracker import audit, services
from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import emit_json, info
from tracker.cli.params import (
    DATE,
    LONG_TEXT,
    PROGRESS,
    VERDICT,
    TextType,
    json_option,
    now_option,
    resolve_now,
)
from tracker.cli.render import resolution_json
from tracker.models import VERDICT_SCALES, Appearance


def _assignment(
    name: str, help_text: str, change: Callable[[Session, str, str], bool], done: str, nothing: str
) -> click.Command:
    """`tracker assign` or `unassign`: `change` the claim's reviewers, and say what happened.

    `done` and `nothing` are messages with {handle} and {claim} to fill in.
    """

    @click.command(name, help=help_text)
    @click.argument("claim_id", metavar="ID")
    @click.argument("handle")
    @pass_app
    def command(app: App, claim_id: str, handle: str) -> None:
        with app.begin() as session:
            changed = change(session, claim_id, handle)
        if changed:
            click.echo(done.format(handle=handle, claim=claim_id))
        else:
            info(nothing.format(handle=handle, claim=claim_id))

    return command


assign = _assignment(
    "assign",
    "Make reviewer HANDLE responsible for resolving claim ID.",
    services.assign,
    "assigned {handle} to {claim}",
    "{handle} was already assigned to {claim}",
)
unassign = _assignment(
    "unassign",
    "Take reviewer HANDLE off claim ID.",
    services.unassign,
    "unassigned {handle} from {claim}",
    "{handle} was not assigned to {claim}",
)


@click.command()
@click.argument("claim_id", metavar="ID")
@click.option(
    "--verdict",
    required=True,
    type=VERDICT,
    help="On the claim's scale: "
    + "; ".join(f"{kind}: {', '.join(scale)}" for kind, scale in VERDICT_SCALES.items())
    + " (any case; '_' or a space for '-').",
)
@click.option(
    "--evidence",
    multiple=True,
    type=TextType(Appearance.url),
    metavar="URL",
    help="Evidence URL (repeatable).",
)
@click.option("--note", type=LONG_TEXT, default=None, help="Why this verdict.")
@click.option("--by", "by_handle", required=True, metavar="HANDLE", help="The reviewer resolving it.")
@click.option(
    "--on",
    "resolved_on",
    type=DATE,
    default=None,
    help="Date of the outcome (default: the reviewer's today).",
)
@now_option
@json_option
@pass_app
def resolve(
    app: App,
    claim_id: str,
    verdict: str,
    evidence: tuple[str, ...],
    note: str | None,
    by_handle: str,
    resolved_on: dt.date | None,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """Record a verdict on claim ID; earlier verdicts stay in its history."""
    with audit.acting(audit.current().on_behalf_of(by_handle)), app.begin() as session:
        entry = services.resolve(
            session, claim_id, verdict, list(evidence), note, by_handle, resolved_on, resolve_now(now)
        )
        data = {"key": claim_id, **resolution_json(entry)}
    if as_json:
        emit_json(data)
    else:
        click.echo(f"resolved {claim_id}: {verdict}")


@click.command()
@click.argument("claim_id", metavar="ID")
@click.option("--by", "by_handle", required=True, metavar="HANDLE", help="The reviewer re-opening it.")
@click.option("--note", required=True, type=LONG_TEXT, help="Why the verdict no longer stands.")
@now_option
@json_option
@pass_app
def unresolve(
    app: App, claim_id: str, by_handle: str, note: str, now: dt.datetime | None, as_json: bool
) -> None:
    """Re-open claim ID; the withdrawn verdict stays in its history."""
    with audit.acting(audit.current().on_behalf_of(by_handle)), app.begin() as session:
        entry = services.unresolve(session, claim_id, by_handle, note, resolve_now(now))
        data = {"key": claim_id, **resolution_json(entry)}
    if as_json:
        emit_json(data)
    else:
        click.echo(f"re-opened {claim_id}")


@click.command()
@click.argument("claim_id", metavar="ID")
@click.argument("status", type=PROGRESS)
@click.option(
    "--evidence",
    multiple=True,
    type=TextType(Appearance.url),
    metavar="URL",
    help="Evidence URL (repeatable; at least one).",
)
@click.option("--note", type=LONG_TEXT, default=None, help="What was done, or why it is stalled.")
@click.option("--by", "by_handle", required=True, metavar="HANDLE", help="The reviewer rating it.")
@click.option(
    "--on",
    "rated_on",
    type=DATE,
    default=None,
    help="Date the progress is rated at (default: the reviewer's today).",
)
@now_option
@json_option
@pass_app
def progress(
    app: App,
    claim_id: str,
    status: str,
    evidence: tuple[str, ...],
    note: str | None,
    by_handle: str,
    rated_on: dt.date | None,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """Record the progress of open promise ID: STATUS is in-the-works or stalled.

    The promise stays open; the status goes into its history beside the verdicts, and
    the latest one shows on its scorecard until `tracker resolve` gives it a verdict.
    """
    with app.begin() as session:
        entry = services.record_progress(
            session, claim_id, status, list(evidence), note, by_handle, rated_on, resolve_now(now)
        )
        data = {"key": claim_id, **resolution_json(entry)}
    if as_json:
        emit_json(data)
    else:
        click.echo(f"recorded progress on {claim_id}: {status}")
