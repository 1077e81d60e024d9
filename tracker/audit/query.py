"""Reading the audit log: filters by claim, person and period, pages of entries, and CSV.

The period is in UTC days, inclusive at both ends: "from 2026-11-01 to 2026-11-30" is
November as the log's UTC timestamps have it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tracker.audit.models import AuditEntry

PAGE_SIZE = 50
CSV_COLUMNS = ("id", "at", "actor", "actor_id", "interface", "action", "entity", "key", "before", "after")
# A cell a spreadsheet would run as a formula (=HYPERLINK(...) typed as a handle at sign-in).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Filters:
    """Which entries to show; empty fields do not filter."""

    claim: str = ""
    person: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """`stmt` narrowed to the entries these filters keep."""
        if self.claim:
            stmt = stmt.where(AuditEntry.entity == "claim", AuditEntry.entity_key == self.claim)
        if self.person:
            stmt = stmt.where(AuditEntry.actor == self.person)
        if self.since is not None:
            stmt = stmt.where(AuditEntry.at >= _midnight(self.since))
        if self.until is not None:
            stmt = stmt.where(AuditEntry.at < _midnight(self.until + dt.timedelta(days=1)))
        return stmt

    def query(self) -> dict[str, str]:
        """The filters as URL query arguments (for the CSV link and the pager)."""
        values = {
            "claim": self.claim,
            "person": self.person,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
        }
        return {name: value for name, value in values.items() if value}


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def parse_filters(args: Mapping[str, str]) -> tuple[Filters, dict[str, str]]:
    """Filters from query arguments (claim, person, from, to), and a problem per bad field."""
    problems: dict[str, str] = {}
    days: dict[str, dt.date | None] = {}
    for name in ("from", "to"):
        raw = (args.get(name) or "").strip()
        try:
            days[name] = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            days[name] = None
            problems[name] = f"{raw!r} is not a date (YYYY-MM-DD)"
    since, until = days["from"], days["to"]
    if since is not None and until is not None and until < since:
        problems["to"] = "the period ends before it begins"
    filters = Filters(
        claim=(args.get("claim") or "").strip()[:320],
        person=(args.get("person") or "").strip()[:320],
        since=since,
        until=until,
    )
    return filters, problems


@dataclass(frozen=True)
class Page:
    """One page of entries, newest first."""

    entries: list[AuditEntry]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def entries_page(session: Session, filters: Filters, number: int, size: int = PAGE_SIZE) -> Page:
    """Page `number` (from 1) of the entries the filters keep, newest first."""
    total = session.scalar(filters.apply(select(func.count()).select_from(AuditEntry))) or 0
    number = min(max(1, number), max(1, -(-total // size)))
    stmt = filters.apply(select(AuditEntry)).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    entries = list(session.scalars(stmt.offset((number - 1) * size).limit(size)))
    return Page(entries, number, total, size)


def people(session: Session) -> list[str]:
    """Everyone the log names as an actor, for the person filter's choices."""
    return list(session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    # Neutralised as OWASP advises: the quote shows, and the cell stays text.
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_lines(session: Session, filters: Filters) -> Iterator[str]:
    """The entries the filters keep as CSV, a header first, oldest first, one line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(list(CSV_COLUMNS))
    stmt = filters.apply(select(AuditEntry)).order_by(AuditEntry.at, AuditEntry.id)
    for entry in session.scalars(stmt.execution_options(yield_per=1000)):
        yield line(
            [
                _cell(v)
                for v in (
                    entry.id,
                    entry.at,
                    entry.actor,
                    entry.actor_id,
                    entry.interface,
                    entry.action,
                    entry.entity,
                    entry.entity_key,
                    entry.before,
                    entry.after,
                )
            ]
        )
