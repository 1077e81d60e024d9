"""The periodic report: what changed since the last one, as a digest, with the site rebuilt.

`make_report(session, settings=..., now=..., out_dir=...)` is the one entry point the
CLI and the scheduler call inside their unit of work. `render_digest` turns a `Digest`
into (subject, text, html) without touching files, so the scheduler can mail it.
"""

from __future__ import annotations

from tracker.reports.changes import LIMIT, ClaimRef, Digest, NewResolution, Section
from tracker.reports.render import RenderedDigest, render_digest, subject_of
from tracker.reports.run import (
    BEGINNING,
    REPORTS_DIR,
    Report,
    SiteBuild,
    SiteBuilder,
    build_site,
    collect_digest,
    last_run,
    make_report,
    write_digest,
)
from tracker.reports.snapshot import Headline, ScoreChange, score_changes, take_snapshot

__all__ = [
    "BEGINNING",
    "LIMIT",
    "REPORTS_DIR",
    "ClaimRef",
    "Digest",
    "Headline",
    "NewResolution",
    "RenderedDigest",
    "Report",
    "ScoreChange",
    "Section",
    "SiteBuild",
    "SiteBuilder",
    "build_site",
    "collect_digest",
    "last_run",
    "make_report",
    "render_digest",
    "score_changes",
    "subject_of",
    "take_snapshot",
    "write_digest",
]
