"""One claim as its scorecard entry shows it: its HTML written here, once, in Python.

A site of a million claims writes a million entries, and a template macro per claim cost
a third of a build; the source page's template places the entries, already joined. Every
value that comes from the database is escaped with `markupsafe.escape` as it goes in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

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
class ClaimView:
    """A claim's entry on its source's page: its HTML, and what the page sorts it by."""

    key: str
    verdict: str | None
    excluded: str  # why it is kept out of the scores, or ""
    sort_deadline: dt.date
    sort_resolved: dt.date
    html: Markup


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


# Values that repeat across a site's claims (verdicts, kinds, tags, reviewers, bylines),
# escaped once each. Only strings go in; the cache is bounded so a huge site cannot grow it
# without limit.
_ESCAPED: dict[str, str] = {}


def _esc_common(text: str) -> str:
    found = _ESCAPED.get(text)
    if found is None:
        found = str(escape(text))
        if len(_ESCAPED) < 50_000:
            _ESCAPED[text] = found
    return found


def _criteria_html(claim: ClaimRecord) -> str:
    versions = claim.criteria_history
    if not versions:
        return ""
    last = len(versions) - 1
    parts = ['<h4>Resolution criteria</h4>\n<ol class="criteria">\n']
    for i, c in enumerate(versions):
        superseded = i < last
        by = ""
        if c.deadline:
            window = f", from {day(c.window_start)}" if c.window_start else ""
            by = f' <span class="by">By {day(c.deadline)}{window}.</span>'
        parts.append(
            f'<li class="{"is-superseded" if superseded else "is-current"}"><span class="version">'
            f"Version {c.version}, {'superseded' if superseded else 'in force'}</span> "
            f'<span class="recorded">recorded {day(c.recorded_at.date())}</span>'
            f"<p>{escape(c.criteria)}{by}</p></li>\n"
        )
    parts.append("</ol>\n")
    return "".join(parts)


def _history_html(claim: ClaimRecord) -> str:
    if not claim.history:
        return ""
    parts = ['<h4>Verdict history</h4>\n<ol class="history">\n']
    for h in claim.history:
        label = "Re-opened" if h.verdict is None else verdict_label(claim.kind, h.verdict)
        reviewer = h.reviewer_name or h.reviewer or "unknown reviewer"
        note = f'<p class="note-text">{escape(h.note)}</p>' if h.note else ""
        evidence = ""
        if h.evidence:
            links = ", ".join(f'<a href="{url}">{url}</a>' for url in map(escape, h.evidence))
            evidence = f'<p class="evidence">Evidence: {links}</p>'
        parts.append(
            f'<li><time datetime="{h.resolved_on.isoformat()}">{day(h.resolved_on)}</time> '
            f'<span class="verdict {_esc_common(verdict_css(h.verdict))}">{_esc_common(label)}</span> '
            f'<span class="by">by {_esc_common(reviewer)}</span>{note}{evidence}</li>\n'
        )
    parts.append("</ol>\n")
    return "".join(parts)


def claim_view(
    claim: ClaimRecord,
    review: ReviewWriter,
    *,
    today_in: Callable[[str | None], dt.date],
) -> ClaimView:
    """The entry for one claim; `today_in(timezone)` gives the date where its deadline is read.

    The HTML is written here rather than by a template macro, once per claim: every value
    that comes from the database is escaped (`markupsafe.escape`), and only dates, numbers
    and fixed words worked out here go in unescaped.
    """
    raw_anchor = f"claim-{claim.key}"
    anchor = escape(raw_anchor)
    days_left, overdue = "", False
    if claim.verdict is None and claim.deadline is not None:
        days_left, overdue = _days_left(claim.deadline, today_in(claim.timezone))
    css, outcome = _scored_outcome(claim)
    css = _esc_common(css)
    excluded = excluded_reason(claim)
    kind = claim.kind

    facts = [
        f'<dl class="claim-facts"><div><dt>Said on</dt><dd><time datetime="{claim.made_on.isoformat()}">'
        f"{day(claim.made_on)}</time></dd></div>"
    ]
    probability = _probability(claim)
    if probability:
        facts.append(f"<div><dt>Probability</dt><dd>{_esc_common(probability)}</dd></div>")
    deadline = claim.deadline
    if deadline:
        left = ""
        if days_left:
            late = " is-late" if overdue else ""
            left = f' \u00b7 <span class="days-left{late}">{days_left}</span>'
        facts.append(
            f'<div><dt>Deadline</dt><dd><time datetime="{deadline.isoformat()}">{day(deadline)}</time>'
            f"{left}</dd></div>"
        )
    if claim.as_of and claim.as_of != claim.made_on:
        facts.append(f"<div><dt>Judged as of</dt><dd>{day(claim.as_of)}</dd></div>")
    if claim.tags:
        facts.append(f"<div><dt>Tags</dt><dd>{_esc_common(', '.join(claim.tags))}</dd></div>")
    if claim.reviewers:
        facts.append(f"<div><dt>Reviewers</dt><dd>{_esc_common(', '.join(claim.reviewers))}</dd></div>")
    facts.append("</dl>\n")

    quote = escape(claim.quote)
    article = claim.article
    if article is not None:
        url = escape(article.url)
        meta = []
        if article.author:
            meta.append(article.author)
        if article.published:
            meta.append(day(article.published))
        byline = f" \u00b7 {_esc_common(' · '.join(meta))}" if meta else ""
        appeared = (
            f'<blockquote class="quote" cite="{url}"><p>{quote}</p></blockquote>\n'
            f'<p class="appeared">In <a href="{url}">{escape(article.title or article.url)}</a>{byline}</p>\n'
        )
    else:
        appeared = f'<blockquote class="quote"><p>{quote}</p></blockquote>\n'

    flags = ' <span class="flag-overdue">Overdue</span>' if overdue else ""
    if excluded:
        flags += ' <span class="flag-excluded">Not scored</span>'
    jsonld = review(claim, raw_anchor)
    html = "".join(
        (
            f'<article class="claim {css}{" is-overdue" if overdue else ""}" id="{anchor}">\n'
            f'<p class="claim-meta"><span class="verdict {css}">{_esc_common(verdict_label(kind, claim.verdict))}'
            f'</span>{flags} <span class="claim-kind">{_esc_common(kind)}</span></p>\n'
            f'<h3 class="statement"><a href="#{anchor}">{escape(claim.statement)}</a></h3>\n',
            appeared,
            *facts,
            f'<p class="outcome">{outcome}</p>\n' if outcome else "",
            f'<p class="excluded-why">Kept out of the scores: {_esc_common(excluded)}.</p>\n'
            if excluded
            else "",
            _criteria_html(claim),
            _history_html(claim),
            f'<script type="application/ld+json">{jsonld}</script>\n' if jsonld else "",
            "</article>\n",
        )
    )
    resolved_on = claim.resolved_on
    return ClaimView(
        key=claim.key,
        verdict=claim.verdict,
        excluded=excluded,
        sort_deadline=deadline or dt.date.max,
        sort_resolved=resolved_on or claim.made_on,
        html=Markup(html),
    )
