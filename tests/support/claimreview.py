"""The tests' oracle for tracker.scorecards.claimreview: a claim's ClaimReview as a plain dict.

The site writes each ClaimReview piece by piece for speed (`ReviewWriter`); the tests hold
it to `script_json` of this straightforward version, byte for byte.
"""

from __future__ import annotations

from typing import Any

from tracker.scorecards.claimreview import REVIEWING_ORGANISATION, claim_review_head, review_rating
from tracker.scorecards.data import ClaimRecord, SourceRecord


def creative_work(claim: ClaimRecord) -> dict[str, Any]:
    """The CreativeWork (article) a claim appeared in; {} when none is recorded."""
    if claim.article is None:
        return {}
    work: dict[str, Any] = {"@type": "CreativeWork", "url": claim.article.url}
    if claim.article.title:
        work["headline"] = claim.article.title
    if claim.article.published:
        work["datePublished"] = claim.article.published.isoformat()
    return work


def claim_review(claim: ClaimRecord, source: SourceRecord, url: str) -> dict[str, Any] | None:
    """The ClaimReview of a resolved claim; None while it is open."""
    latest = claim.latest
    if claim.verdict is None or latest is None:
        return None
    item: dict[str, Any] = {
        "@type": "Claim",
        "author": claim_review_head(source),
        "datePublished": claim.made_on.isoformat(),
    }
    if claim.article is not None:
        work = creative_work(claim)
        item["appearance"] = work
        item["firstAppearance"] = work
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim.statement,
        "datePublished": latest.resolved_on.isoformat(),
        "author": {"@type": "Organization", "name": REVIEWING_ORGANISATION},
        "itemReviewed": item,
        "reviewRating": review_rating(claim.kind, claim.verdict),
    }
