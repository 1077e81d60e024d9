"""Rendering a large site's pages in several processes.

Pages are independent once a build has made its `Plan`, and rendering is CPU-bound Python,
so a build with many pages to render hands its units to worker processes, each with its
own database connection. Workers are started with "spawn", not "fork": the scheduler that
calls the report has threads of its own, and a forked copy of a threaded process can
inherit a lock some other thread held.

Each worker reads in its own transaction, a moment after the build read the sources'
revisions. A write landing in between can only make a page newer than the revision the
manifest records for it, and the next build then renders that page again: a page is
never left older than the manifest says.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from tracker.config import Settings
from tracker.db import make_engine, make_session_factory
from tracker.scorecards.family import Family
from tracker.scorecards.manifest import PageEntry
from tracker.scorecards.units import Output, Plan, render_unit

MIN_PAGES = 200
"""Fewer pages than this render in the build's own process: starting workers costs more."""

UnitResult = tuple[dict[int, PageEntry], list[str], list[Path], list[tuple[str, str]], int]
"""What one unit did: its sources' new manifest entries, the files written and deleted, the
temporary files the build renames into place, and the id of the process that rendered it."""


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_jobs(jobs: int) -> int:
    """How many processes render pages for a `jobs` setting (0: one per CPU)."""
    return jobs if jobs > 0 else cpu_count()


def shareable(url: URL) -> bool:
    """Whether other processes can open the same database (an in-memory SQLite one they cannot)."""
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database not in ("", ":memory:") and not database.startswith("file::memory:")


@dataclass
class _Worker:
    """One worker process's state, made once when the process starts."""

    sessions: sessionmaker[Session]
    out: Output
    family: Family
    plan: Plan


# This worker process's state (set by `_start` in each worker; never used in the build's own).
_worker: _Worker | None = None


def _exit_with_parent() -> None:
    """End this worker as soon as the build that started it ends, however it ends.

    A build killed outright (kill -9, the OOM killer) cannot shut its pool down: its
    workers would wait on their task pipe for ever, each holding its memory, the database
    files and a connection. The parent's sentinel (a pipe the parent holds open) becomes
    readable when the parent is gone, whatever the platform.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)  # no cleanup to run: the build that wanted this work is gone

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start(url: str, out_dir: Path, settings: Settings, now: dt.datetime, plan: Plan) -> None:
    global _worker
    _exit_with_parent()
    # As in the build itself: millions of short-lived acyclic objects, nothing for the cycle collector.
    gc.disable()
    engine = make_engine(url)
    _worker = _Worker(
        make_session_factory(engine), Output(out_dir, settings, now), Family(plan.sources), plan
    )


def _render(unit: Sequence[int]) -> UnitResult:
    worker = _worker
    assert worker is not None, "not a worker process"
    with worker.sessions() as session:
        return _render_here(session, worker.out, worker.family, unit, worker.plan)


def _render_here(
    session: Session, out: Output, family: Family, unit: Sequence[int], plan: Plan
) -> UnitResult:
    """Render one unit, returning what it wrote rather than adding it to `out`'s lists."""
    kept = out.written, out.deleted, out.staged
    out.written, out.deleted, out.staged = [], [], []
    try:
        entries = render_unit(session, out, family, unit, plan)
        return entries, out.written, out.deleted, out.staged, os.getpid()
    finally:
        out.written, out.deleted, out.staged = kept


def render_units(
    session: Session,
    out: Output,
    family: Family,
    units: Sequence[Sequence[int]],
    plan: Plan,
    *,
    jobs: int,
) -> Iterator[UnitResult]:
    """Render `units` in `jobs` processes: this one and `jobs - 1` workers; each unit's result.

    The build's own process renders units from the front while the workers take them from
    the back, so that no process waits for another and one fewer interpreter is held in
    memory than with a pool of `jobs` workers.
    """
    todo = deque(units)
    context = multiprocessing.get_context("spawn")
    address = session.get_bind().engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(
        max_workers=jobs - 1,
        mp_context=context,
        initializer=_start,
        initargs=(address, out.out_dir, out.settings, out.now, plan),
    ) as pool:
        running: set[Future[UnitResult]] = set()
        while todo or running:
            # A unit for each worker, and while plenty remain a second one ready for when it
            # is done, so that no worker waits for this process to hand it the next.
            workers = jobs - 1
            while todo and (len(running) < workers or (len(running) < 2 * workers and len(todo) > jobs)):
                running.add(pool.submit(_render, todo.pop()))
            if todo:
                yield _render_here(session, out, family, todo.popleft(), plan)
            done, running = wait(running, timeout=0 if todo else None, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
