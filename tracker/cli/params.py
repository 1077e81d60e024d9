"""Option types and options shared by several commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import click
from sqlalchemy.orm import InstrumentedAttribute

from tracker import textrules
from tracker.clock import utcnow
from tracker.models import ALL_VERDICTS, PROGRESS_STATUSES
from tracker.services.lookup import did_you_mean

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    _DateBase = click.ParamType[dt.date]
    _DateTimeBase = click.ParamType[dt.datetime]
    _TextBase = click.ParamType[str]
else:  # click before 8.4 has no generic ParamType, and pyproject allows 8.1
    _DateBase = _DateTimeBase = _TextBase = click.ParamType


class DateType(_DateBase):
    """An ISO date, YYYY-MM-DD."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (use YYYY-MM-DD)", param, ctx)


class DateTimeType(_DateTimeBase):
    """An ISO timestamp; one without an offset is taken as UTC."""

    name = "ISO-TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            parsed = value
        else:
            try:
                parsed = dt.datetime.fromisoformat(str(value))
            except ValueError:
                self.fail(f"{value!r} is not an ISO time (e.g. 2026-11-23T12:00:00+00:00)", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class DayType(_DateBase):
    """A date, or one relative to --now: today, tomorrow, yesterday, +7d, -3d."""

    name = "DATE"
    _WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dt.date | RelativeDay):
            return value
        text = str(value).strip().lower()
        if text in self._WORDS:
            return RelativeDay(self._WORDS[text])
        if len(text) > 2 and text[0] in "+-" and text.endswith("d") and text[1:-1].isdigit():
            return RelativeDay(int(text[:-1]))
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not a date (use YYYY-MM-DD, today, or +Nd)", param, ctx)


class RelativeDay:
    """A day counted from the command's --now, in the deployment's timezone."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def on(self, now: dt.datetime, timezone: str) -> dt.date:
        """The date this stands for, seen from `now` in `timezone`."""
        return now.astimezone(ZoneInfo(timezone)).date() + dt.timedelta(days=self.offset)


def resolve_day(value: dt.date | RelativeDay | None, now: dt.datetime, timezone: str) -> dt.date | None:
    """Turn a DAY option's value into a date."""
    return value.on(now, timezone) if isinstance(value, RelativeDay) else value


class TextType(_TextBase):
    """Text bound for a column: no control characters, no longer than the column holds.

    The same checks as the claims file (tracker.textrules), so that the CLI cannot store
    what an import would refuse, and both database backends take the same values.
    """

    name = "TEXT"

    def __init__(self, column: InstrumentedAttribute[Any] | None = None, *, multiline: bool = False) -> None:
        self.column = column
        self.multiline = multiline

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if problem := textrules.check_text(text, self.column, multiline=self.multiline):
            self.fail(problem, param, ctx)
        return text


class EmailType(_TextBase):
    """An e-mail address, checked as the claims file checks it."""

    name = "EMAIL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        address = str(value).strip()
        if problem := textrules.check_email(address):
            self.fail(problem, param, ctx)
        return address


class VerdictType(_TextBase):
    """A verdict word in any case, with '_' or a space for '-'; a typo gets the nearest word.

    The same for a promise's progress status (`PROGRESS`).
    """

    def __init__(self, words: tuple[str, ...] = ALL_VERDICTS, what: str = "verdict") -> None:
        self.words = words
        self.what = what
        self.name = what.upper().replace(" ", "-")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        word = textrules.normalise_verdict(str(value))
        if word not in self.words:
            hint = did_you_mean(word, list(self.words)) or f" (one of {', '.join(self.words)})"
            self.fail(f"{value!r} is not a {self.what}{hint}", param, ctx)
        return word


DATE = DateType()
DAY = DayType()
DATETIME = DateTimeType()
TEXT = TextType()  # one line of free text, any length
LONG_TEXT = TextType(multiline=True)  # statements, quotes, criteria, notes
EMAIL = EmailType()
VERDICT = VerdictType()
PROGRESS = VerdictType(PROGRESS_STATUSES, "progress status")


def json_option(func: F) -> F:
    """--json: print machine-readable JSON instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def now_option(func: F) -> F:
    """--now: the current time, so that time-dependent commands can be replayed and tested."""
    return click.option(
        "--now",
        type=DATETIME,
        default=None,
        help="Act as if it were this time (ISO 8601; default: the real time).",
    )(func)


def resolve_now(now: dt.datetime | None) -> dt.datetime:
    """The --now value, or the real current time."""
    return now or utcnow()
