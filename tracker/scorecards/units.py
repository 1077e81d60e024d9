"""Rendering a unit of sources' pages: the work a build does itself or hands to its workers.

A build first decides what to render (`Plan`), then cuts the sources into units that never
split a family (`Family.units`). Each unit is read, rendered and written by `render_unit`,
in the build's own process or in a worker (`tracker.scorecards.parallel`): the two paths run
the same code, so a page is the same byte for byte whichever process wrote it.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.scorecards.data import SourceRecord, iter_claims_by_source, split_scored
from tracker.scorecards.family import Family, MemberRecords, with_members
from tracker.scorecards.manifest import PageEntry
from tracker.scorecards.page import Link, source_page
from tracker.scoring import (
    AUTO_DISTINCT_LIMIT,
    BRIER_CONVENTION,
    MIN_SAMPLE,
    SELECTION_NOTE,
)
from tracker.services.deadlines import local_today
from tracker.templating import make_environment

SOURCES_DIR = "sources"
UNIT_SOURCES = 50
"""Sources per unit: about five thousand claims in memory at a time, per process, on a large site."""


def page_path(slug: str) -> str:
    """Where a source's page lives, relative to the site's root."""
    return f"{SOURCES_DIR}/{slug}.html"


def site_text() -> dict[str, Any]:
    """The fixed explanations every page prints."""
    return {
        "brier_convention": BRIER_CONVENTION,
        "selection_note": SELECTION_NOTE,
        "min_sample": MIN_SAMPLE,
        "auto_distinct_limit": AUTO_DISTINCT_LIMIT,
    }


@dataclass(frozen=True)
class Plan:
    """What a build decided before rendering; every unit (and worker) reads it, none changes it."""

    sources: tuple[SourceRecord, ...]  # every source, by slug
    render: frozenset[int]  # the sources whose pages are rendered
    metas: dict[int, str]  # source id -> Family.meta
    parents: frozenset[int]  # outlets that have a page (their people's pages link to them)
    previous: dict[int, str | None]  # source id -> where the last build put its page


@dataclass
class Output:
    """Where pages go, and the clock and settings they are rendered with."""

    out_dir: Path
    settings: Settings
    now: dt.datetime
    written: list[str] = field(default_factory=list)  # paths as text: ten thousand Paths add up
    deleted: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Built from the settings, so that a worker process draws with the same templates.
        self.env = make_environment(self.settings)
        self.timezone = self.settings.timezone
        self.today = local_today(self.timezone, self.now)
        self._days: dict[str, dt.date] = {}

    def today_in(self, timezone: str | None) -> dt.date:
        """Today's date where a deadline is read (cached: a site has few timezones)."""
        zone = timezone or self.timezone
        found = self._days.get(zone)
        if found is None:
            found = self._days[zone] = local_today(zone, self.now)
        return found

    def days_current(self, entry: PageEntry) -> bool:
        """Whether the dates a page counted its "days left" on are still today's."""
        return all(self.today_in(zone).isoformat() == day for zone, day in entry.days.items())

    def write(self, relative: str, text: str | Iterable[str]) -> None:
        """Write one file of the site (a string, or pieces streamed from a template) and note it."""
        path = self.out_dir / relative
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            if isinstance(text, str):
                out.write(text)
            else:
                out.writelines(text)
        self.written.append(relative)

    def delete(self, relative: str) -> None:
        """Remove a page that no longer has a source, and note it."""
        (self.out_dir / relative).unlink(missing_ok=True)
        self.deleted.append(Path(relative))


def render_unit(
    session: Session, out: Output, family: Family, unit: Sequence[int], plan: Plan
) -> dict[int, PageEntry]:
    """Render the pages of `plan.render` in `unit`, streaming their claims; their new entries.

    The unit's other sources are members of an outlet being rendered: they are read only
    for their records, which the outlet's page adds up (members come first).
    """
    render = plan.render
    gathered = MemberRecords(family, render)
    has_claims: set[int] = set()
    entries: dict[int, PageEntry] = {}
    page_template = out.env.get_template("scorecards/source.html")
    row_template = out.env.get_template("scorecards/_index_row.html")
    for sid, claims in iter_claims_by_source(session, unit, chunk=UNIT_SOURCES):
        s = family.by_id[sid]
        parent = family.parent(s)
        # Each claim's scoring record is made once, for its own page and its outlet's.
        records = split_scored(claims) if claims else None
        if records is not None:
            has_claims.add(sid)
            gathered.add(s, records)
        if sid not in render:
            continue
        members = [m for m in family.members.get(sid, ()) if m.id in has_claims]
        previous = plan.previous.get(sid)
        path = page_path(s.slug) if claims or members else None
        if previous and previous != path:
            out.delete(previous)
        if path is None:
            entries[sid] = PageEntry(s.slug, None, s.revision, plan.metas[sid], {})
            continue
        page, summary = source_page(
            s,
            claims,
            parent=Link(parent.name, f"{parent.slug}.html") if parent and parent.id in plan.parents else None,
            members=[Link(m.name, f"{m.slug}.html") for m in members],
            with_members=with_members(records or ([], []), gathered.take(sid)) if members else None,
            records=records,
            today=out.today,
            today_in=out.today_in,
            default_timezone=out.timezone,
            site_url=out.settings.site_url,
        )
        out.write(path, page_template.render(page=page, root="../", **site_text()))
        row = row_template.render(s=summary, href=path, people=len(members))
        days = {zone: out.today_in(zone).isoformat() for zone in page.timezones}
        entries[sid] = PageEntry(s.slug, path, s.revision, plan.metas[sid], days, summary, row)
    # A build runs with the cycle collector off (see build_site); the few cycles a unit leaves
    # (SQLAlchemy's results, Jinja's contexts) would pile up over a long build, and the young
    # generations hold just this unit's.
    gc.collect(1)
    return entries
