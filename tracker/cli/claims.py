"""`tracker claims ...`: list, show, add and revise claims."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

import click

from tracker import services
from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import emit_json, info
from tracker.cli.params import DATE, DAY, RelativeDay, json_option, now_option, resolve_day, resolve_now
from tracker.cli.render import claim_detail, claim_summary, claim_text, claims_table
from tracker.errors import TrackerError
from tracker.models import ClaimKind


@click.group()
def claims() -> None:
    """Predictions and factual claims."""


@claims.command("list")
@click.option("--source", metavar="SLUG", help="Claims by this source or its members.")
@click.option(
    "--kind", type=click.Choice([k.value for k in ClaimKind]), help="Only predictions or only facts."
)
@click.option(
    "--status",
    type=click.Choice(services.STATUS_FILTERS),
    help="open, resolved, or overdue (open predictions past their deadline).",
)
@click.option(
    "--due-before",
    type=DAY,
    help="Deadline strictly before this date: YYYY-MM-DD, today, tomorrow, or +Nd (days from --now).",
)
@click.option("--tag", help="Claims with this tag.")
@now_option
@json_option
@pass_app
def list_claims(
    app: App,
    source: str | None,
    kind: str | None,
    status: str | None,
    due_before: dt.date | RelativeDay | None,
    tag: str | None,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """List claims, soonest deadline first."""
    now = resolve_now(now)
    zone = app.settings.timezone
    due_date = resolve_day(due_before, now, zone)
    with app.begin(write=False) as session:
        found = services.list_claims(
            session,
            source=source,
            kind=kind,
            status=status,
            due_before=due_date,
            tag=tag,
            now=now,
            default_timezone=zone,
        )
        if as_json:
            emit_json([claim_summary(c) for c in found])
        elif found:
            click.echo(claims_table(found, now, zone))
        else:
            click.echo("no claims match")


@claims.command("show")
@click.argument("claim_id", metavar="ID")
@now_option
@json_option
@pass_app
def show(app: App, claim_id: str, now: dt.datetime | None, as_json: bool) -> None:
    """Show one claim with its criteria and verdict histories."""
    now = resolve_now(now)
    with app.begin(write=False) as session:
        claim = services.get_claim(session, claim_id)
        if as_json:
            emit_json(claim_detail(claim, now, app.settings.timezone))
        else:
            click.echo(claim_text(claim, now, app.settings.timezone))


# (option name, flag, prompt) of what `claims add` cannot do without, common ones first.
REQUIRED: list[tuple[str, str, str]] = [
    ("key", "--id", "Claim id (letters, digits, '-')"),
    ("kind", "--kind", "Kind"),
    ("source", "--source", "Source slug"),
    ("statement", "--statement", "Testable statement"),
    ("quote", "--quote", "Verbatim quote"),
    ("made_on", "--made-on", "Made on (YYYY-MM-DD)"),
]
PREDICTION_REQUIRED: list[tuple[str, str, str]] = [
    ("criteria", "--criteria", "Resolution criteria"),
    ("deadline", "--deadline", "Deadline (YYYY-MM-DD)"),
]
PROMPT_TYPES: dict[str, Any] = {
    "kind": click.Choice([k.value for k in ClaimKind]),
    "made_on": DATE,
    "deadline": DATE,
}


def missing_flags(values: dict[str, Any]) -> list[str]:
    """The flags `claims add` still needs, given the values so far."""
    needed = list(REQUIRED)
    if values.get("kind") in (None, ClaimKind.PREDICTION):
        needed += PREDICTION_REQUIRED
    missing = [flag for name, flag, _ in needed if values.get(name) in (None, "")]
    if (
        values.get("kind") in (None, ClaimKind.PREDICTION)
        and values["probability"] is None
        and not values["confidence"]
    ):
        missing.append("--probability or --confidence")
    return missing


def prompt_missing(values: dict[str, Any], ask: Callable[..., Any] = click.prompt) -> None:
    """Ask for each missing required value in turn (the kind decides what else is needed)."""
    for name, _, text in REQUIRED:
        if values.get(name) in (None, ""):
            values[name] = ask(text, type=PROMPT_TYPES.get(name, click.STRING))
    if values["kind"] != ClaimKind.PREDICTION:
        return
    for name, _, text in PREDICTION_REQUIRED:
        if values.get(name) in (None, ""):
            values[name] = ask(text, type=PROMPT_TYPES.get(name, click.STRING))
    if values["probability"] is None and not values["confidence"]:
        answer = str(ask("Probability (0-1) or the source's words, e.g. 'very likely'", type=click.STRING))
        try:
            values["probability"] = float(answer)
        except ValueError:
            values["confidence"] = answer


@claims.command("add")
@click.option("--id", "key", metavar="ID", help="Stable, unique id, e.g. kim-tones-down-after-song-visit.")
@click.option("--kind", type=click.Choice([k.value for k in ClaimKind]))
@click.option("--source", metavar="SLUG", help="Who made the claim.")
@click.option("--statement", help="The claim, stated so that it can be checked.")
@click.option("--quote", help="The source's words, verbatim.")
@click.option("--made-on", type=DATE)
@click.option("--probability", type=float, help="Stated probability, 0 to 1 (predictions).")
@click.option("--confidence", metavar="WORDS", help="The source's words, mapped through `tracker scale`.")
@click.option("--criteria", help="How a reviewer decides the outcome (predictions).")
@click.option("--deadline", type=DATE, help="Last day the prediction can come true.")
@click.option("--window-start", type=DATE, help="First day that counts, when there is a window.")
@click.option("--timezone", help="Timezone the deadline is read in (default: the configured one).")
@click.option("--as-of", type=DATE, help="Date a fact is judged at (default: made-on).")
@click.option("--url", help="Article the claim appeared in.")
@click.option("--title", help="Article title.")
@click.option("--author", help="Article author.")
@click.option("--published", type=DATE, help="Article publication date.")
@click.option("--tag", "tags", multiple=True, help="Tag (repeatable).")
@click.option("--reviewer", "reviewer_handles", multiple=True, metavar="HANDLE", help="Assign (repeatable).")
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="Prompt for missing fields (default: when stdin is a terminal).",
)
@now_option
@json_option
@pass_app
def add(app: App, /, interactive: bool | None, now: dt.datetime | None, as_json: bool, **values: Any) -> None:
    """Add a claim; prompts for what is missing when run interactively."""
    if interactive is None:
        interactive = sys.stdin.isatty()
    if interactive:
        prompt_missing(values)
    missing = missing_flags(values)
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)}")
    url, title, author, published = (values.pop(k) for k in ("url", "title", "author", "published"))
    if url is None and (title or author or published):
        raise click.UsageError("--title, --author and --published describe an article: give its --url too")
    appearance = {"url": url, "title": title, "author": author, "published": published} if url else None
    with app.begin() as session:
        claim = services.add_claim(
            session,
            source_slug=values.pop("source"),
            appearance=appearance,
            scale=app.scale,
            now=resolve_now(now),
            **values,
        )
        if as_json:
            emit_json(claim_summary(claim))
        else:
            click.echo(f"added {claim.kind} {claim.key}")


@claims.command("revise")
@click.argument("claim_id", metavar="ID")
@click.option("--criteria", help="New resolution criteria (default: unchanged).")
@click.option("--deadline", type=DATE, help="New deadline (default: unchanged).")
@click.option("--window-start", type=DATE, help="New window start (default: unchanged).")
@click.option("--timezone", help="New timezone (default: unchanged).")
@now_option
@json_option
@pass_app
def revise(
    app: App,
    claim_id: str,
    criteria: str | None,
    deadline: dt.date | None,
    window_start: dt.date | None,
    timezone: str | None,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """Record new resolution criteria as a new version; earlier versions stay visible."""
    with app.begin() as session:
        claim = services.get_claim(session, claim_id, lock=True)
        if claim.criteria is None or claim.deadline is None:
            raise TrackerError(f"claim {claim_id!r}: only predictions have resolution criteria")
        entry = services.revise_criteria(
            session,
            claim,
            criteria if criteria is not None else claim.criteria,
            deadline or claim.deadline,
            window_start or claim.window_start,
            timezone or claim.timezone,
            resolve_now(now),
        )
        version = entry.version if entry else len(claim.criteria_versions)
    if as_json:
        emit_json({"key": claim_id, "version": version, "changed": entry is not None})
    elif entry is None:
        info(f"criteria of {claim_id} unchanged (version {version})")
    else:
        click.echo(f"recorded criteria version {version} of {claim_id}")
