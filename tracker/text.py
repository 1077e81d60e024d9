"""Text for terminals and monospaced mail: widths that count CJK as two columns, cutting and wrapping.

Shared by the CLI and the plain-text report digest, which must agree on what fits in 80 columns.
"""

from __future__ import annotations

import re
import unicodedata

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
