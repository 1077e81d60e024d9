"""After a verdict, the source's scorecard pages are rebuilt in the background.

One daemon thread per web process works through the sources named to it; the build
itself is `tracker scorecards --source` (incremental, one build per folder at a time
across processes through its file lock), in a unit of work of its own. When nothing is
queued for `CATCH_UP` seconds, the thread brings the whole site up to date, so that a
change made elsewhere (`tracker resolve`, `tracker import`, another host) reaches the
public pages too, and a claim page's "being rebuilt" stays true.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

from flask import g

from tracker.scorecards.build import build_site
from tracker.web.state import WebState

log = logging.getLogger(__name__)

CATCH_UP = 60.0  # seconds idle before an incremental build of every stale page


class Rebuilder:
    """A queue of source slugs and the thread that rebuilds their pages."""

    def __init__(self, web: WebState, catch_up: float = CATCH_UP) -> None:
        self.web = web
        self.catch_up = catch_up
        self.slugs: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="tracker-rebuild", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                slug: str | None = self.slugs.get(timeout=self.catch_up)
            except queue.Empty:
                self._build_logged(None)  # idle: catch up with changes made elsewhere
                continue
            if slug is None:
                return
            try:
                self._build_logged(slug)
            finally:
                self.slugs.task_done()

    def _build_logged(self, slug: str | None) -> None:
        try:
            self.build(slug)
        except Exception:  # a failed build must not stop the next one; the log has the traceback
            log.exception("rebuilding the scorecard of %s failed", slug or "every stale source")

    def build(self, slug: str | None) -> None:
        """Bring the site up to date for one source (the index pages included), or for all (None)."""
        app = self.web.app
        out = Path(app.settings.report.out_dir)
        if not (out / "index.html").exists():
            return  # no site yet: `tracker up` or `tracker scorecards` builds it whole
        with app.session_factory() as session:
            build_site(session, out, settings=app.settings, now=self.web.clock(), source=slug, jobs=1)

    def stop(self) -> None:
        """Finish what is queued, then end the thread."""
        self.slugs.put(None)
        self.thread.join(timeout=60)


def rebuild_source(slug: str) -> None:
    """Rebuild `slug`'s pages once this request has committed (before, the build would read the old state)."""
    g.setdefault("rebuild", set()).add(slug)


def after_commit(web: WebState) -> None:
    """Queue the rebuilds this request asked for, now that its changes are visible to others."""
    slugs: set[str] = g.pop("rebuild", set())
    if web.rebuilder is not None:
        for slug in sorted(slugs):
            web.rebuilder.slugs.put(slug)
