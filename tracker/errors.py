"""The TrackerError family, input problems that carry their file, line and field, and `describe`.

Errors are turned into messages at the edge, through `describe`: the CLI prints its
lines and exits 1; the web app shows its message on a page, or each field's problems
beside the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


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
    """One problem with some input, located by its field and, for a file, its file and line.

    Input that is not a file (command-line options, a form) has no file and line: see `at`.
    `message` is a whole phrase that reads on its own, e.g. beside the form field.
    """

    file: str
    line: int
    field: str
    message: str

    @classmethod
    def at(cls, field: str, message: str) -> Problem:
        """A problem with the field `field` of input that is not a file."""
        return cls("", 0, field, message)

    def __str__(self) -> str:
        if not self.file:
            return f"{self.field}: {self.message}" if self.field else self.message
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class InvalidInput(TrackerError):
    """Input has problems; all of them are reported together, each with its field.

    `subject` names what was rejected ("claim 'x'") when the problems are not in a file.
    """

    def __init__(self, problems: Iterable[Problem], subject: str = "") -> None:
        self.problems = sorted(problems)
        self.subject = subject
        located = "\n".join(str(p) for p in self.problems)
        super().__init__(located if self.located else _one_line(self))

    @property
    def located(self) -> bool:
        """Whether the problems are in a file (and so are shown one per line with file and line)."""
        return any(p.file for p in self.problems)


def _one_line(exc: InvalidInput) -> str:
    joined = "; ".join(p.message for p in exc.problems)
    return f"{exc.subject}: {joined}" if exc.subject else joined


@dataclass(frozen=True)
class Description:
    """What to tell a user about a TrackerError, for any edge to present.

    `message` is the error in one line. `details` are lines that go before it (a file's
    problems, each with its file and line). `fields` holds the problems by field, for a
    form to show beside each field; it is empty when the error is not about input.
    """

    message: str
    details: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)


def describe(exc: TrackerError) -> Description:
    """Turn any TrackerError into a Description."""
    if isinstance(exc, InvalidInput):
        fields: dict[str, list[str]] = {}
        for problem in exc.problems:
            fields.setdefault(problem.field, []).append(problem.message)
        if exc.located:
            count = len(exc.problems)
            plural = "problem" if count == 1 else "problems"
            return Description(
                f"{count} {plural} found; nothing was written", [str(p) for p in exc.problems], fields
            )
        return Description(_one_line(exc), [], fields)
    # A TrackerError is one line by contract; be safe with multi-line messages anyway.
    lines = [line for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
    return Description(lines[-1], lines[:-1])
