"""One claim as its scorecard entry shows it: the words and classes worked out, for the template to place.

The entry itself is the macro `claim_entry` in templates/macros/claim.html (the web app
draws claims with it too); this module only decides what it says: the verdict in words,
the outcome, the days left, why a claim is kept out of the scores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from markupsafe import Markup

from tracker.formatting import date
from tracker.models import ClaimKind, FactVerdict, PredictionVerdict
from tracker.scorecards.claimreview import ReviewWriter, history_label, progress_label, verdict_label
from tracker.scorecards.data import ClaimRecord, HistoryEntry
from tracker.scorecards.memo import Memo
from tracker.scoring import says_yes

EXCLUDED_VERDICTS = {
    PredictionVerdict.AMBIGUOUS.value: "ambiguous: it cannot be told whether it happened",
    PredictionVerdict.ANNULLED.value: "annulled: its premise failed",
    FactVerdict.UNVERIFIABLE.value: "unverifiable",
}
HEDGE_REASON = "a hedge that names no probability"
UNSTATED_REASON = "the source stated no probability"


def day(d: dt.date) -> str:
    """ "16 Nov 2017" (`tracker.formatting.date`)."""
    return date(d)


class HistoryView(NamedTuple):
    """One entry of a claim's verdict history, with its verdict in words."""

    entry: HistoryEntry
    label: str  # "Re-opened" for an un-resolve; a promise's progress in words ("In the works")
    css: str
    reviewer: str


@dataclass(slots=True)
class ClaimView:
    """A claim's entry on its source's page: what the template prints, and what the page sorts it by."""

    claim: ClaimRecord
    key: str
    anchor: str  # the entry's id: "claim-<key>"
    verdict: str | None
    label: str  # the verdict in words
    css: str  # the verdict's or the outcome's class: v-open, v-hit, v-miss, v-<verdict>
    probability: str  # the stated probability in words, "" for a fact
    days_left: str  # "3 days left", "overdue by 2 days"; "" once resolved
    overdue: bool
    outcome: str  # whether the side a scored prediction favoured happened, or ""
    excluded: str  # why it is kept out of the scores, or ""
    history: tuple[HistoryView, ...]
    jsonld: Markup | None  # the ClaimReview of a resolved claim, script-safe JSON
    sort_deadline: dt.date
    sort_resolved: dt.date


def verdict_css(verdict: str | None) -> str:
    """The CSS class of a verdict badge."""
    return "v-open" if verdict is None else f"v-{verdict}"


def _outcome_of(key: tuple[str, float | None, str | None]) -> tuple[str, str]:
    kind, p, verdict = key
    if kind != ClaimKind.PREDICTION or p is None or verdict not in ("true", "false"):
        return verdict_css(verdict), ""
    o = 1 if verdict == "true" else 0
    # "Came true" is not "right": a source that said 3% was right when it did not happen.
    if says_yes(p) == bool(o):
        return "v-hit", f"A hit: the side it favoured happened. Brier {(p - o) ** 2:.3f}."
    return "v-miss", f"A miss: the side it favoured did not happen. Brier {(p - o) ** 2:.3f}."


# (kind, probability, verdict) -> (css, words): a site has far fewer distinct ones than claims.
_OUTCOMES: Memo[tuple[str, float | None, str | None], tuple[str, str]] = Memo(_outcome_of, limit=50_000)


def _probability_of(key: tuple[str, float | None, bool]) -> str:
    kind, probability, worded = key
    if kind != ClaimKind.PREDICTION:
        return ""
    # The source's words follow in the template, isolated from the text around them.
    if probability is None:
        return "unscored hedge" if worded else "none stated: recorded, not scored"
    # 0.675 shows as 67.5%, 0.8 as 80%: no digits the source did not imply.
    return f"{probability * 100:.1f}".rstrip("0").rstrip(".") + "%"


_PROBABILITIES: Memo[tuple[str, float | None, bool], str] = Memo(_probability_of, limit=50_000)


def excluded_reason(claim: ClaimRecord) -> str:
    """Why a resolved claim is kept out of the scores; "" when it is scored or still open."""
    if claim.verdict is None:
        return ""
    if claim.verdict in EXCLUDED_VERDICTS:
        return EXCLUDED_VERDICTS[claim.verdict]
    if claim.kind == ClaimKind.PREDICTION and claim.probability is None:
        return HEDGE_REASON if claim.confidence else UNSTATED_REASON
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


def _history_verdict(key: tuple[str, str | None, str | None]) -> tuple[str, str]:
    kind, verdict, progress = key
    return history_label(kind, verdict, progress), verdict_css(verdict or progress)


_HISTORY_VERDICTS: Memo[tuple[str, str | None, str | None], tuple[str, str]] = Memo(
    _history_verdict, limit=1_000
)


def _history(claim: ClaimRecord) -> tuple[HistoryView, ...]:
    kind = claim.kind
    views = []
    for h in claim.history:
        label, css = _HISTORY_VERDICTS[(kind, h.verdict, h.progress)]
        views.append(HistoryView(h, label, css, h.reviewer_name or h.reviewer or "unknown reviewer"))
    return tuple(views)


def claim_view(
    claim: ClaimRecord,
    review: ReviewWriter,
    *,
    today_in: Callable[[str | None], dt.date],
) -> ClaimView:
    """The entry for one claim; `today_in(timezone)` gives the date where its deadline is read."""
    anchor = f"claim-{claim.key}"
    verdict = claim.verdict
    kind = claim.kind
    deadline = claim.deadline
    days_left, overdue = "", False
    if verdict is None and deadline is not None:
        days_left, overdue = _days_left(deadline, today_in(claim.timezone))
    css, outcome = _OUTCOMES[(kind, claim.probability, verdict)]
    label = verdict_label(kind, verdict)
    if verdict is None and claim.progress is not None:
        # An open promise shows where it stands on the meter, as its history does.
        label, css = progress_label(claim.progress), verdict_css(claim.progress)
    return ClaimView(
        claim=claim,
        key=claim.key,
        anchor=anchor,
        verdict=verdict,
        label=label,
        css=css,
        probability=_PROBABILITIES[(kind, claim.probability, bool(claim.confidence))],
        days_left=days_left,
        overdue=overdue,
        outcome=outcome,
        excluded=excluded_reason(claim),
        history=_history(claim) if claim.history else (),
        jsonld=review(claim, anchor),
        sort_deadline=deadline or dt.date.max,
        sort_resolved=claim.resolved_on or claim.made_on,
    )
