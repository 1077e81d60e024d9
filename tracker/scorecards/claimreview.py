"""schema.org ClaimReview for resolved claims, and the verdict-to-rating mapping it documents.

Ratings run from 1 (worst) to 5 (best). Facts use the whole scale; predictions use
its ends, because a prediction either came true or did not. Promises sit on the promise
meter: kept 5, compromise 3 (partly kept: the middle), broken 1, with the meter word as
`alternateName`. Verdicts that say nothing about whether the source was right
(ambiguous, annulled, unverifiable) carry no numeric rating: their `reviewRating` has the
verdict in words (`alternateName`) only, so that no consumer averages them in as a
middling score.

An open promise has no ClaimReview, whatever its progress: "in the works" or "stalled"
is where it stands, not a review of whether it was kept, and a ClaimReview is a verdict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from json.encoder import encode_basestring
from types import MappingProxyType
from typing import Any

from markupsafe import Markup

from tracker.models import (
    ClaimKind,
    FactVerdict,
    PredictionVerdict,
    PromiseProgress,
    PromiseVerdict,
    SourceKind,
)
from tracker.scorecards.data import ClaimRecord, SourceRecord

BEST_RATING = 5
WORST_RATING = 1

CLAIMREVIEW_RATINGS: Mapping[tuple[str, str], int] = MappingProxyType(
    {
        (ClaimKind.FACT.value, FactVerdict.TRUE.value): 5,
        (ClaimKind.FACT.value, FactVerdict.MOSTLY_TRUE.value): 4,
        (ClaimKind.FACT.value, FactVerdict.HALF_TRUE.value): 3,
        (ClaimKind.FACT.value, FactVerdict.MOSTLY_FALSE.value): 2,
        (ClaimKind.FACT.value, FactVerdict.FALSE.value): 1,
        (ClaimKind.PREDICTION.value, PredictionVerdict.TRUE.value): 5,
        (ClaimKind.PREDICTION.value, PredictionVerdict.FALSE.value): 1,
        (ClaimKind.PROMISE.value, PromiseVerdict.KEPT.value): 5,
        (ClaimKind.PROMISE.value, PromiseVerdict.COMPROMISE.value): 3,
        (ClaimKind.PROMISE.value, PromiseVerdict.BROKEN.value): 1,
    }
)
"""(kind, verdict) -> ratingValue; verdicts absent here get no numeric rating."""

VERDICT_LABELS: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        (ClaimKind.FACT.value, FactVerdict.TRUE.value): "True",
        (ClaimKind.FACT.value, FactVerdict.MOSTLY_TRUE.value): "Mostly true",
        (ClaimKind.FACT.value, FactVerdict.HALF_TRUE.value): "Half true",
        (ClaimKind.FACT.value, FactVerdict.MOSTLY_FALSE.value): "Mostly false",
        (ClaimKind.FACT.value, FactVerdict.FALSE.value): "False",
        (ClaimKind.FACT.value, FactVerdict.UNVERIFIABLE.value): "Unverifiable",
        (ClaimKind.PREDICTION.value, PredictionVerdict.TRUE.value): "Came true",
        (ClaimKind.PREDICTION.value, PredictionVerdict.FALSE.value): "Did not come true",
        (ClaimKind.PREDICTION.value, PredictionVerdict.AMBIGUOUS.value): "Ambiguous",
        (ClaimKind.PREDICTION.value, PredictionVerdict.ANNULLED.value): "Annulled (premise failed)",
        (ClaimKind.PROMISE.value, PromiseVerdict.KEPT.value): "Promise kept",
        (ClaimKind.PROMISE.value, PromiseVerdict.COMPROMISE.value): "Compromise",
        (ClaimKind.PROMISE.value, PromiseVerdict.BROKEN.value): "Promise broken",
    }
)
"""The verdicts in words, as pages, the feed and `alternateName` show them."""

PROGRESS_LABELS: Mapping[str, str] = MappingProxyType(
    {PromiseProgress.IN_THE_WORKS.value: "In the works", PromiseProgress.STALLED.value: "Stalled"}
)
"""An open promise's progress in words (the meter's words for where it stands)."""


def progress_label(progress: str) -> str:
    """An open promise's progress status in words."""
    return PROGRESS_LABELS.get(progress, progress)


def history_label(kind: str, verdict: str | None, progress: str | None) -> str:
    """A verdict-history entry in words: its verdict, a promise's progress, or "Re-opened"."""
    if verdict is not None:
        return verdict_label(kind, verdict)
    return "Re-opened" if progress is None else progress_label(progress)


REVIEWING_ORGANISATION = "tracker"
"""The `author` of every ClaimReview: the organisation that reviews the claims."""

# "<", ">" and "&" become JSON escapes (see `_script_safe`), so that no text can close the
# script element ("</script>") or open a comment ("<!--") inside it; the JSON is unchanged.


def verdict_label(kind: str, verdict: str | None) -> str:
    """The verdict in words ("Open" while there is none)."""
    if verdict is None:
        return "Open"
    return VERDICT_LABELS.get((kind, verdict), verdict)


def review_rating(kind: str, verdict: str) -> dict[str, Any]:
    """The schema.org Rating for a verdict, following `CLAIMREVIEW_RATINGS`."""
    rating: dict[str, Any] = {"@type": "Rating", "alternateName": verdict_label(kind, verdict)}
    value = CLAIMREVIEW_RATINGS.get((kind, verdict))
    if value is not None:
        rating.update(ratingValue=value, bestRating=BEST_RATING, worstRating=WORST_RATING)
    return rating


def claim_review_head(source: SourceRecord) -> dict[str, Any]:
    """The schema.org Person or Organization a source's claims are attributed to."""
    author_type = "Person" if source.kind == SourceKind.PERSON else "Organization"
    author: dict[str, Any] = {"@type": author_type, "name": source.name}
    if source.url:
        author["url"] = source.url
    return author


RECORDED_LATE_BODY = (
    "Recorded after the outcome: the criteria for this claim were written when its outcome "
    "was already known, or after its deadline, not set in advance."
)


def _script_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_json(data: Any) -> Markup:
    """JSON safe to place inside a <script> element verbatim."""
    return Markup(_script_safe(_dumps(data)))


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class ReviewWriter:
    """Writes the ClaimReview JSON of one source's claims, serialising what they share only once.

    The output is `script_json` of the ClaimReview a resolved claim has, byte for byte (the
    tests hold it to a plain-dict reference, tests/support/claimreview.py); it is written out
    piece by piece because a site of a million claims writes one per resolved claim.
    """

    def __init__(self, source: SourceRecord, site_url: str | None = None) -> None:
        # The claim's anchor on its page: absolute when the site's address is known
        # (`site_url`), else relative to the page the JSON-LD sits on.
        self.url_prefix = f"{site_url}sources/{source.slug}.html#" if site_url else f"{source.slug}.html#"
        item = claim_review_head(source)
        # Every piece is made script-safe as it is written: the fixed text between them has
        # no "<", ">" or "&", so the whole is what `_script_safe` of the whole would give.
        self.author = _script_safe(_dumps(item))
        self.organisation = _script_safe(_dumps({"@type": "Organization", "name": REVIEWING_ORGANISATION}))
        self.works: dict[tuple[str, str | None, Any], str] = {}

    def _work(self, claim: ClaimRecord) -> str:
        article = claim.article
        if article is None:
            return ""
        key = (article.url, article.title, article.published)
        found = self.works.get(key)
        if found is None:
            # The CreativeWork (article) the claim appeared in, written out.
            work = f'{{"@type":"CreativeWork","url":{encode_basestring(article.url)}'
            if article.title:
                work += f',"headline":{encode_basestring(article.title)}'
            if article.published:
                work += f',"datePublished":"{article.published.isoformat()}"'
            work = _script_safe(work + "}")
            found = self.works[key] = f',"appearance":{work},"firstAppearance":{work}'
        return found

    def __call__(self, claim: ClaimRecord, anchor: str) -> Markup | None:
        """The script-safe ClaimReview of a resolved claim; None while it is open."""
        latest = claim.latest
        if claim.verdict is None or latest is None:
            return None
        rating = _RATINGS.get((claim.kind, claim.verdict))
        if rating is None:
            rating = _RATINGS[(claim.kind, claim.verdict)] = _script_safe(
                _dumps(review_rating(claim.kind, claim.verdict))
            )
        text = (
            '{"@context":"https://schema.org","@type":"ClaimReview","url":'
            f"{_script_safe(encode_basestring(self.url_prefix + anchor))},"
            f'"claimReviewed":{_script_safe(encode_basestring(claim.statement))},'
            f'"datePublished":"{latest.resolved_on.isoformat()}",'
            f'"author":{self.organisation},'
            f'"itemReviewed":{{"@type":"Claim","author":{self.author},'
            f'"datePublished":"{claim.made_on.isoformat()}"{self._work(claim)}}},'
            f'"reviewRating":{rating}'
            f"{_LATE_BODY if claim.recorded_late else ''}}}"
        )
        return Markup(text)


_RATINGS: dict[tuple[str, str], str] = {}
_LATE_BODY = f',"reviewBody":{_script_safe(encode_basestring(RECORDED_LATE_BODY))}'
