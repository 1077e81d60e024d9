"""Rendering a unit of sources' pages: the work a build does itself or hands to its workers.

A build first decides what to render (`Plan`), then cuts the sources into units that never
split a family (`Family.units`). Each unit is read, rendered and written by `render_unit`,
in the build's own process or in a worker (`tracker.scorecards.parallel`): the two paths run
the same code, so a page is the same byte for byte whichever process wrote it.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.files import is_temporary, write_temporary
from tracker.scorecards.data import SourceRecord, iter_claims_by_source, split_scored
from tracker.scorecards.family import Family, MemberRecords, with_members
from tracker.scorecards.manifest import MANIFEST_NAME, PageEntry, Stamp, digest_bytes
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
    """Where pages go, and the clock and settings they are rendered with.

    Nothing is written in place: every file goes to a temporary file beside its target
    (`staged`), and pages to delete are only noted, until the build has written all of
    them and `commit` renames them into place. A build killed or short of disk space
    before that leaves the site as it was.
    """

    out_dir: Path
    settings: Settings
    now: dt.datetime
    written: list[str] = field(default_factory=list)  # paths as text: ten thousand Paths add up
    deleted: list[Path] = field(default_factory=list)
    staged: list[tuple[str, str]] = field(default_factory=list)  # (temporary file, target), relative

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

    def intact(self, entry: PageEntry) -> bool:
        """Whether a page is on disk as the build that recorded `entry` wrote it."""
        return entry.path is None or (
            entry.file is not None and entry.file.matches(self.out_dir / entry.path)
        )

    def write(self, relative: str, text: str | Iterable[str]) -> Stamp | None:
        """Stage one file of the site (a string, or pieces streamed from a template) and note it.

        A string's file is stamped (see `Stamp`) for the manifest.
        """
        path = self.out_dir / relative
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        # Not fsynced, one by one: that would cost more than rendering a page. The manifest
        # that is renamed last is; a page the power cut short fails its stamp next time.
        data = text.encode("utf-8") if isinstance(text, str) else text
        temporary = write_temporary(path, data, sync=False)
        # Beside its target: relative to the site as the target is (the folder may be given relative).
        self.staged.append(((Path(relative).parent / temporary.name).as_posix(), relative))
        self.written.append(relative)
        if isinstance(data, bytes):
            return Stamp(len(data), temporary.stat().st_mtime_ns, digest_bytes(data))
        return None

    def delete(self, relative: str) -> None:
        """Note a page to remove (it no longer has a source, or moved) when the build commits."""
        self.deleted.append(Path(relative))

    def commit(self) -> None:
        """Put every staged file in place and remove the pages to delete."""
        staged = {target for _, target in self.staged}
        for path in self.deleted:
            # A page that moved away from a name another page now takes is replaced, not deleted.
            if path.as_posix() not in staged:
                (self.out_dir / path).unlink(missing_ok=True)
        for temporary, target in self.staged:
            os.replace(self.out_dir / temporary, self.out_dir / target)
        self.staged.clear()

    def abort(self) -> None:
        """Remove the staged files, and any a killed build left (this build holds the folder's lock)."""
        self.staged.clear()
        clear_temporaries(self.out_dir)


SHARED_PREFIXES = (".index", ".feed.xml.", ".style.css.", f".{MANIFEST_NAME}.")
"""The temporary files of a build's shared files: other tools may write into the site's folder."""


def clear_temporaries(out_dir: Path) -> None:
    """Remove the temporary files of builds that never finished in the site `out_dir`."""
    for folder, prefixes in ((out_dir, SHARED_PREFIXES), (out_dir / SOURCES_DIR, (".",))):
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            name = entry.name
            if is_temporary(name) and name.startswith(prefixes) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)


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
            with_members=with_members(records or ([], [], []), gathered.take(sid)) if members else None,
            records=records,
            today=out.today,
            today_in=out.today_in,
            default_timezone=out.timezone,
            site_url=out.settings.site_url,
        )
        stamp = out.write(path, page_template.render(page=page, root="../", **site_text()))
        row = row_template.render(s=summary, href=path, people=len(members))
        days = {zone: out.today_in(zone).isoformat() for zone in page.timezones}
        entries[sid] = PageEntry(s.slug, path, s.revision, plan.metas[sid], days, summary, row, stamp)
    # A build runs with the cycle collector off (see build_site); the few cycles a unit leaves
    # (SQLAlchemy's results, Jinja's contexts) would pile up over a long build, and the young
    # generations hold just this unit's.
    gc.collect(1)
    return entries
