"""Turning every failure into one line on stderr and an exit code; never a traceback.

Exit codes: 0 success, 1 a user error (TrackerError, a bad input file, an unusable
database), 2 a usage error. TRACKER_DEBUG=1 adds the traceback of unexpected errors.
"""

from __future__ import annotations

import os
import traceback

import click
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tracker.errors import TrackerError, describe

PREFIX = "tracker: error: "
USER_ERROR = 1


def debug() -> bool:
    """Whether TRACKER_DEBUG asks for tracebacks."""
    return os.environ.get("TRACKER_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def first_line(text: str) -> str:
    """The first non-blank line of `text`."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class Failure(click.ClickException):
    """A failure already phrased for the user: problem lines, then one error line."""

    exit_code = USER_ERROR

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.details = details or []

    def show(self, file: object = None) -> None:
        for line in self.details:
            click.echo(line, err=True)
        click.echo(PREFIX + self.message, err=True)


def _database_error(exc: SQLAlchemyError, url: str | None, password: str | None) -> str:
    # The driver's message, without SQLAlchemy's SQL echo and background link.
    detail = first_line(str(exc.orig if isinstance(exc, DBAPIError) else exc))
    if password:
        detail = detail.replace(password, "***")
    where = f"database {url}: " if url else "database: "
    return where + (detail or type(exc).__name__)


def translate(exc: BaseException, url: str | None = None, password: str | None = None) -> Failure:
    """The Failure to show for an exception raised by a command."""
    if isinstance(exc, TrackerError):
        description = describe(exc)
        return Failure(description.message, description.details)
    if debug():
        traceback.print_exception(exc)
    if isinstance(exc, SQLAlchemyError):
        return Failure(_database_error(exc, url, password))
    hint = "" if debug() else " (set TRACKER_DEBUG=1 for the traceback)"
    return Failure(f"unexpected {type(exc).__name__}: {first_line(str(exc))}{hint}")


def usage_line(exc: click.UsageError) -> str:
    """A usage error in one line, pointing at the right --help."""
    where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
    return PREFIX + exc.format_message().rstrip(".") + where
