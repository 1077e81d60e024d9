"""The Atom feed of recent verdicts: its identity, its links and its entries.

A feed's id must be the same in every build and differ from every other feed. With
`site_url` set it is the feed's own address. Without it, it is derived from the
database: from its first source, which tracker never deletes, and the microsecond that
source was created (`lookups.first_source`). So a full rebuild, or a build into a fresh
folder as a CI job makes it, keeps the id, while two installations, even of the same
claims.yaml, never share one. Entry ids are derived from the feed's id and the verdict
history entry: stable too, and unique to the installation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from tracker.formatting import date as day
from tracker.scorecards.claimreview import history_label
from tracker.scorecards.lookups import ResolutionEvent

FEED_SIZE = 50
FEED_FILE = "feed.xml"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tracker:scorecards:feed")


def rfc3339(moment: dt.datetime) -> str:
    """A UTC timestamp as Atom wants it: 2026-11-23T12:00:00Z."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def site_link(site_url: str | None, path: str) -> str:
    """A link to `path` (relative to the site's root): absolute under `site_url`, else as given."""
    return f"{site_url}{path}" if site_url else path


def feed_id(site_url: str | None, installation: str | None) -> str:
    """The feed's id: its address under `site_url`, else a UUID derived from `installation`.

    `installation` is `lookups.first_source`; a database without sources has no verdicts
    to publish, and its empty feed takes the id of its first source once it has one.
    """
    if site_url:
        return site_link(site_url, FEED_FILE)
    return uuid.uuid5(_NAMESPACE, f"installation:{installation or ''}").urn


def resolution_time(resolved_on: dt.date, recorded_at: dt.datetime) -> dt.datetime:
    """When a verdict was reached, as well as tracker knows it.

    A verdict entered when it was reached (`tracker resolve`, the review app) was
    recorded then. One entered later, an import of claims.yaml above all, has only its
    date: its time is the start of that day (UTC), not the moment of the import. A day
    of slack allows for `resolved_on` being the reviewer's local date.
    """
    recorded = recorded_at.astimezone(dt.UTC)
    if abs((recorded.date() - resolved_on).days) <= 1:
        return recorded
    return dt.datetime.combine(resolved_on, dt.time(), tzinfo=dt.UTC)


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


def feed_entry(event: ResolutionEvent, *, feed: str, site_url: str | None) -> FeedEntry:
    """The Atom entry for one verdict-history entry of the feed whose id is `feed`."""
    label = history_label(event.kind, event.verdict, event.progress)
    note = f" {event.note}" if event.note else ""
    summary = f"{event.source_name}: {label.lower()}, as of {day(event.resolved_on)}.{note}"
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, feed)
    return FeedEntry(
        id=uuid.uuid5(namespace, f"{event.claim_key}/{event.id}").urn,
        title=f"{label}: {event.statement}",
        href=site_link(site_url, f"sources/{event.source_slug}.html#claim-{event.claim_key}"),
        updated=rfc3339(resolution_time(event.resolved_on, event.recorded_at)),
        summary=summary,
        author=event.reviewer_name or "tracker",
        evidence=event.evidence,
    )


def feed_entries(events: list[ResolutionEvent], *, feed: str, site_url: str | None) -> list[FeedEntry]:
    """The entries of the latest recorded verdicts, the most recently reached first."""
    entries = [feed_entry(e, feed=feed, site_url=site_url) for e in events]
    # The events come newest recorded first; an import records old verdicts all at once,
    # so order by when each was reached (the sort is stable: recording order breaks ties).
    return sorted(entries, key=lambda e: e.updated, reverse=True)
