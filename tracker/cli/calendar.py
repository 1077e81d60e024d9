"""`tracker calendar`: open predictions' deadlines as an iCalendar (.ics) file."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import emit_json, info
from tracker.cli.params import json_option, now_option, resolve_now
from tracker.cli.site import OUT_HELP, site_folder
from tracker.errors import TrackerError
from tracker.files import write_atomic


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step, so that a subscriber never reads half a file."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise TrackerError(f"{path}: folder {folder} does not exist")
    write_atomic(path, data)


@click.command()
@click.option("--reviewer", metavar="HANDLE", help="Only the claims assigned to this reviewer.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="The .ics file to write (replaced in one step), or - for stdout "
    f"(default: deadlines.ics, or deadlines-HANDLE.ics with --reviewer, in {OUT_HELP}).",
)
@now_option
@json_option
@pass_app
def calendar(
    app: App, reviewer: str | None, out: Path | None, now: dt.datetime | None, as_json: bool
) -> None:
    """Write open predictions' deadlines as an iCalendar file to subscribe to.

    One all-day event per deadline; each claim keeps its event UID across runs.
    """
    # Imported here: icalendar is only needed by this command, and every other one starts faster.
    from tracker import ical

    to_stdout = str(out) == "-"
    if to_stdout and as_json:
        raise click.UsageError("--json describes the file written: give --out FILE")
    with app.begin(write=False) as session:
        deadlines = ical.open_deadlines(session, reviewer=reviewer, default_timezone=app.settings.timezone)
        if out is None:
            # Served with the site, like the scorecards; the folder is made as `scorecards` would.
            site = site_folder(session, app.settings)
            try:
                site.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise TrackerError(f"{site}: cannot create the folder: {exc.strerror}") from None
            out = site / (f"deadlines-{reviewer}.ics" if reviewer else "deadlines.ics")
    data = ical.build_calendar(deadlines, now=resolve_now(now), reviewer=reviewer)
    if to_stdout:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_atomically(out, data)
    if as_json:
        emit_json({"file": str(out), "reviewer": reviewer, "events": len(deadlines)})
    else:
        plural = "deadline" if len(deadlines) == 1 else "deadlines"
        info(f"wrote {len(deadlines)} {plural} to {out}")
