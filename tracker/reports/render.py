"""Render a digest to a subject line, plain text and HTML; writing or mailing them is the caller's job.

Templates live in templates/report/. HTML is autoescaped; the plain text is not
(escaping would show "&lt;" to a mail reader) and is wrapped at 80 columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tracker.reports.changes import Digest
from tracker.reports.snapshot import Headline
from tracker.resources import resource_dir
from tracker.text import WIDTH, text_width, wrap_lines

DASH = "\u2013"
ARROW = "\u2192"


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    """The digest ready to write or send."""

    subject: str
    text: str
    html: str


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _number(value: float | None, digits: int = 3) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.0%}"


def _change(before: Headline, after: Headline) -> list[str]:
    """Lines of before and after: Brier with n, then accuracy with rated; what was never scored is left out."""
    lines = []
    if before.n_scored or after.n_scored:
        lines.append(
            f"Brier {_number(before.brier)} {ARROW} {_number(after.brier)} "
            f"(n {before.n_scored} {ARROW} {after.n_scored})"
        )
    if before.rated or after.rated:
        lines.append(
            f"accuracy {_percent(before.accuracy)} {ARROW} {_percent(after.accuracy)} "
            f"(rated {before.rated} {ARROW} {after.rated})"
        )
    return lines or ["nothing scored"]


def _probability(p: float | None, words: str | None) -> str:
    if p is None:
        return f"\u201c{words}\u201d (not scored)" if words else "no probability"
    return f"\u201c{words}\u201d, {p:.0%}" if words else f"{p:.0%}"


def _verdict(verdict: str | None) -> str:
    return "re-opened" if verdict is None else verdict


def _wrap(text: object, indent: str = "", first: str | None = None) -> str:
    """`text` wrapped at WIDTH with every line indented; `first` replaces the indent on line one."""
    lines = wrap_lines(str(text), WIDTH - text_width(indent))
    return "\n".join((indent if i or first is None else first) + line for i, line in enumerate(lines))


def _web_url(url: str) -> bool:
    # Evidence is validated as http(s) on the way in; checking again keeps a bad row from
    # becoming a javascript: link in someone's mailbox.
    return url.lower().startswith(("http://", "https://"))


def _host(url: str) -> str:
    """The site a URL points at, as link text: "bbc.com" reads better than the whole address."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def _href(url: str) -> str:
    """`url` with the characters a URL may not contain (such as < or non-ASCII) percent-encoded."""
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


def subject_of(digest: Digest) -> str:
    """The one-line summary used as the mail subject and the page title."""
    day = when(digest.until, digest.timezone, "%Y-%m-%d")
    if digest.empty:
        return f"tracker report {day}: nothing new"
    parts = [
        _plural(digest.resolutions.total, "new verdict"),
        _plural(digest.score_changes.total, "score change"),
        _plural(digest.newly_overdue.total, "newly overdue", "newly overdue"),
        _plural(digest.new_claims.total, "new claim"),
    ]
    return f"tracker report {day}: " + ", ".join(parts)


def when(moment: dt.datetime | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A moment as the digest shows it, in `timezone`; None is the beginning."""
    if moment is None:
        return "the beginning"
    return moment.astimezone(ZoneInfo(timezone)).strftime(fmt)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja environment for templates/report/ (autoescape for .html only)."""
    env = Environment(
        loader=FileSystemLoader(resource_dir("templates") / "report"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        wrap=_wrap,
        number=_number,
        percent=_percent,
        probability=_probability,
        verdict=_verdict,
        href=_href,
        host=_host,
        plural=_plural,
    )
    env.globals.update(change=_change, web_url=_web_url, width=WIDTH)
    return env


def render_digest(digest: Digest) -> RenderedDigest:
    """The digest as (subject, plain text, HTML)."""
    env = environment()
    subject = subject_of(digest)
    context = {
        "digest": digest,
        "subject": subject,
        "since": when(digest.since, digest.timezone),
        "until": when(digest.until, digest.timezone),
    }
    text = env.get_template("digest.txt").render(context)
    html = env.get_template("digest.html").render(context)
    return RenderedDigest(subject, text, html)
