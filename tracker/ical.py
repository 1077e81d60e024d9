"""Open predictions' deadlines as an iCalendar file that reviewers can subscribe to.

Each open prediction is one all-day event on its deadline. The UID is the claim's
(`<claim id>-deadline@tracker`), so it stays the same across runs and a calendar
updates the event in place; SEQUENCE is the criteria version minus one, so revising
the deadline or the criteria (`tracker claims revise`) makes subscribed calendars
replace the old event instead of keeping both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration
from sqlalchemy import func, not_, select
from sqlalchemy.orm import Session, selectinload

from tracker import __version__
from tracker.models import (
    DEADLINE_KINDS,
    VERDICT_SCALES,
    Claim,
    ClaimKind,
    ClaimStatus,
    CriteriaVersion,
    Reviewer,
)
from tracker.reminders.store import answered
from tracker.rules import VERDICTS_WITHOUT_EVIDENCE
from tracker.services import get_reviewer
from tracker.textrules import printable

PRODID = f"-//tracker//tracker {__version__}//EN"
SUMMARY_WIDTH = 100


@dataclass(frozen=True, slots=True)
class Deadline:
    """What one calendar event shows about one open prediction or promise."""

    key: str
    statement: str
    criteria: str
    deadline: dt.date
    window_start: dt.date | None
    timezone: str  # where the deadline is read: the claim's own, else tracker's default
    timezone_stated: bool
    source: str
    made_on: dt.date
    quote: str
    confidence: str | None
    probability: float | None
    article_url: str | None
    article_title: str | None
    tags: tuple[str, ...]
    reviewers: tuple[str, ...]
    version: int  # the criteria version: 1 until the criteria or deadline are revised
    revised_at: dt.datetime | None
    kind: str = ClaimKind.PREDICTION.value

    @property
    def uid(self) -> str:
        """The event's UID: one per claim, whatever its deadline."""
        return f"{self.key}-deadline@tracker"

    @property
    def ends_at(self) -> dt.datetime:
        """The instant the deadline day is over where it is read, in UTC."""
        midnight = dt.datetime.combine(
            self.deadline + dt.timedelta(days=1), dt.time(), ZoneInfo(self.timezone)
        )
        return midnight.astimezone(dt.UTC)


def open_deadlines(
    session: Session, *, reviewer: str | None = None, default_timezone: str = "UTC"
) -> list[Deadline]:
    """The deadlines of open predictions and promises (assigned to `reviewer`, if given), soonest first."""
    latest = (
        select(
            CriteriaVersion.claim_id,
            func.max(CriteriaVersion.version).label("version"),
            func.max(CriteriaVersion.recorded_at).label("revised_at"),
        )
        .group_by(CriteriaVersion.claim_id)
        .subquery()
    )
    stmt = (
        select(Claim, latest.c.version, latest.c.revised_at)
        .outerjoin(latest, latest.c.claim_id == Claim.id)
        .where(
            Claim.kind.in_(DEADLINE_KINDS),
            # A claim awaiting its second verdict stays due for those who have not given one.
            Claim.status.in_((ClaimStatus.OPEN.value, ClaimStatus.AWAITING.value)),
            Claim.deadline.is_not(None),
        )
        .options(
            selectinload(Claim.source),
            selectinload(Claim.appearance),
            selectinload(Claim.tags),
            selectinload(Claim.reviewers),
        )
        .order_by(Claim.deadline, Claim.key)
    )
    if reviewer is not None:
        found = get_reviewer(session, reviewer)
        stmt = stmt.where(Claim.reviewers.any(Reviewer.id == found.id), not_(answered(Claim.id, found.id)))
    deadlines = []
    for claim, version, revised_at in session.execute(stmt):
        assert claim.deadline is not None
        deadlines.append(
            Deadline(
                key=claim.key,
                statement=claim.statement,
                criteria=claim.criteria or "",
                deadline=claim.deadline,
                window_start=claim.window_start,
                timezone=claim.timezone or default_timezone,
                timezone_stated=claim.timezone is not None,
                source=claim.source.name,
                made_on=claim.made_on,
                quote=claim.quote,
                confidence=claim.confidence,
                probability=claim.probability,
                article_url=claim.appearance.url if claim.appearance else None,
                article_title=claim.appearance.title if claim.appearance else None,
                tags=tuple(claim.tag_names),
                reviewers=tuple(r.handle for r in claim.reviewers),
                version=version or 1,
                revised_at=revised_at,
                kind=claim.kind,
            )
        )
    return deadlines


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _forecast(item: Deadline) -> str:
    if item.probability is None:
        return f"{item.confidence} (a hedge with no probability: not scored)"
    percent = f"{item.probability:.0%}"
    return f"{item.confidence} ({percent})" if item.confidence else percent


def description(item: Deadline, by: str | None = None) -> str:
    """The event's text: the statement, the criteria, the source and how to resolve it."""
    zone = item.timezone if item.timezone_stated else f"{item.timezone} (tracker's default timezone)"
    ends = item.ends_at.strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        item.statement,
        "",
        f"Resolution criteria (version {item.version}): {item.criteria}",
        f"Deadline: the end of {item.deadline.isoformat()} in {zone}, that is {ends}.",
    ]
    if item.window_start is not None:
        lines.append(f"Window: it counts from {item.window_start.isoformat()}.")
    lines += [
        f'Source: {item.source}, on {item.made_on.isoformat()}: "{item.quote}"',
        # A promise is kept or broken, never forecast.
        "Promise: kept, compromise or broken"
        if item.kind == ClaimKind.PROMISE
        else f"Forecast: {_forecast(item)}",
    ]
    if item.article_url:
        title = f"{item.article_title} " if item.article_title else ""
        lines.append(f"Article: {title}<{item.article_url}>")
    lines.append(f"Reviewers: {', '.join(item.reviewers) or 'none assigned'}")
    if item.tags:
        lines.append(f"Tags: {', '.join(item.tags)}")
    scale = VERDICT_SCALES[ClaimKind(item.kind)]
    free = [v for v in scale if v in VERDICTS_WITHOUT_EVIDENCE]
    without_url = f" ({' and '.join(free)} need no URL)" if free else ""
    lines += [
        "",
        "Resolve it with:",
        f"tracker resolve {item.key} --verdict VERDICT --evidence URL --by {by or 'HANDLE'}",
        f"where VERDICT is one of {', '.join(scale)}{without_url}.",
    ]
    return "\n".join(lines)


def event(item: Deadline, now: dt.datetime, by: str | None = None) -> Event:
    """The all-day VEVENT for one deadline."""
    vevent = Event()
    vevent.add("uid", item.uid)
    vevent.add("dtstamp", now.astimezone(dt.UTC))
    vevent.add("sequence", item.version - 1)
    vevent.add("dtstart", item.deadline)
    vevent.add("dtend", item.deadline + dt.timedelta(days=1))  # DTEND of an all-day event is exclusive
    # printable(): text stored before input was checked may hold controls iCalendar forbids.
    vevent.add("summary", printable(f"Due: {_shorten(item.statement, SUMMARY_WIDTH)} ({item.key})"))
    vevent.add("description", printable(description(item, by)))
    vevent.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    if item.article_url:
        vevent.add("url", printable(item.article_url))
    if item.tags:
        vevent.add("categories", list(item.tags))
    if item.revised_at is not None:
        vevent.add("last-modified", item.revised_at.astimezone(dt.UTC))
    return vevent


def build_calendar(deadlines: Sequence[Deadline], *, now: dt.datetime, reviewer: str | None = None) -> bytes:
    """The iCalendar file for `deadlines`, stamped `now` so that the same input gives the same bytes."""
    calendar = Calendar()
    name = f"tracker deadlines: {reviewer}" if reviewer else "tracker deadlines"
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    # Hints for subscribed calendars; the file changes whenever `tracker calendar` runs.
    # vDuration spelled out: icalendar before 6.1 would write an unknown property as text.
    calendar.add("refresh-interval", vDuration(dt.timedelta(hours=1)), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for item in deadlines:
        calendar.add_component(event(item, now, by=reviewer))
    data: bytes = calendar.to_ical()
    return data
