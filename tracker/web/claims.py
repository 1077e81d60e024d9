"""What the claim page shows beyond the claim: its version token, what changed, its reminders.

The version token is derived from what a reviewer sees (verdict, criteria, statement,
deadline, reviewers, tags, article, and the newest history entries), not from a counter, so that every
writer of a claim (the CLI, an import, another web process) changes it without knowing
about it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tracker.models import Claim, CriteriaVersion, Reminder, Resolution
from tracker.review import visible_resolutions
from tracker.scorecards.manifest import MANIFEST_NAME, Manifest
from tracker.services.lookup import find_claim


def _latest(claim: Claim) -> tuple[int, int]:
    last_resolution = max((r.id for r in claim.resolutions), default=0)
    last_criteria = max((v.version for v in claim.criteria_versions), default=0)
    return last_resolution, last_criteria


def version_of(claim: Claim) -> str:
    """The claim's version token: "<last resolution id>.<last criteria version>.<digest>"."""
    last_resolution, last_criteria = _latest(claim)
    seen = (
        claim.status,
        claim.verdict,
        claim.statement,
        claim.quote,
        claim.criteria,
        str(claim.deadline),
        str(claim.window_start),
        claim.timezone,
        str(claim.probability),
        claim.confidence,
        sorted(r.id for r in claim.reviewers),
        sorted(claim.tag_names),
        claim.appearance_id,
    )
    digest = hashlib.sha256(repr(seen).encode()).hexdigest()[:16]
    return f"{last_resolution}.{last_criteria}.{digest}"


@dataclass
class Changes:
    """What was recorded on a claim since a version token was handed out."""

    resolutions: list[Resolution] = field(default_factory=list)
    criteria: list[CriteriaVersion] = field(default_factory=list)
    edited: bool = False  # something else (statement, reviewers ...) changed
    blind: bool = False  # another reviewer gave a first verdict, hidden from this one

    @property
    def any(self) -> bool:
        """Whether anything changed at all."""
        return bool(self.resolutions or self.criteria or self.edited or self.blind)


def changes_since(claim: Claim, version: str, viewer: str | None = None) -> Changes:
    """The verdicts and criteria recorded after `version` was read, and whether else was edited.

    Verdicts are those reviewer `viewer` may see: a blind first verdict is only said to exist.
    """
    if version == version_of(claim):
        return Changes()
    parts = version.split(".")
    try:
        seen_resolution, seen_criteria = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return Changes(edited=True)
    every = [r for r in claim.resolutions if r.id > seen_resolution]
    resolutions = [r for r in visible_resolutions(claim, viewer) if r.id > seen_resolution]
    criteria = [v for v in claim.criteria_versions if v.version > seen_criteria]
    blind = len(every) > len(resolutions)
    return Changes(resolutions, criteria, edited=not every and not criteria, blind=blind)


def reminders_of(session: Session, claim: Claim) -> list[Reminder]:
    """The reminders recorded about the claim, newest first, with their reviewers and deliveries
    (joined: one statement)."""
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.claim_id == claim.id)
            .options(joinedload(Reminder.reviewer), joinedload(Reminder.delivery))
            .order_by(Reminder.due_at.desc(), Reminder.id.desc())
        )
    )


def lock_claim(session: Session, key: str) -> Claim | None:
    """The claim, with its row lock taken (PostgreSQL) and its histories read after the lock.

    The services the views then call lock it again, and get this same claim back unread.
    """
    return find_claim(session, key, lock=True)


# The site's manifest file's identity, and the revisions read from it, by the site's folder.
_built: dict[Path, tuple[tuple[int, int, int], dict[int, int]]] = {}


def built_revisions(out_dir: Path) -> dict[int, int]:
    """Source id -> the source revision its built page was made from, per the site's manifest.

    Read again only when the manifest is another file: a build replaces it whole (a rename),
    and parsing it for every claim page cost 10 ms at 1,000 sources, more than the rest of
    the page (bench/web.py --site). Only these integers are kept, not the manifest.
    """
    path = out_dir / MANIFEST_NAME
    try:
        stat = path.stat()
    except OSError:
        return {}
    identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _built.get(out_dir)
    if cached is not None and cached[0] == identity:
        return cached[1]
    revisions = {source_id: entry.revision for source_id, entry in Manifest.load(out_dir).pages.items()}
    _built[out_dir] = (identity, revisions)
    return revisions


def public_page_state(out_dir: Path, claim: Claim) -> str:
    """Whether the built scorecard shows the claim as it is now: "current", "behind" or "unbuilt".

    The site's manifest records the source revision each page was built from; every change
    to a claim bumps its source's revision, so a page built from an older one is behind.
    """
    revision = built_revisions(out_dir).get(claim.source_id)
    if revision is None:
        return "unbuilt"
    return "current" if revision >= claim.source.revision else "behind"
