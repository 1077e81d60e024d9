"""The build signature (the Atom feed is `tracker.scorecards.feed`).

Pages are drawn with the one template environment (`tracker.templating`), from the settings.
"""

from __future__ import annotations

from pathlib import Path

import tracker
from tracker.scorecards.manifest import digest, tree_digest
from tracker.templating import packaged_templates

STYLESHEET = "scorecards/style.css"


def build_signature(overrides: str | None, *parts: str) -> str:
    """What every page depends on: tracker's version, its templates and scorecard code, and `parts`.

    `overrides` is the templates_dir setting: every file there counts, since any may
    replace a packaged template the pages use.
    """
    package = Path(tracker.__file__).resolve().parent
    code = tree_digest(package / "scorecards", package / "scoring", suffixes=(".py",))
    # Only the site's own templates: editing the report's or the emails' must not stale the site.
    root = packaged_templates()
    templates = tree_digest(root / "scorecards", root / "macros", suffixes=(".html", ".xml", ".css"))
    base = digest((root / "base.html").read_text(encoding="utf-8"))
    override = ""
    if overrides:
        folder = Path(overrides).expanduser()
        override = (
            tree_digest(folder, suffixes=(".html", ".xml", ".css", ".txt")) if folder.is_dir() else "missing"
        )
    return digest(tracker.__version__, templates, base, code, override, *parts)
