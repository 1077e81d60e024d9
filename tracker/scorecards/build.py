"""Build the static site: one page per source, the index in several orders, and an Atom feed.

A build decides which pages are stale (the manifest, see `manifest`, makes rebuilds
incremental: a page is rendered again only when something it shows changed), then
renders them a unit of sources at a time (`units`): claims are streamed, each page is
written as soon as its claims are read, and only a small summary per source is kept for
the index. A build with many pages renders its units in worker processes (`parallel`).

Every file goes to a temporary file beside its target; only when all are written are they
renamed into place, the manifest last. A build that is killed or runs out of disk space
leaves the site as it was, and the manifest never records a page that is not in place.
"""

from __future__ import annotations

import datetime as dt
import gc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.errors import NotFound, TrackerError
from tracker.scorecards import parallel
from tracker.scorecards.data import SourceRecord, load_sources
from tracker.scorecards.family import Family
from tracker.scorecards.feed import FEED_FILE, FEED_SIZE, feed_entries, feed_id, rfc3339, site_link
from tracker.scorecards.index import ORDERINGS, Index
from tracker.scorecards.lookups import (
    first_source,
    recent_resolutions,
    reviewers_digest,
    sources_with_claims,
)
from tracker.scorecards.manifest import MANIFEST_NAME, Manifest, PageEntry, digest
from tracker.scorecards.page import Summary
from tracker.scorecards.render import STYLESHEET, build_signature
from tracker.scorecards.units import (
    UNIT_SOURCES,
    Output,
    Plan,
    clear_temporaries,
    page_path,
    render_unit,
    site_text,
)
from tracker.scoring import MIN_SAMPLE
from tracker.services.lookup import did_you_mean
from tracker.textrules import printable

__all__ = ["BuildResult", "build_site", "page_path"]

LOCK_NAME = ".tracker-build.lock"
"""Held in the site folder while a build writes it: two builds never interleave their files."""
LOCK_WAIT = 600.0
"""Seconds a build waits for another one writing the same folder."""


@dataclass
class BuildResult:
    """What a build did: files written (relative to the output folder, sorted) and what it left alone."""

    written: list[Path]
    unchanged: int  # source pages that were current and not rewritten
    sources: int  # source pages on the site
    claims: int  # claims on those pages
    deleted: list[Path] = field(default_factory=list)  # pages of sources that no longer have claims
    processes: int = 1  # processes that rendered pages (see `jobs`)

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return {
            "written": [p.as_posix() for p in self.written],
            "unchanged": self.unchanged,
            "sources": self.sources,
            "claims": self.claims,
            "deleted": [p.as_posix() for p in self.deleted],
            "processes": self.processes,
        }


def build_site(
    session: Session,
    out_dir: Path,
    *,
    settings: Settings,
    now: dt.datetime,
    source: str | None = None,
    full: bool = False,
    jobs: int | None = None,
    lock_wait: float = LOCK_WAIT,
) -> BuildResult:
    """Build (or bring up to date) the scorecard site in `out_dir`; `source` limits it to one page.

    `jobs` is how many processes render pages (0: one per CPU; None: `settings.report.jobs`).
    Workers are used only for a build with many pages to render, on a database other
    processes can open. One build at a time writes a folder: another waits up to
    `lock_wait` seconds for it, then gives up with a TrackerError.
    """
    out_dir = Path(out_dir)
    lock = FileLock(out_dir / LOCK_NAME)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=lock_wait)
    except Timeout:
        raise TrackerError(
            f"{out_dir}: another build has been writing this site for {lock_wait:g} s; try again when it is done"
        ) from None
    except OSError as exc:
        raise TrackerError(f"{out_dir}: cannot write the site: {exc.strerror or exc}") from exc
    # The build allocates millions of short-lived, acyclic objects; the cycle collector would
    # scan them over and over for nothing (a third of the time on a large site).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(
            session,
            out_dir,
            settings=settings,
            now=now,
            source=source,
            full=full,
            jobs=parallel.resolve_jobs(settings.report.jobs if jobs is None else jobs),
        )
    finally:
        if was_enabled:
            gc.enable()
        lock.release()


def _build(
    session: Session,
    out_dir: Path,
    *,
    settings: Settings,
    now: dt.datetime,
    source: str | None,
    full: bool,
    jobs: int,
) -> BuildResult:
    out = Output(out_dir, settings, now)
    # What a killed build left: this one holds the lock, so no other is writing them.
    clear_temporaries(out_dir)
    try:
        result = _stage(session, out, source=source, full=full, jobs=jobs)
    except OSError as exc:
        out.abort()
        raise TrackerError(
            f"{out_dir}: cannot write the site: {exc.strerror or exc}; "
            "the site was left as it was before the build"
        ) from exc
    except BaseException:
        out.abort()
        raise
    try:
        out.commit()
    except OSError as exc:
        out.abort()
        raise TrackerError(
            f"{out_dir}: cannot put the new pages in place: {exc.strerror or exc}; "
            "the site is partly updated, and the next build completes it"
        ) from exc
    return result


def _stage(session: Session, out: Output, *, source: str | None, full: bool, jobs: int) -> BuildResult:
    """Render and write every file of the build to temporary files, the manifest last; what it did."""
    out_dir, settings = out.out_dir, out.settings
    sources = load_sources(session)
    family = Family(sources)
    targets = sources
    if source is not None:
        targets = [s for s in sources if s.slug == source]
        if not targets:
            raise NotFound(f"no source {source!r}{did_you_mean(source, [s.slug for s in sources])}")

    signature = build_signature(
        settings.templates_dir,
        reviewers_digest(session),
        str(MIN_SAMPLE),
        settings.timezone,
        settings.site_url or "",
    )
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
            or not out.days_current(entry)
            or not out.intact(entry)  # lost, cut short or changed since it was written
        )

    # Entries of sources that still exist carry over; pages of the vanished are deleted.
    pages: dict[int, PageEntry] = {}
    for sid, entry in old.pages.items():
        if sid not in family.by_id:
            if entry.path:
                out.delete(entry.path)
            continue
        if not trusted:
            entry.revision = -1  # built by other templates or code: stale until rebuilt
        pages[sid] = entry

    render = frozenset(s.id for s in targets if stale(s))
    plan = Plan(
        sources=tuple(sources),
        render=render,
        metas=metas,
        parents=frozenset(parents),
        previous={sid: pages[sid].path for sid in render if sid in pages},
    )
    processes = _render_pages(session, out, family, plan, jobs, pages)

    on_site = [(e.summary, e.row) for e in pages.values() if e.path and e.summary and e.row]
    _write_index(out, on_site)
    _write_feed(out, session)
    files = _write_static(out, old.files)
    # Staged last, so renamed last: it never records a page that is not in place.
    manifest = Manifest(signature=signature, pages=pages, files=files).stage(out_dir)
    out.staged.append((manifest.name, MANIFEST_NAME))
    rendered = sum(1 for sid in render if pages[sid].path)
    return BuildResult(
        written=sorted(Path(p) for p in out.written),
        unchanged=len(on_site) - rendered,
        sources=len(on_site),
        claims=sum(summary.claims for summary, _ in on_site),
        deleted=sorted(out.deleted),
        processes=processes,
    )


def _render_pages(
    session: Session, out: Output, family: Family, plan: Plan, jobs: int, pages: dict[int, PageEntry]
) -> int:
    """Render the planned pages (reading their members too, to add up), here or with workers too.

    Returns how many processes rendered pages.
    """
    read = set(plan.render)
    for sid in plan.render:
        read.update(m.id for m in family.members.get(sid, ()))
    units = family.units(read, UNIT_SOURCES)
    url = session.get_bind().engine.url
    if jobs > 1 and len(units) > 1 and len(plan.render) >= parallel.MIN_PAGES and parallel.shareable(url):
        renderers: set[int] = set()
        for entries, written, deleted, staged, pid in parallel.render_units(
            session, out, family, units, plan, jobs=jobs
        ):
            pages.update(entries)
            out.written.extend(written)
            out.deleted.extend(deleted)
            out.staged.extend(staged)
            renderers.add(pid)
        return len(renderers)
    for unit in units:
        pages.update(render_unit(session, out, family, unit, plan))
    return 1


def _write_index(out: Output, summaries: list[tuple[Summary, str]]) -> None:
    template = out.env.get_template("scorecards/index.html")
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
            today=out.today,
            root="",
            **site_text(),
        )
        out.write(ordering.file, pieces)


def _write_feed(out: Output, session: Session) -> None:
    site_url = out.settings.site_url
    feed = feed_id(site_url, first_source(session))
    entries = feed_entries(recent_resolutions(session, FEED_SIZE), feed=feed, site_url=site_url)
    updated = max((e.updated for e in entries), default=rfc3339(out.now))
    template = out.env.get_template("scorecards/feed.xml")
    page = template.render(
        feed_id=feed,
        self_href=site_link(site_url, FEED_FILE),
        home_href=site_link(site_url, "index.html"),
        entries=entries,
        updated=updated,
    )
    # printable(): text stored before input was checked may hold characters XML forbids.
    out.write(FEED_FILE, printable(page))


def _write_static(out: Output, previous: dict[str, str]) -> dict[str, str]:
    """Copy the stylesheet when it changed or is missing; the manifest keeps its hash."""
    # Through the loader, so that a stylesheet in templates_dir replaces the packaged one.
    loader = out.env.loader
    assert loader is not None
    css, _, _ = loader.get_source(out.env, STYLESHEET)
    key = digest(css)
    if previous.get("style.css") != key or not (out.out_dir / "style.css").is_file():
        out.write("style.css", css)
    return {"style.css": key}
