"""Write the database back out in the claims.yaml format, so that importing it changes nothing.

A new file gets the canonical layout (`write_claims_file`); an existing one keeps its
own, changed only where the database differs (`update_claims_file`, see `merge`).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, TextIO

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.claimsfile.merge import Merged, merge_claims_file
from tracker.claimsfile.schema import UNSTATED
from tracker.models import (
    Appearance,
    Claim,
    ClaimKind,
    ClaimTag,
    Resolution,
    Reviewer,
    Source,
    claim_reviewers,
)

try:
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]

HEADER = "# tracker claims file, written by `tracker export`. Format: see README, 'The claims file'.\n"
CHUNK = 2000


def _drop_empty(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None and v != []}


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _reviewers(session: Session) -> list[dict[str, Any]]:
    return [
        {"handle": r.handle, "name": r.name, "email": r.email, "timezone": r.timezone, "role": r.role}
        for r in session.scalars(select(Reviewer).order_by(Reviewer.id))
    ]


def _sources(session: Session) -> list[dict[str, Any]]:
    slugs = dict(session.execute(select(Source.id, Source.slug)).all())
    return [
        _drop_empty(
            {
                "slug": s.slug,
                "name": s.name,
                "kind": s.kind,
                "url": s.url,
                "notes": s.notes,
                "member_of": slugs.get(s.parent_id) if s.parent_id else None,
            }
        )
        for s in session.scalars(select(Source).order_by(Source.id))
    ]


def _claims(session: Session) -> Iterator[dict[str, Any]]:
    """Claims in the order they were recorded, read in chunks to keep memory flat."""
    sources = dict(session.execute(select(Source.id, Source.slug)).all())
    handles = dict(session.execute(select(Reviewer.id, Reviewer.handle)).all())
    last_id = 0
    while True:
        claims = (
            session.execute(select(Claim).where(Claim.id > last_id).order_by(Claim.id).limit(CHUNK))
            .scalars()
            .all()
        )
        if not claims:
            return
        ids = [c.id for c in claims]
        last_id = ids[-1]
        tags: dict[int, list[str]] = defaultdict(list)
        for claim_id, tag in session.execute(
            select(ClaimTag.claim_id, ClaimTag.tag).where(ClaimTag.claim_id.in_(ids)).order_by(ClaimTag.tag)
        ):
            tags[claim_id].append(tag)
        reviewers: dict[int, list[str]] = defaultdict(list)
        for claim_id, reviewer_id in session.execute(
            select(claim_reviewers.c.claim_id, claim_reviewers.c.reviewer_id).where(
                claim_reviewers.c.claim_id.in_(ids)
            )
        ):
            reviewers[claim_id].append(handles[reviewer_id])
        latest: dict[int, Resolution] = {}
        progress: dict[int, list[Resolution]] = defaultdict(list)
        for r in session.scalars(
            select(Resolution).where(Resolution.claim_id.in_(ids)).order_by(Resolution.id)
        ):
            if r.progress is None:
                latest[r.claim_id] = r
            else:
                progress[r.claim_id].append(r)
        appearance_ids = {c.appearance_id for c in claims if c.appearance_id}
        articles = {
            a.id: a for a in session.scalars(select(Appearance).where(Appearance.id.in_(appearance_ids)))
        }
        for claim in claims:
            yield _claim_entry(claim, sources, tags, reviewers, latest, progress, articles, handles)


def _claim_entry(
    claim: Claim,
    sources: dict[int, str],
    tags: dict[int, list[str]],
    reviewers: dict[int, list[str]],
    latest: dict[int, Resolution],
    progress: dict[int, list[Resolution]],
    articles: dict[int, Appearance],
    handles: dict[int, str],
) -> dict[str, Any]:
    article = articles.get(claim.appearance_id) if claim.appearance_id else None
    resolution = latest.get(claim.id)
    outcome = None
    if resolution is not None and resolution.verdict is not None:
        outcome = _drop_empty(
            {
                "verdict": resolution.verdict,
                "resolved_on": resolution.resolved_on,
                "by": handles.get(resolution.reviewer_id) if resolution.reviewer_id else None,
                "evidence": list(resolution.evidence or []),
                "note": resolution.note,
            }
        )
    criteria = None
    if claim.criteria is not None:
        criteria = _drop_empty(
            {
                "criteria": claim.criteria,
                "deadline": claim.deadline,
                "window_start": claim.window_start,
                "timezone": claim.timezone,
            }
        )
    return _drop_empty(
        {
            "id": claim.key,
            "source": sources[claim.source_id],
            "kind": claim.kind,
            "statement": claim.statement,
            "quote": claim.quote,
            "appeared_in": _drop_empty(
                {
                    "url": article.url,
                    "title": article.title,
                    "author": article.author,
                    "published": article.published,
                }
            )
            if article
            else None,
            "made_on": claim.made_on,
            "recorded_after_outcome": True if claim.recorded_after_outcome else None,
            "probability": _probability(claim),
            "probability_basis": claim.probability_basis,
            "confidence": claim.confidence,
            "resolution": criteria,
            "as_of": claim.as_of,
            "reviewers": sorted(reviewers.get(claim.id, [])),
            "tags": tags.get(claim.id, []),
            "progress": [
                _drop_empty(
                    {
                        "status": p.progress,
                        "rated_on": p.resolved_on,
                        "by": handles.get(p.reviewer_id) if p.reviewer_id else None,
                        "evidence": list(p.evidence or []),
                        "note": p.note,
                    }
                )
                for p in progress.get(claim.id, [])
            ],
            "outcome": outcome,
        }
    )


def _probability(claim: Claim) -> float | str | None:
    # The words are the record; the probability follows from them through the scale.
    if claim.confidence is not None:
        return None
    if claim.probability is None and claim.kind == ClaimKind.PREDICTION:
        return UNSTATED
    return claim.probability


def write_claims_file(session: Session, stream: TextIO) -> int:
    """Write every reviewer, source and claim to `stream`; returns the number of claims."""
    stream.write(HEADER)
    stream.write(_dump({"reviewers": _reviewers(session)}))
    stream.write("\n")
    stream.write(_dump({"sources": _sources(session)}))
    stream.write("\nclaims:\n")
    count = 0
    for entry in _claims(session):
        stream.write(_dump([entry]))
        count += 1
    if count == 0:
        stream.write("  []\n")
    return count


def update_claims_file(session: Session, text: str, name: str) -> tuple[Merged, int]:
    """The claims file `text` brought up to date with the database, and the number of claims.

    Raises NotMergeable (naming `name` and the line) when `text` is not a claims file.
    """
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for entry in _claims(session):
            count += 1
            yield entry

    merged = merge_claims_file(text, name, _reviewers(session), _sources(session), counted())
    return merged, count


def export_claims(session: Session) -> str:
    """The whole database as claims.yaml text."""
    buffer = io.StringIO()
    write_claims_file(session, buffer)
    return buffer.getvalue()
