"""One claim as its scorecard entry shows it: every string worked out here, once, in Python.

The template then only places strings, which keeps the per-claim cost of a build small
(a site of a million claims renders this once per claim).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from tracker.models import ClaimKind, FactVerdict, PredictionVerdict
from tracker.scorecards.charts import MONTHS
from tracker.scorecards.claimreview import ReviewWriter, verdict_label
from tracker.scorecards.data import ClaimRecord
from tracker.scoring import says_yes

EXCLUDED_VERDICTS = {
    PredictionVerdict.AMBIGUOUS.value: "ambiguous: it cannot be told whether it happened",
    PredictionVerdict.ANNULLED.value: "annulled: its premise failed",
    FactVerdict.UNVERIFIABLE.value: "unverifiable",
}
HEDGE_REASON = "a hedge that names no probability"


_DAYS: dict[dt.date, str] = {}


def day(d: dt.date) -> str:
    """ "16 Nov 2017"."""
    # Memoised: a site has far fewer distinct dates than claims.
    text = _DAYS.get(d)
    if text is None:
        text = _DAYS[d] = f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    return text


@dataclass(slots=True)
class HistoryView:
    """One entry of a claim's verdict history."""

    date: str
    iso: str
    label: str
    css: str
    reviewer: str
    evidence: tuple[str, ...]
    note: str | None


@dataclass(slots=True)
class CriteriaView:
    """One version of a prediction's resolution criteria."""

    version: int
    criteria: str
    deadline: str
    window: str
    recorded: str
    superseded: bool


@dataclass(slots=True)
class ClaimView:
    """A claim's entry on its source's page, every value ready to print."""

    key: str
    anchor: str
    kind: str
    statement: str
    quote: str
    made_on: str
    made_on_iso: str
    probability: str  # "68% (“we believe”)", "unscored hedge (“may”)", or "" for facts
    verdict: str | None
    verdict_label: str
    css: str
    deadline: str
    deadline_iso: str
    days_left: str
    overdue: bool
    as_of: str
    article_url: str | None
    article_title: str
    article_meta: str
    criteria: tuple[CriteriaView, ...]
    history: tuple[HistoryView, ...]
    tags: str
    reviewers: str
    excluded: str  # why it is kept out of the scores, or ""
    outcome: str  # for a scored prediction: hit or miss, and its own Brier score
    jsonld: Markup | None
    sort_deadline: dt.date
    sort_resolved: dt.date


def verdict_css(verdict: str | None) -> str:
    """The CSS class of a verdict badge."""
    return "v-open" if verdict is None else f"v-{verdict}"


def _scored_outcome(claim: ClaimRecord) -> tuple[str, str]:
    """(css, words) for a scored prediction: whether the side it favoured happened."""
    p = claim.probability
    if claim.kind != ClaimKind.PREDICTION or p is None or claim.verdict not in ("true", "false"):
        return verdict_css(claim.verdict), ""
    o = 1 if claim.verdict == "true" else 0
    # "Came true" is not "right": a source that said 3% was right when it did not happen.
    if says_yes(p) == bool(o):
        return "v-hit", f"A hit: the side it favoured happened. Brier {(p - o) ** 2:.3f}."
    return "v-miss", f"A miss: the side it favoured did not happen. Brier {(p - o) ** 2:.3f}."


def _probability(claim: ClaimRecord) -> str:
    if claim.kind != ClaimKind.PREDICTION:
        return ""
    words = f" (\u201c{claim.confidence}\u201d)" if claim.confidence else ""
    if claim.probability is None:
        return f"unscored hedge{words}"
    # 0.675 shows as 67.5%, 0.8 as 80%: no digits the source did not imply.
    return f"{claim.probability * 100:.1f}".rstrip("0").rstrip(".") + f"%{words}"


def excluded_reason(claim: ClaimRecord) -> str:
    """Why a resolved claim is kept out of the scores; "" when it is scored or still open."""
    if claim.verdict is None:
        return ""
    if claim.verdict in EXCLUDED_VERDICTS:
        return EXCLUDED_VERDICTS[claim.verdict]
    if claim.kind == ClaimKind.PREDICTION and claim.probability is None:
        return HEDGE_REASON
    return ""


def _days_left(deadline: dt.date, today: dt.date) -> tuple[str, bool]:
    days = (deadline - today).days
    if days > 1:
        return f"{days} days left", False
    if days == 1:
        return "1 day left", False
    if days == 0:
        return "due today", False
    late = -days
    return f"overdue by {late} day{'s' if late != 1 else ''}", True


def claim_view(
    claim: ClaimRecord,
    review: ReviewWriter,
    *,
    today_in: Callable[[str | None], dt.date],
) -> ClaimView:
    """The entry for one claim; `today_in(timezone)` gives the date where its deadline is read."""
    anchor = f"claim-{claim.key}"
    days_left, overdue = "", False
    if claim.verdict is None and claim.deadline is not None:
        days_left, overdue = _days_left(claim.deadline, today_in(claim.timezone))
    article = claim.article
    meta = []
    if article is not None:
        if article.author:
            meta.append(article.author)
        if article.published:
            meta.append(day(article.published))
    versions = claim.criteria_history
    criteria = tuple(
        CriteriaView(
            version=c.version,
            criteria=c.criteria,
            deadline=day(c.deadline) if c.deadline else "",
            window=f"from {day(c.window_start)}" if c.window_start else "",
            recorded=day(c.recorded_at.date()),
            superseded=i < len(versions) - 1,
        )
        for i, c in enumerate(versions)
    )
    history = tuple(
        HistoryView(
            date=day(h.resolved_on),
            iso=h.resolved_on.isoformat(),
            label="Re-opened" if h.verdict is None else verdict_label(claim.kind, h.verdict),
            css=verdict_css(h.verdict),
            reviewer=h.reviewer_name or h.reviewer or "unknown reviewer",
            evidence=h.evidence,
            note=h.note,
        )
        for h in claim.history
    )
    resolved_on = claim.resolved_on
    css, outcome = _scored_outcome(claim)
    return ClaimView(
        key=claim.key,
        anchor=anchor,
        kind=claim.kind,
        statement=claim.statement,
        quote=claim.quote,
        made_on=day(claim.made_on),
        made_on_iso=claim.made_on.isoformat(),
        probability=_probability(claim),
        verdict=claim.verdict,
        verdict_label=verdict_label(claim.kind, claim.verdict),
        css=css,
        deadline=day(claim.deadline) if claim.deadline else "",
        deadline_iso=claim.deadline.isoformat() if claim.deadline else "",
        days_left=days_left,
        overdue=overdue,
        as_of=day(claim.as_of) if claim.as_of and claim.as_of != claim.made_on else "",
        article_url=article.url if article else None,
        article_title=(article.title or article.url) if article else "",
        article_meta=" \u00b7 ".join(meta),
        criteria=criteria,
        history=history,
        tags=", ".join(claim.tags),
        reviewers=", ".join(claim.reviewers),
        excluded=excluded_reason(claim),
        outcome=outcome,
        jsonld=review(claim, anchor),
        sort_deadline=claim.deadline or dt.date.max,
        sort_resolved=resolved_on or claim.made_on,
    )
