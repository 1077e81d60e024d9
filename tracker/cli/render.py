"""How claims look on the terminal and in JSON; the services decide what, this decides how."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker.cli.output import GAP, WIDTH, fields, one_line, pad, text_width, truncate, wrap
from tracker.formatting import NONE, date, percent
from tracker.models import DEADLINE_KINDS, Claim, ClaimKind, ClaimStatus, Resolution
from tracker.review import ROLE_WORDS, visible_resolutions
from tracker.scoring.agreement import Agreement, Share
from tracker.services.deadlines import is_overdue


def claim_summary(claim: Claim) -> dict[str, Any]:
    """The JSON of a claim in listings: enough to act on it."""
    return {
        "key": claim.key,
        "kind": claim.kind,
        "source": claim.source.slug,
        "statement": claim.statement,
        "made_on": claim.made_on,
        "probability": claim.probability,
        "confidence": claim.confidence,
        "deadline": claim.deadline,
        "status": claim.status,
        "verdict": claim.verdict,
        # A promise's latest progress status (in-the-works, stalled); None for other kinds.
        "progress": claim.progress,
        "tags": claim.tag_names,
        "reviewers": [r.handle for r in claim.reviewers],
    }


def resolution_json(entry: Resolution) -> dict[str, Any]:
    """One history entry: a verdict, a promise's progress status, or (both None) an un-resolve."""
    return {
        "verdict": entry.verdict,
        "progress": entry.progress,
        "evidence": list(entry.evidence),
        "note": entry.note,
        "by": entry.reviewer.handle if entry.reviewer else None,
        "resolved_on": entry.resolved_on,
        "recorded_at": entry.recorded_at,
        # verdict, or in a double review: first, second, adjudication (tracker.review).
        "role": entry.role,
    }


def claim_detail(
    claim: Claim, now: dt.datetime, default_timezone: str, viewer: str | None = None
) -> dict[str, Any]:
    """The JSON of one claim with both of its histories, as reviewer `viewer` may see them."""
    appearance = claim.appearance
    return {
        **claim_summary(claim),
        "quote": claim.quote,
        "appearance": (
            {
                "url": appearance.url,
                "title": appearance.title,
                "author": appearance.author,
                "published": appearance.published,
            }
            if appearance
            else None
        ),
        "scored": claim.scored,
        "probability_basis": claim.probability_basis,
        "recorded_after_outcome": claim.recorded_late,
        "criteria": claim.criteria,
        "window_start": claim.window_start,
        "timezone": claim.timezone,
        "as_of": claim.as_of,
        "overdue": is_overdue(claim, now, default_timezone),
        "criteria_versions": [
            {
                "version": v.version,
                "criteria": v.criteria,
                "deadline": v.deadline,
                "window_start": v.window_start,
                "timezone": v.timezone,
                "recorded_at": v.recorded_at,
                "reason": v.reason,
                "recorded_by": v.recorded_by.handle if v.recorded_by else None,
            }
            for v in claim.criteria_versions
        ],
        "resolutions": [resolution_json(r) for r in visible_resolutions(claim, viewer)],
    }


def probability_text(claim: Claim) -> str:
    """ "0.75", or NONE for an unscored hedge or a fact."""
    return NONE if claim.probability is None else f"{claim.probability:.3g}"


def state_text(claim: Claim, now: dt.datetime, default_timezone: str) -> str:
    """The verdict when resolved, else open or overdue (with an open promise's progress)."""
    if claim.verdict is not None:
        return claim.verdict
    state = "overdue" if is_overdue(claim, now, default_timezone) else claim.status
    return f"{state}, {claim.progress}" if claim.progress and claim.status == ClaimStatus.OPEN else state


KIND_ABBREVIATIONS: dict[str, str] = {
    ClaimKind.PREDICTION: "pred",
    ClaimKind.FACT: "fact",
    ClaimKind.PROMISE: "prom",
}


def history_word(entry: Resolution) -> str:
    """What a history entry recorded: its verdict (and its part in a double review), a
    promise's progress, or an un-resolve."""
    if entry.verdict and entry.role in ROLE_WORDS:
        return f"{entry.verdict} ({ROLE_WORDS[entry.role]})"
    return entry.verdict or entry.progress or "un-resolved"


def claims_table(claims: list[Claim], now: dt.datetime, default_timezone: str, width: int = WIDTH) -> str:
    """The `claims list` table: one line of facts per claim, then its source and statement.

    Ids are never cut, since people copy them into other commands; an id too long for
    its column gets a line of its own.
    """
    rows = [
        [
            KIND_ABBREVIATIONS.get(c.kind, c.kind),
            # ISO here, unlike `claims show`: a column splits on spaces, and it is the form
            # that --deadline and --now take.
            c.deadline.isoformat() if c.deadline else NONE,
            probability_text(c),
            state_text(c, now, default_timezone),
        ]
        for c in claims
    ]
    headers = ["KIND", "DUE", "P", "STATUS"]
    widths = [max(text_width(x) for x in column) for column in zip(headers, *rows, strict=False)]
    rest = len(GAP.join(" " * w for w in widths))
    id_width = max(2, min(max((text_width(c.key) for c in claims), default=2), width - rest - len(GAP)))

    def line(key: str, cells: list[str]) -> str:
        parts = [
            pad(cell, w, ">" if i == 2 else "<")
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return GAP.join([pad(key, id_width), *parts]).rstrip()

    out = [line("ID", headers)]
    for claim, cells in zip(claims, rows, strict=True):
        key = claim.key
        if text_width(key) > id_width:
            out.append(key)
            key = ""
        out.append(line(key, cells))
        out.append(truncate(f"  {claim.source.slug}: {one_line(claim.statement)}", width))
    return "\n".join(out)


def claim_text(claim: Claim, now: dt.datetime, default_timezone: str, viewer: str | None = None) -> str:
    """The `claims show` page, as reviewer `viewer` may see it (a blind first verdict hidden)."""
    pairs: list[tuple[str, str]] = [
        ("Claim", f"{claim.key} ({claim.kind}, {state_text(claim, now, default_timezone)})"),
        ("Source", f"{claim.source.name} ({claim.source.slug})"),
        ("Statement", claim.statement),
        ("Quote", f"\u201c{claim.quote}\u201d"),
        ("Made on", date(claim.made_on)),
    ]
    if claim.appearance:
        title = claim.appearance.title or "(untitled)"
        pairs.append(("Appeared in", f"{title} {claim.appearance.url}"))
    if claim.kind in DEADLINE_KINDS:
        pairs += _forecast_pairs(claim, default_timezone)
    else:
        pairs.append(("As of", date(claim.as_of)))
    if claim.recorded_late:
        pairs.append(("Recorded", "after the outcome: its criteria were not set in advance"))
    pairs.append(("Reviewers", ", ".join(r.handle for r in claim.reviewers) or NONE))
    pairs.append(("Tags", ", ".join(claim.tag_names) or NONE))
    out = [fields(pairs)]
    if len(claim.criteria_versions) > 1:
        out.append("\nCriteria history (frozen; every edit is a new version):")
        for v in claim.criteria_versions:
            out.append(
                f"  v{v.version}  recorded {v.recorded_at:%Y-%m-%d %H:%M}Z  deadline {date(v.deadline)}"
            )
            out.append(wrap(v.criteria, "      "))
            if v.reason:
                by = f" ({v.recorded_by.handle})" if v.recorded_by else ""
                out.append(wrap(f"Why{by}: {v.reason}", "      "))
    if history := visible_resolutions(claim, viewer):
        out.append("\nVerdict history (latest is current):")
        for r in history:
            by = r.reviewer.handle if r.reviewer else "?"
            out.append(f"  {date(r.resolved_on)}  {history_word(r)}  by {by}")
            if r.note:
                out.append(wrap(r.note, "      "))
            out.extend(f"      {url}" for url in r.evidence)
    return "\n".join(out)


def _forecast_pairs(claim: Claim, default_timezone: str) -> list[tuple[str, str]]:
    """The probability (a prediction's; a promise has none), criteria and deadline."""
    pairs: list[tuple[str, str]] = []
    if claim.kind == ClaimKind.PREDICTION:
        words = f" from \u201c{claim.confidence}\u201d" if claim.confidence else ""
        if claim.probability is not None:
            chance = f"{claim.probability:g}"
        else:
            chance = "unscored" if claim.confidence else "none stated (recorded, not scored)"
        pairs.append(("Probability", chance + words))
        if claim.probability_basis:
            pairs.append(("Basis", claim.probability_basis))
    version = len(claim.criteria_versions)
    pairs.append((f"Criteria v{version}", claim.criteria or NONE))
    window = f"{date(claim.window_start)} to " if claim.window_start else ""
    zone = claim.timezone or f"{default_timezone}, the default"
    pairs.append(("Deadline", f"{window}{date(claim.deadline)} ({zone})"))
    return pairs


def _share_json(share: Share) -> dict[str, Any]:
    return {"n": share.n, "agreed": share.agreed, "share": share.share}


def agreement_json(figures: Agreement) -> dict[str, Any]:
    """`tracker reviewers agreement --json`."""
    return {
        "overall": _share_json(figures.overall),
        "reviewers": {handle: _share_json(s) for handle, s in figures.reviewers.items()},
        "kappa": {k.scale: {"n": k.n, "kappa": k.kappa} for k in figures.kappas},
    }


def _share_text(share: Share) -> str:
    return f"{share.agreed} of {share.n} agreed ({percent(share.share)})"


def agreement_text(figures: Agreement) -> str:
    """`tracker reviewers agreement`."""
    if not figures.overall.n:
        return "no double-reviewed claims yet (review.verdicts_required = 2 asks for two verdicts)"
    pairs = [("Overall", _share_text(figures.overall))]
    pairs += [(handle, _share_text(share)) for handle, share in figures.reviewers.items()]
    pairs += [
        (f"Kappa, {k.scale}", f"{NONE if k.kappa is None else f'{k.kappa:.3f}'} (n = {k.n})")
        for k in figures.kappas
    ]
    return fields(pairs)
