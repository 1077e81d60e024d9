"""The TrackerError family, and input problems that carry their file, line and field.

Errors are turned into messages at the edge: the CLI prints one line and exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass


class TrackerError(Exception):
    """A problem the user can fix; its message is shown as one line."""


class NotFound(TrackerError):
    """A named claim, source or reviewer does not exist."""


class DatabaseNotReady(TrackerError):
    """The database has no schema yet, or is behind the code's migrations."""


class WriterBusy(TrackerError):
    """Another process held the database's write lock for longer than we would wait."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input file, located by line and field path."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class InvalidInput(TrackerError):
    """An input file has problems; all of them are reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
