"""The filters and globals every template shares: each wraps a plain function of `tracker.formatting`
or lays out plain text, so that the CLI, the pages and the messages write a figure alike.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from tracker import formatting
from tracker.text import WIDTH, text_width, wrap_lines
from tracker.textdiff import word_diff


def probability(p: float | None, words: str | None = None) -> str:
    """A stated probability as said: "“likely”, 70%", "70%", "“maybe” (not scored)"."""
    if p is None:
        return f"\u201c{words}\u201d (not scored)" if words else "no probability"
    return f"\u201c{words}\u201d, {formatting.percent(p)}" if words else formatting.percent(p)


def verdict(value: str | None) -> str:
    """A verdict as a word; None (an un-resolve) is "re-opened"."""
    return "re-opened" if value is None else value


def web_url(url: str) -> bool:
    """Whether `url` is an http(s) address, safe to make a link of."""
    # Evidence is validated as http(s) on the way in; checking again keeps a bad row from
    # becoming a javascript: link in someone's page or mailbox.
    return url.lower().startswith(("http://", "https://"))


def href(url: str) -> str:
    """`url` with the characters a URL may not contain (such as < or non-ASCII) percent-encoded."""
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


def wrap(text: object, indent: str = "", first: str | None = None) -> str:
    """`text` wrapped at WIDTH with every line indented; `first` replaces the indent on line one."""
    lines = wrap_lines(str(text), WIDTH - text_width(indent))
    return "\n".join((indent if i or first is None else first) + line for i, line in enumerate(lines))


def fill(text: str, width: int, first: str, rest: str) -> str:
    """textwrap.fill(text, width, initial_indent=first, subsequent_indent=rest, break_long_words=False).

    Every reminder digest wraps two texts per claim, and textwrap's chunking cost more than
    the rest of the template. Text without hyphens splits only at its spaces, so greedy
    filling by words gives textwrap's lines exactly (a word longer than a line stands alone,
    as there); text with hyphens, which textwrap may break after, goes to textwrap itself.
    """
    words = text.split()
    if not words:
        return ""
    if "-" in text:
        return textwrap.fill(
            " ".join(words), width, initial_indent=first, subsequent_indent=rest, break_long_words=False
        )
    lines: list[str] = []
    line = first + words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = rest + word
    lines.append(line)
    return "\n".join(lines)


def indent_wrap(text: str, width: int = 76, indent: str = "   ") -> str:
    """`text` filled to `width` columns, every line indented."""
    return fill(text, width, indent, indent)


def field(text: str, label: str, width: int = 78) -> str:
    """ "   Label:   value", the value wrapped and aligned under itself."""
    head = f"   {label + ':':<10}"
    return fill(text, width, head, " " * len(head))


FILTERS: dict[str, Callable[..., Any]] = {
    "num": formatting.number,
    "pct": formatting.percent,
    "interval": formatting.interval,
    "plural": formatting.plural,
    "date": formatting.date,
    "month": formatting.month,
    "moment": formatting.moment,
    "host": formatting.host,
    "href": href,
    "probability": probability,
    "verdict": verdict,
    "wrap": wrap,
    "indent_wrap": indent_wrap,
    "field": field,
    "word_diff": word_diff,
}
"""Every filter, by the name templates use."""

TESTS: dict[str, Callable[..., bool]] = {
    "web_url": web_url,
}
"""Every test (`{% if url is web_url %}`), by name."""

GLOBALS: dict[str, Any] = {
    "NONE": formatting.NONE,
    "web_url": web_url,
    "width": WIDTH,
}
"""Every global the templates share."""
