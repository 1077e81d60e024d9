"""`tracker assign|unassign|resolve|adjudicate|unresolve|progress`: the reviewers' side of a claim."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

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
from tracker.models import VERDICT_SCALES, Appearance, Resolution
from tracker.review import outcome_text


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


VERDICT_HELP = (
    "On the claim's scale: "
    + "; ".join(f"{kind}: {', '.join(scale)}" for kind, scale in VERDICT_SCALES.items())
    + " (any case; '_' or a space for '-')."
)


def _verdict_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that `resolve` and `adjudicate` share: evidence, date, clock, JSON."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option(
            "--evidence",
            multiple=True,
            type=TextType(Appearance.url),
            metavar="URL",
            help="Evidence URL (repeatable).",
        ),
        click.option(
            "--on",
            "resolved_on",
            type=DATE,
            default=None,
            help="Date of the outcome (default: the reviewer's today).",
        ),
        now_option,
        json_option,
        pass_app,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _outcome(claim_id: str, entry: Resolution) -> tuple[dict[str, Any], str]:
    """What a verdict did (resolved, awaiting a second, disputed, adjudicated), read before the
    session ends, to be said once it has committed (`_say`)."""
    return {"key": claim_id, **resolution_json(entry), "status": entry.claim.status}, outcome_text(entry)


def _say(outcome: tuple[dict[str, Any], str], as_json: bool) -> None:
    if as_json:
        emit_json(outcome[0])
    else:
        click.echo(outcome[1])


@click.command()
@click.argument("claim_id", metavar="ID")
@click.option("--verdict", required=True, type=VERDICT, help=VERDICT_HELP)
@click.option("--note", type=LONG_TEXT, default=None, help="Why this verdict.")
@click.option("--by", "by_handle", required=True, metavar="HANDLE", help="The reviewer resolving it.")
@_verdict_options
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
    """Record a verdict on claim ID; earlier verdicts stay in its history.

    A claim that needs two verdicts (review.verdicts_required) is resolved when a second
    reviewer gives the same verdict as the first, blind; different verdicts dispute it,
    and an admin settles it with `tracker adjudicate`.
    """
    with audit.acting(audit.current().on_behalf_of(by_handle)), app.begin() as session:
        entry = services.resolve(
            session,
            claim_id,
            verdict,
            list(evidence),
            note,
            by_handle,
            resolved_on,
            resolve_now(now),
            review=app.settings.review,
        )
        outcome = _outcome(claim_id, entry)
    _say(outcome, as_json)


@click.command()
@click.argument("claim_id", metavar="ID")
@click.argument("verdict", type=VERDICT)
@click.option("--note", required=True, type=LONG_TEXT, help="Why this verdict settles the dispute.")
@click.option("--by", "by_handle", required=True, metavar="HANDLE", help="The admin adjudicating.")
@_verdict_options
def adjudicate(
    app: App,
    claim_id: str,
    verdict: str,
    evidence: tuple[str, ...],
    note: str,
    by_handle: str,
    resolved_on: dt.date | None,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """Settle disputed claim ID (two reviewers' verdicts differ) with VERDICT; admins only."""
    with audit.acting(audit.current().on_behalf_of(by_handle)), app.begin() as session:
        entry = services.adjudicate(
            session, claim_id, verdict, list(evidence), note, by_handle, resolved_on, resolve_now(now)
        )
        outcome = _outcome(claim_id, entry)
    _say(outcome, as_json)


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
