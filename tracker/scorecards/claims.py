"""One claim as its scorecard entry shows it: its HTML written here, once, in Python.

A site of a million claims writes a million entries, and a template macro per claim cost
a third of a build; the source page's template places the entries, already joined. Every
value that comes from the database is escaped (`html_text`, markupsafe's escaping) as it goes in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

from tracker.models import ClaimKind, FactVerdict, PredictionVerdict
from tracker.scorecards.charts import MONTHS
from tracker.scorecards.claimreview import ReviewWriter, verdict_label
from tracker.scorecards.data import Article, ClaimRecord
from tracker.scorecards.memo import Memo
from tracker.scoring import says_yes

EXCLUDED_VERDICTS = {
    PredictionVerdict.AMBIGUOUS.value: "ambiguous: it cannot be told whether it happened",
    PredictionVerdict.ANNULLED.value: "annulled: its premise failed",
    FactVerdict.UNVERIFIABLE.value: "unverifiable",
}
HEDGE_REASON = "a hedge that names no probability"


def _escaped(text: str) -> str:
    return str(escape(text))


html_text: Callable[[str], str] = _escaped
"""`text` escaped for HTML as `markupsafe.escape` does it, as a plain string."""
try:
    # markupsafe's own C escaper, without the `Markup` wrapper `escape` adds: a seventh of the
    # cost, and a claim's entry escapes a dozen values (a test holds the two equal).
    from markupsafe._speedups import _escape_inner

    html_text = _escape_inner
except ImportError:  # markupsafe without its C speedups
    pass


def _day_text(d: dt.date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


# Memoised: a site has far fewer distinct dates than claims.
_DAYS: Memo[dt.date, str] = Memo(_day_text, limit=100_000)


def day(d: dt.date) -> str:
    """ "16 Nov 2017"."""
    return _DAYS[d]


def _time_html(d: dt.date) -> str:
    return f'<time datetime="{d.isoformat()}">{_DAYS[d]}</time>'


_TIMES: Memo[dt.date, str] = Memo(_time_html, limit=100_000)


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


def _outcome_of(key: tuple[str, float | None, str | None]) -> tuple[str, str]:
    kind, p, verdict = key
    if kind != ClaimKind.PREDICTION or p is None or verdict not in ("true", "false"):
        return verdict_css(verdict), ""
    o = 1 if verdict == "true" else 0
    # "Came true" is not "right": a source that said 3% was right when it did not happen.
    if says_yes(p) == bool(o):
        return "v-hit", f"A hit: the side it favoured happened. Brier {(p - o) ** 2:.3f}."
    return "v-miss", f"A miss: the side it favoured did not happen. Brier {(p - o) ** 2:.3f}."


# (kind, probability, verdict) -> (css, words); the words need no escaping.
_OUTCOMES: Memo[tuple[str, float | None, str | None], tuple[str, str]] = Memo(_outcome_of, limit=50_000)


def _scored_outcome(claim: ClaimRecord) -> tuple[str, str]:
    """(css, words) for a scored prediction: whether the side it favoured happened."""
    return _OUTCOMES[(claim.kind, claim.probability, claim.verdict)]


def _probability_of(key: tuple[str, float | None, str | None]) -> str:
    kind, probability, confidence = key
    if kind != ClaimKind.PREDICTION:
        return ""
    words = f" (\u201c{confidence}\u201d)" if confidence else ""
    if probability is None:
        return f"unscored hedge{words}"
    # 0.675 shows as 67.5%, 0.8 as 80%: no digits the source did not imply.
    return f"{probability * 100:.1f}".rstrip("0").rstrip(".") + f"%{words}"


def _probability_row(key: tuple[str, float | None, str | None]) -> str:
    text = _probability_of(key)
    return f"<div><dt>Probability</dt><dd>{html_text(text)}</dd></div>" if text else ""


# (kind, probability, confidence) -> the escaped "Probability" row of the claim's facts.
_PROBABILITY_ROWS: Memo[tuple[str, float | None, str | None], str] = Memo(_probability_row, limit=50_000)


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
# escaped once each; bounded so that a huge site cannot grow it without limit.
_ESCAPED: Memo[str, str] = Memo(html_text, limit=50_000)


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
            window = f", from {_DAYS[c.window_start]}" if c.window_start else ""
            by = f' <span class="by">By {_DAYS[c.deadline]}{window}.</span>'
        parts.append(
            f'<li class="{"is-superseded" if superseded else "is-current"}"><span class="version">'
            f"Version {c.version}, {'superseded' if superseded else 'in force'}</span> "
            f'<span class="recorded">recorded {_DAYS[c.recorded_at.date()]}</span>'
            f"<p>{html_text(c.criteria)}{by}</p></li>\n"
        )
    parts.append("</ol>\n")
    return "".join(parts)


def _verdict_span(key: tuple[str, str | None]) -> str:
    kind, verdict = key
    label = "Re-opened" if verdict is None else verdict_label(kind, verdict)
    return f'<span class="verdict {html_text(verdict_css(verdict))}">{html_text(label)}</span>'


# (kind, verdict) -> the escaped badge of a verdict-history entry.
_HISTORY_VERDICTS: Memo[tuple[str, str | None], str] = Memo(_verdict_span, limit=1_000)


def _history_html(claim: ClaimRecord) -> str:
    if not claim.history:
        return ""
    parts = ['<h4>Verdict history</h4>\n<ol class="history">\n']
    kind = claim.kind
    for h in claim.history:
        reviewer = h.reviewer_name or h.reviewer or "unknown reviewer"
        note = f'<p class="note-text">{html_text(h.note)}</p>' if h.note else ""
        evidence = ""
        if h.evidence:
            links = ", ".join(f'<a href="{url}">{url}</a>' for url in map(html_text, h.evidence))
            evidence = f'<p class="evidence">Evidence: {links}</p>'
        parts.append(
            f"<li>{_TIMES[h.resolved_on]} {_HISTORY_VERDICTS[(kind, h.verdict)]} "
            f'<span class="by">by {_ESCAPED[reviewer]}</span>{note}{evidence}</li>\n'
        )
    parts.append("</ol>\n")
    return "".join(parts)


def _heading_of(key: tuple[str, str | None, str, bool, bool]) -> tuple[str, str]:
    kind, verdict, css, overdue, excluded = key
    flags = ' <span class="flag-overdue">Overdue</span>' if overdue else ""
    if excluded:
        flags += ' <span class="flag-excluded">Not scored</span>'
    css = html_text(css)
    opening = f'<article class="claim {css}{" is-overdue" if overdue else ""}" id="'
    meta = (
        f'">\n<p class="claim-meta"><span class="verdict {css}">{html_text(verdict_label(kind, verdict))}'
        f'</span>{flags} <span class="claim-kind">{html_text(kind)}</span></p>\n<h3 class="statement"><a href="#'
    )
    return opening, meta


# (kind, verdict, css, overdue, excluded) -> the escaped markup around the entry's anchor:
# everything from "<article" to the heading's link, but for the anchor itself (twice).
_HEADINGS: Memo[tuple[str, str | None, str, bool, bool], tuple[str, str]] = Memo(_heading_of, limit=1_000)


def _appearance_of(article: Article) -> tuple[str, str]:
    url = html_text(article.url)
    meta = []
    if article.author:
        meta.append(article.author)
    if article.published:
        meta.append(_DAYS[article.published])
    byline = f" \u00b7 {html_text(' · '.join(meta))}" if meta else ""
    line = (
        f'<p class="appeared">In <a href="{url}">{html_text(article.title or article.url)}</a>{byline}</p>\n'
    )
    return f'<blockquote class="quote" cite="{url}"><p>', f"</p></blockquote>\n{line}"


# An article -> the escaped markup before and after a quote from it (several claims often
# come from one article).
_APPEARANCES: Memo[Article, tuple[str, str]] = Memo(_appearance_of, limit=20_000)
_NO_APPEARANCE = ('<blockquote class="quote"><p>', "</p></blockquote>\n")


def _list_row(key: tuple[str, tuple[str, ...]]) -> str:
    title, items = key
    return f"<div><dt>{title}</dt><dd>{html_text(', '.join(items))}</dd></div>"


# ("Tags" or "Reviewers", the values) -> the escaped row of the claim's facts.
_LIST_ROWS: Memo[tuple[str, tuple[str, ...]], str] = Memo(_list_row, limit=50_000)


def claim_view(
    claim: ClaimRecord,
    review: ReviewWriter,
    *,
    today_in: Callable[[str | None], dt.date],
) -> ClaimView:
    """The entry for one claim; `today_in(timezone)` gives the date where its deadline is read.

    The HTML is written here rather than by a template macro, once per claim: every value
    that comes from the database is escaped (`html_text`), and only dates, numbers
    and fixed words worked out here go in unescaped. What many claims share (their verdict
    badges, articles, probabilities, tags) is escaped once and memoised.
    """
    raw_anchor = f"claim-{claim.key}"
    anchor = html_text(raw_anchor)
    verdict = claim.verdict
    kind = claim.kind
    deadline = claim.deadline
    days_left, overdue = "", False
    if verdict is None and deadline is not None:
        days_left, overdue = _days_left(deadline, today_in(claim.timezone))
    css, outcome = _OUTCOMES[(kind, claim.probability, verdict)]
    excluded = excluded_reason(claim)
    opening, meta = _HEADINGS[(kind, verdict, css, overdue, bool(excluded))]

    facts = f'<dl class="claim-facts"><div><dt>Said on</dt><dd>{_TIMES[claim.made_on]}</dd></div>'
    facts += _PROBABILITY_ROWS[(kind, claim.probability, claim.confidence)]
    if deadline:
        left = ""
        if days_left:
            late = " is-late" if overdue else ""
            left = f' \u00b7 <span class="days-left{late}">{days_left}</span>'
        facts += f"<div><dt>Deadline</dt><dd>{_TIMES[deadline]}{left}</dd></div>"
    if claim.as_of and claim.as_of != claim.made_on:
        facts += f"<div><dt>Judged as of</dt><dd>{_DAYS[claim.as_of]}</dd></div>"
    if claim.tags:
        facts += _LIST_ROWS[("Tags", claim.tags)]
    if claim.reviewers:
        facts += _LIST_ROWS[("Reviewers", claim.reviewers)]

    before_quote, after_quote = _NO_APPEARANCE if claim.article is None else _APPEARANCES[claim.article]
    jsonld = review(claim, raw_anchor)
    html = "".join(
        (
            opening,
            anchor,
            meta,
            anchor,
            f'">{html_text(claim.statement)}</a></h3>\n',
            before_quote,
            html_text(claim.quote),
            after_quote,
            facts,
            "</dl>\n",
            f'<p class="outcome">{outcome}</p>\n' if outcome else "",
            f'<p class="excluded-why">Kept out of the scores: {_ESCAPED[excluded]}.</p>\n'
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
        verdict=verdict,
        excluded=excluded,
        sort_deadline=deadline or dt.date.max,
        sort_resolved=resolved_on or claim.made_on,
        html=Markup(html),
    )
