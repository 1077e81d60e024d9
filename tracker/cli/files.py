"""`tracker import` and `tracker export`: the claims file in and out of the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, TypeVar

import click

from tracker.app import App
from tracker.claimsfile import ImportReport, import_claims, update_claims_file, write_claims_file
from tracker.cli.app import pass_app
from tracker.cli.output import emit_json, fields, info
from tracker.cli.params import json_option, now_option, resolve_now
from tracker.errors import TrackerError
from tracker.files import atomic_text, replace, write_temporary

T = TypeVar("T")


class DelayedProgress:
    """A progress bar on stderr that appears only once the work has taken `delay` seconds.

    Short imports stay quiet; long ones show that they are alive. The clock is injectable
    so that tests need not wait.
    """

    def __init__(
        self,
        label: str,
        delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        file: TextIO | None = None,
    ) -> None:
        self.label, self.delay, self.clock, self.file = label, delay, clock, file
        self.started = clock()
        self.shown = 0
        self.bar: Any = None
        self._stack = ExitStack()

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if self.clock() - self.started < self.delay:
                return
            bar = click.progressbar(length=max(total, 1), label=self.label, file=self.file or sys.stderr)
            self.bar = self._stack.enter_context(bar)
        step = done - self.shown
        if step > 0:
            self.bar.update(step)
            self.shown = done

    def __enter__(self) -> DelayedProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def report_text(report: ImportReport) -> str:
    """The human summary of an import."""
    return fields(
        [
            ("claims", f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"),
            ("criteria", _plural(report.new_criteria_versions, "new version")),
            ("verdicts", _plural(report.new_resolutions, "new resolution")),
            ("sources", f"{report.sources_created} created, {report.sources_updated} updated"),
            ("reviewers", f"{report.reviewers_created} created, {report.reviewers_updated} updated"),
        ]
    )


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
@now_option
@json_option
@pass_app
def import_(app: App, file: Path, dry_run: bool, now: dt.datetime | None, as_json: bool) -> None:
    """Validate FILE (claims.yaml) and import it in one transaction; re-importing changes nothing."""
    if not file.is_file():
        raise TrackerError(f"{file}: no such file")
    with app.begin(dry_run=dry_run) as session, DelayedProgress(f"importing {file.name}") as progress:
        report = import_claims(session, file, settings=app.settings, now=resolve_now(now), progress=progress)
    if as_json:
        counts = {k: v for k, v in dataclasses.asdict(report).items() if k != "detail"}
        emit_json({"file": str(file), "dry_run": dry_run, **counts})
    else:
        action = "dry run, nothing written: would import" if dry_run else "imported"
        click.echo(f"{action} {file} into {app.display_url()}")
        click.echo(report_text(report))
    for key in report.missing:
        # Imports never delete: a claim dropped from the file may be a mistake, or history.
        info(f"warning: {key}: in the database but not in {file.name}; kept")


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--canonical",
    is_flag=True,
    help="Rewrite FILE in the canonical layout, even if it exists (its comments and styling are lost).",
)
@pass_app
def export(app: App, file: Path | None, canonical: bool) -> None:
    """Write the database in the claims.yaml format to FILE, or to stdout.

    An existing FILE keeps its comments, key order, quoting, style and blank lines:
    only the entries and fields the database changed are rewritten.
    """
    existing = None if file is None or canonical else _read_existing(file)
    only_in_file: list[str] = []
    with app.begin(write=False) as session:
        if file is None:
            write_claims_file(session, sys.stdout)
            return
        if existing is None:
            with atomic_text(file) as handle:
                count = write_claims_file(session, handle)
        else:
            text, newline, read = existing
            merged, count = update_claims_file(session, text, str(file))
            only_in_file = merged.only_in_file
            _replace_unless_changed(file, merged.text, newline, read)
    for entry in only_in_file:
        # Kept, as an import keeps claims missing from the file: it may be work not yet imported.
        info(f"warning: {entry}: not in the database; kept")
    info(f"wrote {_plural(count, 'claim')} to {file}")


def _read_existing(file: Path) -> tuple[str, str, bytes] | None:
    """The text of the file an export will update, its line ending and its bytes; None if there is none."""
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TrackerError(f"{file}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TrackerError(f"{file}: not UTF-8 text; export with --canonical to replace it") from None
    if not text.strip():
        return None  # nothing to keep: write the canonical layout
    newline = "\r\n" if "\r\n" in text else "\n"
    return text.replace("\r\n", "\n"), newline, data


def _replace_unless_changed(file: Path, text: str, newline: str, read: bytes) -> None:
    """Replace `file` with `text` atomically, unless someone saved it since it was `read`.

    Refusing keeps their edit rather than overwrite it with an export made from the old text.
    """
    temporary = write_temporary(file, text.replace("\n", newline).encode("utf-8"))
    if _contents(file) != read:
        temporary.unlink(missing_ok=True)
        raise TrackerError(f"{file}: changed while it was being exported; nothing written, export again")
    replace(temporary, file)


def _contents(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except FileNotFoundError:
        return None
