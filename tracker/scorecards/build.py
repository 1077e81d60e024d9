"""Build the static site: one page per source, the index in several orders, and an Atom feed.

Claims are streamed a chunk of sources at a time (`iter_claims_by_source`), each page
is rendered and written as soon as its claims are read, and only a small summary per
source is kept for the index. The manifest (see `manifest`) makes rebuilds
incremental: a source's page is rendered again only when something it shows changed.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.errors import NotFound
from tracker.scorecards.data import SourceRecord, iter_claims_by_source, load_sources, split_scored
from tracker.scorecards.index import ORDERINGS, Index
from tracker.scorecards.lookups import recent_resolutions, reviewers_digest, sources_with_claims
from tracker.scorecards.manifest import Manifest, PageEntry, digest
from tracker.scorecards.page import Link, Summary, source_page
from tracker.scorecards.render import (
    FEED_SIZE,
    STYLESHEET,
    build_signature,
    environment,
    feed_entry,
    rfc3339,
    templates_dir,
)
from tracker.scoring import (
    AUTO_DISTINCT_LIMIT,
    BRIER_CONVENTION,
    MIN_SAMPLE,
    SELECTION_NOTE,
    ScoredFact,
    ScoredPrediction,
)
from tracker.services.deadlines import local_today
from tracker.services.lookup import did_you_mean

SOURCES_DIR = "sources"


@dataclass
class BuildResult:
    """What a build did: files written (relative to the output folder, sorted) and what it left alone."""

    written: list[Path]
    unchanged: int  # source pages that were current and not rewritten
    sources: int  # source pages on the site
    claims: int  # claims on those pages
    deleted: list[Path] = field(default_factory=list)  # pages of sources that no longer have claims

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return {
            "written": [p.as_posix() for p in self.written],
            "unchanged": self.unchanged,
            "sources": self.sources,
            "claims": self.claims,
            "deleted": [p.as_posix() for p in self.deleted],
        }


def page_path(slug: str) -> str:
    """Where a source's page lives, relative to the site's root."""
    return f"{SOURCES_DIR}/{slug}.html"


class _Family:
    """Who belongs to whom: members of each source, and the relatives a page names."""

    def __init__(self, sources: Sequence[SourceRecord]) -> None:
        self.by_id = {s.id: s for s in sources}
        self.members: dict[int, list[SourceRecord]] = defaultdict(list)
        for s in sources:  # already in slug order
            if s.parent_id is not None and s.parent_id != s.id and s.parent_id in self.by_id:
                self.members[s.parent_id].append(s)

    def parent(self, source: SourceRecord) -> SourceRecord | None:
        """The source this one belongs to, if any."""
        if source.parent_id is None or source.parent_id == source.id:
            return None
        return self.by_id.get(source.parent_id)

    def meta(self, source: SourceRecord, parent_has_page: bool) -> str:
        """A hash of what the page shows about the source and its relatives, beyond its own claims."""
        parent = self.parent(source)
        relatives = [f"{m.id}:{m.slug}:{m.name}:{m.revision}" for m in self.members.get(source.id, ())]
        return digest(
            source.slug,
            source.name,
            source.kind,
            source.url or "",
            source.notes or "",
            f"{parent.slug}:{parent.name}:{parent_has_page}" if parent else "",
            *relatives,
        )

    def children_first(self, ids: Iterable[int]) -> list[int]:
        """`ids` in families: each source right after its members, whose records it adds up.

        Walking from the top of each family keeps a family together, so the members'
        records wait in memory only until their outlet comes, a few sources later.
        """
        wanted = set(ids)

        def is_top(i: int) -> bool:
            parent = self.parent(self.by_id[i])
            return parent is None or parent.id not in wanted

        order: list[int] = []
        done: set[int] = set()
        by_slug = sorted(wanted, key=lambda i: self.by_id[i].slug)
        # Tops first; a membership cycle has none, so its sources come in a second pass.
        for root in [i for i in by_slug if is_top(i)] + by_slug:
            stack: list[tuple[int, bool]] = [(root, False)]
            on_path: set[int] = set()
            while stack:
                node, expanded = stack.pop()
                if node in done:
                    continue
                if expanded:
                    done.add(node)
                    order.append(node)
                    continue
                on_path.add(node)  # guards against a membership cycle
                stack.append((node, True))
                for m in reversed(self.members.get(node, ())):
                    if m.id in wanted and m.id not in done and m.id not in on_path:
                        stack.append((m.id, False))
        return order


class _Builder:
    """One build: the state shared while pages are rendered."""

    def __init__(self, session: Session, out_dir: Path, settings: Settings, now: dt.datetime) -> None:
        self.session, self.out_dir, self.settings, self.now = session, out_dir, settings, now
        self.env = environment(templates_dir())
        self.timezone = settings.timezone
        self.today = local_today(self.timezone, now)
        self._days: dict[str, dt.date] = {}
        self.written: list[str] = []  # paths as text until the end: ten thousand Paths add up
        self.deleted: list[Path] = []

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


def build_site(
    session: Session,
    out_dir: Path,
    *,
    settings: Settings,
    now: dt.datetime,
    source: str | None = None,
    full: bool = False,
) -> BuildResult:
    """Build (or bring up to date) the scorecard site in `out_dir`; `source` limits it to one page."""
    # The build allocates millions of short-lived, acyclic objects; the cycle collector would
    # scan them over and over for nothing (a third of the time on a large site).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(session, Path(out_dir), settings=settings, now=now, source=source, full=full)
    finally:
        if was_enabled:
            gc.enable()


def _build(
    session: Session, out_dir: Path, *, settings: Settings, now: dt.datetime, source: str | None, full: bool
) -> BuildResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    b = _Builder(session, out_dir, settings, now)
    sources = load_sources(session)
    family = _Family(sources)
    targets = sources
    if source is not None:
        targets = [s for s in sources if s.slug == source]
        if not targets:
            raise NotFound(f"no source {source!r}{did_you_mean(source, [s.slug for s in sources])}")

    signature = build_signature(reviewers_digest(session), str(MIN_SAMPLE), settings.timezone)
    old = Manifest.load(out_dir)
    trusted = not full and old.signature == signature
    # An outlet has a page when it or any of its people has a claim; its people's pages link to it.
    related = [*family.members, *(m.id for members in family.members.values() for m in members)]
    with_claims = sources_with_claims(session, related)
    parents = {
        pid
        for pid, members in family.members.items()
        if pid in with_claims or any(m.id in with_claims for m in members)
    }
    metas = {s.id: family.meta(s, s.parent_id in parents) for s in sources}

    def stale(s: SourceRecord) -> bool:
        entry = old.pages.get(s.id)
        return (
            not trusted
            or entry is None
            or entry.revision != s.revision
            or entry.meta != metas[s.id]
            or not b.days_current(entry)
        )

    # Entries of sources that still exist carry over; pages of the vanished are deleted.
    pages: dict[int, PageEntry] = {}
    for sid, entry in old.pages.items():
        if sid not in family.by_id:
            if entry.path:
                b.delete(entry.path)
            continue
        if not trusted:
            entry.revision = -1  # built by other templates or code: stale until rebuilt
        pages[sid] = entry

    render = {s.id for s in targets if stale(s)}
    _render_pages(b, family, render, metas, parents, pages)

    on_site = [(e.summary, e.row) for e in pages.values() if e.path and e.summary and e.row]
    _write_index(b, on_site)
    _write_feed(b, session)
    files = _write_static(b, old.files)
    Manifest(signature=signature, pages=pages, files=files).save(out_dir)
    rendered = sum(1 for sid in render if pages[sid].path)
    return BuildResult(
        written=sorted(Path(p) for p in b.written),
        unchanged=len(on_site) - rendered,
        sources=len(on_site),
        claims=sum(summary.claims for summary, _ in on_site),
        deleted=sorted(b.deleted),
    )


def _render_pages(
    b: _Builder,
    family: _Family,
    render: set[int],
    metas: dict[int, str],
    parents: set[int],
    pages: dict[int, PageEntry],
) -> None:
    """Render the pages of `render`, streaming their claims (and their members', to add up)."""
    read = set(render)
    for sid in render:
        read.update(m.id for m in family.members.get(sid, ()))
    # Members' scoring records, kept until their outlet's page is rendered (members come first).
    pending: dict[int, tuple[list[ScoredPrediction], list[ScoredFact]]] = defaultdict(lambda: ([], []))
    has_claims: set[int] = set()
    page_template = b.env.get_template("scorecards/source.html")
    row_template = b.env.get_template("scorecards/_index_row.html")
    # A hundred sources a chunk: about ten thousand claims in memory at a time.
    for sid, claims in iter_claims_by_source(b.session, family.children_first(read), chunk=100):
        s = family.by_id[sid]
        parent = family.parent(s)
        if claims:
            has_claims.add(sid)
            if parent is not None and parent.id in render:
                predictions, facts = split_scored(claims)
                pending[parent.id][0].extend(predictions)
                pending[parent.id][1].extend(facts)
        if sid not in render:
            continue
        members = [m for m in family.members.get(sid, ()) if m.id in has_claims]
        previous = pages.get(sid)
        path = page_path(s.slug) if claims or members else None
        if previous is not None and previous.path and previous.path != path:
            b.delete(previous.path)
        if path is None:
            pages[sid] = PageEntry(s.slug, None, s.revision, metas[sid], {})
            continue
        page, summary = source_page(
            s,
            claims,
            parent=Link(parent.name, f"{parent.slug}.html") if parent and parent.id in parents else None,
            members=[Link(m.name, f"{m.slug}.html") for m in members],
            member_records=pending.pop(sid, None) if members else None,
            today=b.today,
            today_in=b.today_in,
            default_timezone=b.timezone,
        )
        b.write(path, page_template.render(page=page, root="../", **_site_text()))
        row = row_template.render(s=summary, href=path)
        days = {zone: b.today_in(zone).isoformat() for zone in page.timezones}
        pages[sid] = PageEntry(s.slug, path, s.revision, metas[sid], days, summary, row)


def _site_text() -> dict[str, Any]:
    return {
        "brier_convention": BRIER_CONVENTION,
        "selection_note": SELECTION_NOTE,
        "min_sample": MIN_SAMPLE,
        "auto_distinct_limit": AUTO_DISTINCT_LIMIT,
    }


def _write_index(b: _Builder, summaries: list[tuple[Summary, str]]) -> None:
    template = b.env.get_template("scorecards/index.html")
    index = Index(summaries)
    claims = sum(s.claims for s, _ in summaries)
    for ordering in ORDERINGS:
        # Streamed: an index of ten thousand sources is megabytes, better not held whole.
        pieces = template.generate(
            rows=index.rows(ordering),
            ordering=ordering,
            orderings={o.column: o for o in ORDERINGS},
            n_sources=len(summaries),
            n_claims=claims,
            today=b.today,
            root="",
            **_site_text(),
        )
        b.write(ordering.file, pieces)


def _write_feed(b: _Builder, session: Session) -> None:
    entries = [feed_entry(e) for e in recent_resolutions(session, FEED_SIZE)]
    updated = max((e.updated for e in entries), default=rfc3339(b.now))
    template = b.env.get_template("scorecards/feed.xml")
    b.write("feed.xml", template.render(entries=entries, updated=updated))


def _write_static(b: _Builder, previous: dict[str, str]) -> dict[str, str]:
    """Copy the stylesheet when it changed or is missing; the manifest keeps its hash."""
    css = (templates_dir() / STYLESHEET).read_text(encoding="utf-8")
    key = digest(css)
    if previous.get("style.css") != key or not (b.out_dir / "style.css").is_file():
        b.write("style.css", css)
    return {"style.css": key}
