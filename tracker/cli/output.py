"""Human output that fits an 80-column terminal, and JSON output for machines."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

WIDTH = 80
ELLIPSIS = "…"
GAP = "  "


def char_width(ch: str) -> int:
    """Columns a character takes in a terminal: CJK takes two, combining marks none."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    """Columns `text` takes in a terminal."""
    return sum(char_width(ch) for ch in text)


def one_line(text: str) -> str:
    """Collapse newlines and runs of spaces, for table cells."""
    return re.sub(r"\s+", " ", text).strip()


def truncate(text: str, width: int) -> str:
    """`text` cut to `width` columns, ending in an ellipsis when cut."""
    if text_width(text) <= width:
        return text
    if width <= 0:
        return ""
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ELLIPSIS


def pad(text: str, width: int, align: str = "<") -> str:
    """`text` padded with spaces to `width` columns."""
    fill = " " * max(0, width - text_width(text))
    return fill + text if align == ">" else text + fill


@dataclass(frozen=True)
class Column:
    """A table column: its header, alignment and how far it may shrink (None: never)."""

    header: str
    align: str = "<"
    min_width: int | None = None


def table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int = WIDTH) -> str:
    """Aligned columns; shrinkable ones are cut, last column first, until the lines fit."""
    cells = [[one_line(c) for c in row] for row in rows]
    widths = [
        max([text_width(col.header)] + [text_width(r[i]) for r in cells]) for i, col in enumerate(columns)
    ]
    excess = sum(widths) + len(GAP) * (len(columns) - 1) - width
    for i in reversed(range(len(columns))):
        floor = columns[i].min_width
        if excess <= 0:
            break
        if floor is not None and widths[i] > floor:
            cut = min(excess, widths[i] - floor)
            widths[i] -= cut
            excess -= cut
    lines = []
    for row in [[c.header for c in columns], *cells]:
        parts = [
            pad(truncate(cell, w), w, col.align) for cell, w, col in zip(row, widths, columns, strict=True)
        ]
        lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines)


def _split(word: str, width: int) -> tuple[str, str]:
    used = 0
    for i, ch in enumerate(word):
        used += char_width(ch)
        if used > width:
            return word[:i], word[i:]
    return word, ""


def wrap_lines(text: str, width: int) -> list[str]:
    """`text` wrapped into lines of at most `width` columns (URLs are kept whole)."""
    lines: list[str] = []
    line = ""
    for word in one_line(text).split(" "):
        candidate = f"{line} {word}" if line else word
        if text_width(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        # URLs must stay whole to be usable; they are the one thing allowed to overflow.
        while text_width(line) > width and "://" not in line:
            head, line = _split(line, width)
            lines.append(head)
    if line:
        lines.append(line)
    return lines or [""]


def wrap(text: str, indent: str, width: int = WIDTH) -> str:
    """`text` wrapped within `width`, every line indented."""
    return "\n".join(indent + line for line in wrap_lines(text, width - text_width(indent)))


def fields(pairs: Sequence[tuple[str, str]], width: int = WIDTH) -> str:
    """ "Label: value" lines, values wrapped and aligned under each other within `width`."""
    label_width = max(text_width(label) for label, _ in pairs) + 2
    out = []
    for label, value in pairs:
        lines = wrap_lines(value, width - label_width)
        out.append((pad(f"{label}:", label_width) + lines[0]).rstrip())
        out.extend(" " * label_width + line for line in lines[1:])
    return "\n".join(out)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def emit_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_default))


def info(message: str) -> None:
    """A progress or warning note for people, on stderr so that stdout stays data."""
    click.echo(message, err=True)
