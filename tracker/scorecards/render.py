"""The build signature and the Atom feed's entries.

Pages are drawn with the one template environment (`tracker.templating`), from the settings.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import tracker
from tracker.formatting import date
from tracker.scorecards.claimreview import verdict_label
from tracker.scorecards.lookups import ResolutionEvent
from tracker.scorecards.manifest import digest, tree_digest
from tracker.templating import packaged_templates

FEED_SIZE = 50
STYLESHEET = "scorecards/style.css"
# Entry ids are UUIDs derived from the history entry, so they never change between builds.
_FEED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tracker:scorecards:feed")


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
    summary = f"{event.source_name}: {label.lower()}, as of {date(event.resolved_on)}.{note}"
    return FeedEntry(
        id=f"urn:uuid:{uuid.uuid5(_FEED_NAMESPACE, f'{event.claim_key}/{event.id}')}",
        title=f"{label}: {event.statement}",
        href=f"sources/{event.source_slug}.html#claim-{event.claim_key}",
        updated=rfc3339(event.recorded_at),
        summary=summary,
        author=event.reviewer_name or "tracker",
        evidence=event.evidence,
    )
