"""The Jinja environment, the build signature, and the Atom feed's entries.

The environment is compiled once per templates folder and reused by every build in
the process; autoescaping is on for .html and .xml.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import tracker
from tracker.resources import resource_dir
from tracker.scorecards.claimreview import verdict_label
from tracker.scorecards.claims import day
from tracker.scorecards.figures import DASH, num, pct
from tracker.scorecards.lookups import ResolutionEvent
from tracker.scorecards.manifest import digest, tree_digest

FEED_SIZE = 50
STYLESHEET = "scorecards/style.css"
# Entry ids are UUIDs derived from the history entry, so they never change between builds.
_FEED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tracker:scorecards:feed")


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


def rfc3339(moment: dt.datetime) -> str:
    """A UTC timestamp as Atom wants it: 2026-11-23T12:00:00Z."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One resolution as an Atom entry."""

    id: str
    title: str
    href: str
    updated: str
    summary: str
    author: str
    evidence: tuple[str, ...]


def feed_entry(event: ResolutionEvent) -> FeedEntry:
    """The Atom entry for one verdict-history entry."""
    label = "Re-opened" if event.verdict is None else verdict_label(event.kind, event.verdict)
    note = f" {event.note}" if event.note else ""
    summary = f"{event.source_name}: {label.lower()}, as of {day(event.resolved_on)}.{note}"
    return FeedEntry(
        id=f"urn:uuid:{uuid.uuid5(_FEED_NAMESPACE, f'{event.claim_key}/{event.id}')}",
        title=f"{label}: {event.statement}",
        href=f"sources/{event.source_slug}.html#claim-{event.claim_key}",
        updated=rfc3339(event.recorded_at),
        summary=summary,
        author=event.reviewer_name or "tracker",
        evidence=event.evidence,
    )
