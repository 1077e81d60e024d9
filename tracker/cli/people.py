"""`tracker sources ...` and `tracker reviewers ...`."""

from __future__ import annotations

from typing import Any

import click

from tracker import services
from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import Column, emit_json, table
from tracker.cli.params import EMAIL, LONG_TEXT, TextType, json_option
from tracker.cli.render import agreement_json, agreement_text
from tracker.models import Reviewer, ReviewerRole, Source, SourceKind


def source_json(source: Source, claims: int) -> dict[str, Any]:
    """A source as JSON."""
    return {
        "slug": source.slug,
        "name": source.name,
        "kind": source.kind,
        "url": source.url,
        "member_of": source.parent.slug if source.parent else None,
        "notes": source.notes,
        "claims": claims,
    }


def reviewer_json(reviewer: Reviewer) -> dict[str, Any]:
    """A reviewer as JSON."""
    return {
        "handle": reviewer.handle,
        "name": reviewer.name,
        "email": reviewer.email,
        "timezone": reviewer.timezone,
        "role": reviewer.role,
        "subscribed": reviewer.subscribed,
    }


@click.group()
def sources() -> None:
    """The sources that make claims: outlets, people and organisations."""


@sources.command("list")
@json_option
@pass_app
def list_sources(app: App, as_json: bool) -> None:
    """List the sources and how many claims each made."""
    with app.begin(write=False) as session:
        found = services.list_sources(session)
        counts = services.claim_counts(session)
        data = [source_json(s, counts.get(s.id, 0)) for s in found]
    if as_json:
        emit_json(data)
        return
    columns = [
        Column("SLUG", min_width=12),
        Column("KIND"),
        Column("CLAIMS", align=">"),
        Column("NAME", min_width=8),
    ]
    rows = [
        [
            d["slug"],
            d["kind"],
            str(d["claims"]),
            d["name"] + (f", of {d['member_of']}" if d["member_of"] else ""),
        ]
        for d in data
    ]
    click.echo(table(columns, rows) if rows else "no sources yet: `tracker import claims.yaml` adds them")


@sources.command("add")
@click.argument("slug")
@click.option("--name", required=True, type=TextType(Source.name), help="Display name.")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in SourceKind]),
    default=SourceKind.OUTLET.value,
    show_default=True,
)
@click.option("--url", default=None, type=TextType(Source.url), help="Home page.")
@click.option(
    "--member-of", default=None, metavar="SLUG", help="The outlet or organisation this source belongs to."
)
@click.option("--notes", default=None, type=LONG_TEXT)
@json_option
@pass_app
def add_source(
    app: App,
    slug: str,
    name: str,
    kind: str,
    url: str | None,
    member_of: str | None,
    notes: str | None,
    as_json: bool,
) -> None:
    """Add a source."""
    with app.begin() as session:
        source = services.add_source(session, slug, name, kind, url=url, notes=notes, member_of=member_of)
        data = source_json(source, 0)
    if as_json:
        emit_json(data)
    else:
        click.echo(f"added source {slug}")


@click.group()
def reviewers() -> None:
    """The people who resolve claims."""


@reviewers.command("add")
@click.argument("handle")
@click.option("--name", required=True, type=TextType(Reviewer.name), help="Full name.")
@click.option("--email", required=True, type=EMAIL, help="Where reminders go.")
@click.option(
    "--timezone",
    default="UTC",
    type=TextType(Reviewer.timezone),
    show_default=True,
    help="IANA name, e.g. Asia/Seoul.",
)
@click.option(
    "--role",
    type=click.Choice([k.value for k in ReviewerRole]),
    default=ReviewerRole.REVIEWER.value,
    show_default=True,
)
@click.option("--subscribe", is_flag=True, help="Email this reviewer the periodic report.")
@json_option
@pass_app
def add_reviewer(
    app: App, handle: str, name: str, email: str, timezone: str, role: str, subscribe: bool, as_json: bool
) -> None:
    """Add a reviewer."""
    with app.begin() as session:
        added = services.add_reviewer(session, handle, name, email, timezone, role, subscribed=subscribe)
        data = reviewer_json(added)
    if as_json:
        emit_json(data)
    else:
        click.echo(f"added reviewer {handle}")


@reviewers.command("list")
@json_option
@pass_app
def list_reviewers(app: App, as_json: bool) -> None:
    """List the reviewers."""
    with app.begin(write=False) as session:
        data = [reviewer_json(r) for r in services.list_reviewers(session)]
    if as_json:
        emit_json(data)
        return
    columns = [
        Column("HANDLE", min_width=10),
        Column("ROLE"),
        Column("TIMEZONE", min_width=10),
        Column("EMAIL", min_width=12),
        Column("NAME", min_width=8),
    ]
    rows = [[d["handle"], d["role"], d["timezone"], d["email"], d["name"]] for d in data]
    click.echo(table(columns, rows) if rows else "no reviewers yet: `tracker reviewers add` adds one")


def _subscription(app: App, handles: tuple[str, ...], subscribed: bool, as_json: bool) -> None:
    with app.begin() as session:
        data = [reviewer_json(r) for r in services.set_subscribed(session, list(handles), subscribed)]
    if as_json:
        emit_json(data)
    else:
        verb = "subscribed" if subscribed else "unsubscribed"
        click.echo(
            f"{verb} {', '.join(handles)} {'to' if subscribed else 'from'} the periodic report's email"
        )


@reviewers.command("subscribe")
@click.argument("handles", nargs=-1, required=True, metavar="HANDLE...")
@json_option
@pass_app
def subscribe(app: App, handles: tuple[str, ...], as_json: bool) -> None:
    """Email these reviewers the periodic report (`tracker scheduler` sends it)."""
    _subscription(app, handles, True, as_json)


@reviewers.command("unsubscribe")
@click.argument("handles", nargs=-1, required=True, metavar="HANDLE...")
@json_option
@pass_app
def unsubscribe(app: App, handles: tuple[str, ...], as_json: bool) -> None:
    """Stop emailing these reviewers the periodic report."""
    _subscription(app, handles, False, as_json)


@reviewers.command("agreement")
@json_option
@pass_app
def agreement_cmd(app: App, as_json: bool) -> None:
    """How often double reviewers agree: per reviewer and overall, and Cohen's kappa per scale.

    Counted over the claims whose current round has two verdicts (review.verdicts_required = 2).
    """
    with app.begin(write=False) as session:
        figures = services.reviewer_agreement(session)
    if as_json:
        emit_json(agreement_json(figures))
        return
    click.echo(agreement_text(figures))
