"""`tracker report`: rebuild the site and write the digest of what changed since the last report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import emit_json, fields, wrap
from tracker.cli.params import DATETIME, json_option, now_option, resolve_now
from tracker.cli.site import OUT_HELP, site_folder
from tracker.reports import make_report
from tracker.reports.render import when


@click.command("report")
@click.option(
    "--since",
    type=DATETIME,
    default=None,
    help="Start of the period (ISO date or time, UTC unless an offset is given; "
    "default: when the last report ran, or the beginning).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Site folder; the digest goes in its reports/ (default: {OUT_HELP}).",
)
@now_option
@json_option
@pass_app
def report(
    app: App, since: dt.datetime | None, out_dir: Path | None, now: dt.datetime | None, as_json: bool
) -> None:
    """Rebuild the site and write a digest of what changed since the last report."""
    now = resolve_now(now)
    with app.begin() as session:
        out_dir = out_dir or site_folder(session, app.settings)
        done = make_report(session, settings=app.settings, now=now, out_dir=out_dir, since=since)
    # Printed after the commit, so that what is shown has been recorded.
    if as_json:
        emit_json(done.to_json())
        return
    zone = app.settings.timezone
    site = done.site
    click.echo(wrap(done.rendered.subject, ""))
    click.echo(
        fields(
            [
                ("period", f"{when(done.since, zone)} to {when(done.ran_at, zone)}"),
                ("site", f"{len(site.written)} files written, {site.unchanged} unchanged, in {done.out_dir}"),
                ("digest", " ".join(str(p) for p in done.files[:2])),
            ]
        )
    )
