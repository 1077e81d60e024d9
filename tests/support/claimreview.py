"""The tests' oracle for tracker.scorecards.claimreview: a claim's ClaimReview as a plain dict.

The site writes each ClaimReview piece by piece for speed (`ReviewWriter`); the tests hold
it to `script_json` of this straightforward version, byte for byte. The numeric rating of
each verdict is written out here again (`RATINGS`, the README's table), so that a change to
the code's mapping shows as a difference rather than being copied into the expectation.
"""

from __future__ import annotations

from typing import Any

from tracker.scorecards.claimreview import (
    RECORDED_LATE_BODY,
    REVIEWING_ORGANISATION,
    claim_review_head,
    verdict_label,
)
from tracker.scorecards.data import ClaimRecord, SourceRecord

# (kind, verdict) -> ratingValue on 1 (worst) .. 5 (best), as the README documents it. A verdict
# absent here says nothing about whether the source was right: its rating is words only.
RATINGS: dict[tuple[str, str], int] = {
    ("fact", "true"): 5,
    ("fact", "mostly-true"): 4,
    ("fact", "half-true"): 3,
    ("fact", "mostly-false"): 2,
    ("fact", "false"): 1,
    ("prediction", "true"): 5,
    ("prediction", "false"): 1,
    # The promise meter: kept, compromise (partly kept: the middle), broken.
    ("promise", "kept"): 5,
    ("promise", "compromise"): 3,
    ("promise", "broken"): 1,
}


def rating(kind: str, verdict: str) -> dict[str, Any]:
    """The schema.org Rating a verdict should get: its words, and its number when it has one."""
    found: dict[str, Any] = {"@type": "Rating", "alternateName": verdict_label(kind, verdict)}
    if (kind, verdict) in RATINGS:
        found.update(ratingValue=RATINGS[(kind, verdict)], bestRating=5, worstRating=1)
    return found


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
    """The ClaimReview of a resolved claim; None while it is open (an open promise too, whatever
    its progress: where a promise stands is not a verdict on it)."""
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
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim.statement,
        "datePublished": latest.resolved_on.isoformat(),
        "author": {"@type": "Organization", "name": REVIEWING_ORGANISATION},
        "itemReviewed": item,
        "reviewRating": rating(claim.kind, claim.verdict),
    }
    if claim.recorded_late:
        review["reviewBody"] = RECORDED_LATE_BODY
    return review
