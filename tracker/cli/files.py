"""`tracker import` and `tracker export`: the claims file in and out of the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
import tempfile
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
        emit_json({"file": str(file), "dry_run": dry_run, **dataclasses.asdict(report)})
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
    with app.begin() as session:
        if file is None:
            write_claims_file(session, sys.stdout)
            return
        if existing is None:
            count = _write_atomically(file, lambda handle: write_claims_file(session, handle))
        else:
            text, newline, read = existing
            merged, count = update_claims_file(session, text, str(file))
            only_in_file = merged.only_in_file
            _write_atomically(file, lambda handle: handle.write(merged.text), newline, unchanged_since=read)
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


def _write_atomically(
    file: Path, write: Callable[[TextIO], T], newline: str = "\n", unchanged_since: bytes | None = None
) -> T:
    """Call `write` on a temporary file beside `file`, then rename it over `file`.

    With `unchanged_since` (the bytes the new text was made from), refuse if someone
    saved `file` in the meantime, rather than overwrite their edit.
    """
    # Written beside the target and renamed, so a failed export never truncates a good file.
    descriptor, temporary = tempfile.mkstemp(dir=file.resolve().parent, prefix=f".{file.name}.")
    try:
        with open(descriptor, "w", encoding="utf-8", newline=newline) as handle:
            result = write(handle)
        # mkstemp makes the file private; give it the mode a plain write would have.
        os.chmod(temporary, file.stat().st_mode if file.exists() else 0o666 & ~_umask())
        if unchanged_since is not None and _contents(file) != unchanged_since:
            raise TrackerError(f"{file}: changed while it was being exported; nothing written, export again")
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result


def _contents(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except FileNotFoundError:
        return None
