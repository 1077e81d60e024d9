"""The scorecard site: per-source pages, a sortable index and an Atom feed, built incrementally.

`build_site(session, out_dir, settings=..., now=...)` renders everything from
`templates/`; a second call rewrites only the pages whose inputs changed (plus the
index pages and the feed) and returns a `BuildResult` saying which files it wrote.
The ClaimReview rating mapping is `CLAIMREVIEW_RATINGS`.
"""

from __future__ import annotations

from tracker.scorecards.build import BuildResult, build_site, page_path
from tracker.scorecards.claimreview import (
    BEST_RATING,
    CLAIMREVIEW_RATINGS,
    REVIEWING_ORGANISATION,
    VERDICT_LABELS,
    WORST_RATING,
)
from tracker.scorecards.index import ORDERINGS
from tracker.scorecards.manifest import MANIFEST_NAME

__all__ = [
    "BEST_RATING",
    "CLAIMREVIEW_RATINGS",
    "MANIFEST_NAME",
    "ORDERINGS",
    "REVIEWING_ORGANISATION",
    "VERDICT_LABELS",
    "WORST_RATING",
    "BuildResult",
    "build_site",
    "page_path",
]
