"""Render a digest to a subject line, plain text and HTML; writing or mailing them is the caller's job.

Templates live in templates/report/ and are drawn with the one template environment
(`tracker.templating`): the HTML extends the site's base.html, carries the site's stylesheet
inline (it is also mailed) and links each item to its claim's entry on the site. HTML is
autoescaped; the plain text is not (escaping would show "&lt;" to a mail reader) and is
wrapped at 80 columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from jinja2 import Environment

from tracker.formatting import moment, number, percent, plural
from tracker.reports.changes import Digest
from tracker.reports.snapshot import Headline
from tracker.scoring import SELECTION_NOTE

ARROW = "\u2192"


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    """The digest ready to write or send."""

    subject: str
    text: str
    html: str


def change_lines(before: Headline, after: Headline) -> list[str]:
    """Lines of before and after: Brier with n, then accuracy with rated; what was never scored is left out."""
    lines = []
    if before.n_scored or after.n_scored:
        lines.append(
            f"Brier {number(before.brier)} {ARROW} {number(after.brier)} "
            f"(n {before.n_scored} {ARROW} {after.n_scored})"
        )
    if before.rated or after.rated:
        lines.append(
            f"accuracy {percent(before.accuracy)} {ARROW} {percent(after.accuracy)} "
            f"(rated {before.rated} {ARROW} {after.rated})"
        )
    return lines or ["nothing scored"]


def subject_of(digest: Digest) -> str:
    """The one-line summary used as the mail subject and the page title."""
    day = when(digest.until, digest.timezone, "%Y-%m-%d")
    if digest.empty:
        return f"tracker report {day}: nothing new"
    parts = [
        plural(digest.resolutions.total, "new verdict"),
        plural(digest.score_changes.total, "score change"),
        plural(digest.newly_overdue.total, "newly overdue", "newly overdue"),
        plural(digest.new_claims.total, "new claim"),
    ]
    return f"tracker report {day}: " + ", ".join(parts)


def when(at: dt.datetime | None, timezone: str, fmt: str | None = None) -> str:
    """A moment as the digest shows it (`tracker.formatting.moment`, or `fmt`), in `timezone`.

    None is the beginning.
    """
    if at is None:
        return "the beginning"
    local = at.astimezone(ZoneInfo(timezone))
    return moment(local) if fmt is None else local.strftime(fmt)


def render_digest(env: Environment, digest: Digest, *, root: str = "../") -> RenderedDigest:
    """The digest as (subject, plain text, HTML), drawn with `env`'s templates.

    `root` is the site's root as seen from the digest: its links to the site's pages start
    with it ("../" for the copy written under the site's reports/ folder).
    """
    subject = subject_of(digest)
    context = {
        "digest": digest,
        "subject": subject,
        "since": when(digest.since, digest.timezone),
        "until": when(digest.until, digest.timezone),
        "change": change_lines,
        "root": root,
        "selection_note": SELECTION_NOTE,
    }
    text = env.get_template("report/digest.txt").render(context)
    html = env.get_template("report/digest.html").render(context)
    return RenderedDigest(subject, text, html)
