"""The Jinja environment and the build signature (the Atom feed is `tracker.scorecards.feed`).

The environment is compiled once per templates folder and reused by every build in
the process; autoescaping is on for .html and .xml.
"""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import tracker
from tracker.resources import resource_dir
from tracker.scorecards.figures import DASH, num, pct
from tracker.scorecards.manifest import digest, tree_digest

STYLESHEET = "scorecards/style.css"


def templates_dir() -> Path:
    """The templates folder, from the checkout or the installed wheel."""
    return resource_dir("templates")


@functools.lru_cache(maxsize=4)
def environment(templates: Path) -> Environment:
    """The compiled environment for a templates folder (cached: compiling is the slow part)."""
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=pct, num=num, interval=interval_text)
    return env


def interval_text(low: float | None, high: float | None, fmt: str = "num") -> str:
    """The interval as "0.12 to 0.25" with an en dash (percentages with fmt "pct"); "" for none."""
    if low is None or high is None:
        return ""
    show = pct if fmt == "pct" else num
    return f"{show(low)}{DASH}{show(high)}"


def build_signature(*parts: str) -> str:
    """What every page depends on: tracker's version, its templates and scorecard code, and `parts`."""
    package = Path(tracker.__file__).resolve().parent
    code = tree_digest(package / "scorecards", package / "scoring", suffixes=(".py",))
    # Only the site's own templates: editing the report's or the emails' must not stale the site.
    root = templates_dir()
    templates = tree_digest(root / "scorecards", root / "macros", suffixes=(".html", ".xml", ".css"))
    base = digest((root / "base.html").read_text(encoding="utf-8"))
    return digest(tracker.__version__, templates, base, code, *parts)
