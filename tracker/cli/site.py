"""`tracker scorecards`: build the static scorecard site."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from sqlalchemy.orm import Session

from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import emit_json
from tracker.cli.params import json_option, now_option, resolve_now
from tracker.config import Settings
from tracker.reports import last_run
from tracker.scorecards import build_site

# Without --out, `tracker scorecards`, `report` and `calendar` all write into the site folder.
OUT_HELP = "the last report's folder, or the report.out_dir setting (./site)"


def site_folder(session: Session, settings: Settings) -> Path:
    """The site folder when --out is not given: where the last report went, else report.out_dir."""
    previous = last_run(session)
    return Path(previous.out_dir) if previous and previous.out_dir else Path(settings.report.out_dir)


@click.command("scorecards")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Folder to write the site into, created if missing (default: {OUT_HELP}).",
)
@click.option("--source", metavar="SLUG", help="Rebuild only this source's page (plus the index and feed).")
@click.option("--full", is_flag=True, help="Rebuild every page, ignoring what the last build recorded.")
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Processes that render a large site (0: one per CPU) [default: report.jobs, 0].",
)
@now_option
@json_option
@pass_app
def scorecards(
    app: App,
    out_dir: Path | None,
    source: str | None,
    full: bool,
    jobs: int | None,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """Build the scorecard site: a page per source, a ranked index and an Atom feed."""
    # Read-only: a dry-run unit of work is rolled back, so a build can never write by mistake.
    with app.begin(dry_run=True, write=False) as session:
        out_dir = out_dir or site_folder(session, app.settings)
        result = build_site(
            session, out_dir, settings=app.settings, now=resolve_now(now), source=source, full=full, jobs=jobs
        )
    if as_json:
        emit_json(result.to_json())
        return
    pages = sum(1 for p in result.written if p.parts[0] == "sources")
    shared = f" ({result.processes} processes)" if result.processes > 1 else ""
    click.echo(
        f"wrote {len(result.written)} files ({pages} source pages; {result.unchanged} unchanged) "
        f"for {result.sources} sources and {result.claims} claims in {out_dir}{shared}"
    )
    for path in result.deleted:
        click.echo(f"deleted {path.as_posix()}")
