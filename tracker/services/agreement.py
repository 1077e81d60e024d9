"""The double reviews in the database, as the pairs `tracker.scoring.agreement` reads."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tracker.models import VERDICT_SCALES, Claim, Resolution, Reviewer, ReviewRole
from tracker.review import current_round
from tracker.scoring.agreement import Agreement, ReviewPair, agreement

SCALES: tuple[str, ...] = tuple(str(kind) for kind in VERDICT_SCALES)


def _pairs(rows: Iterable[Any]) -> list[ReviewPair]:
    pairs: list[ReviewPair] = []
    for _, history in groupby(rows, key=lambda row: row.claim_id):
        by_role = {row.role: row for row in current_round(list(history))}
        first, second = by_role.get(ReviewRole.FIRST.value), by_role.get(ReviewRole.SECOND.value)
        if first is not None and second is not None:
            pairs.append(
                ReviewPair(first.key, first.kind, first.verdict, second.verdict, first.handle, second.handle)
            )
    return pairs


def review_pairs(session: Session, source_ids: Iterable[int] | None = None) -> list[ReviewPair]:
    """Every claim whose current round holds two verdicts (agreeing, disputed or adjudicated).

    Only the entries that can shape a round are read: the double review's, and un-resolves.
    """
    query = (
        select(
            Resolution.claim_id,
            Resolution.verdict,
            Resolution.progress,
            Resolution.role,
            Claim.key,
            Claim.kind,
            Reviewer.handle,
        )
        .join(Claim, Claim.id == Resolution.claim_id)
        .outerjoin(Reviewer, Reviewer.id == Resolution.reviewer_id)
        .where(
            or_(
                Resolution.role != ReviewRole.VERDICT.value,
                and_(Resolution.verdict.is_(None), Resolution.progress.is_(None)),
            )
        )
        .order_by(Resolution.claim_id, Resolution.id)
    )
    if source_ids is not None:
        query = query.where(Claim.source_id.in_(list(source_ids)))
    return _pairs(session.execute(query))


def reviewer_agreement(session: Session) -> Agreement:
    """The agreement figures of every double review in the database."""
    return agreement(review_pairs(session), SCALES)
