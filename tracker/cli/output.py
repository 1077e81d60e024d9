"""Human output that fits an 80-column terminal, and JSON output for machines."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from tracker.text import ELLIPSIS, WIDTH, char_width, one_line, pad, text_width, truncate, wrap_lines

__all__ = ["ELLIPSIS", "WIDTH", "char_width", "one_line", "pad", "text_width", "truncate", "wrap_lines"]

GAP = "  "


@dataclass(frozen=True)
class Column:
    """A table column: its header, alignment and how far it may shrink (None: never).

    A `wrap` column's cells are wrapped onto more lines when they do not fit, not cut: for
    text that is read in full, such as an error.
    """

    header: str
    align: str = "<"
    min_width: int | None = None
    wrap: bool = False


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
        pieces = [
            wrap_lines(cell, w) if col.wrap else [truncate(cell, w)]
            for cell, w, col in zip(row, widths, columns, strict=True)
        ]
        for n in range(max(len(p) for p in pieces)):
            parts = [
                pad(p[n] if n < len(p) else "", w, col.align)
                for p, w, col in zip(pieces, widths, columns, strict=True)
            ]
            lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines)


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
