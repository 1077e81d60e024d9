"""What changed between two versions of a text, word by word, for a template to mark up.

The result is plain (operation, text) pairs; the templates draw them with <del> and <ins>
(escaped like any other text), so no markup is made here.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal, NamedTuple

_TOKENS = re.compile(r"\s+|\S+")


class Part(NamedTuple):
    """A run of text that both versions share ("same"), or that one took out ("del") or put in ("ins")."""

    op: Literal["same", "del", "ins"]
    text: str


def _key(token: str) -> str:
    # Spaces and line breaks between words compare alike: a rewrapped text has the same words.
    return " " if token.isspace() else token


def word_diff(old: str, new: str) -> list[Part]:
    """`old` changed into `new`, as runs of words; the shared runs are written as in `new`.

    The runs that stay and the runs put in make up `new` exactly; the runs that stay and
    the runs taken out have the words of `old`. The spaces between two changed words go
    with the change, so that "31 March" replaced by "30 June" is one change, not two.
    """
    before, after = _TOKENS.findall(old), _TOKENS.findall(new)
    matcher = difflib.SequenceMatcher(a=[_key(t) for t in before], b=[_key(t) for t in after], autojunk=False)
    # Hunks: ["same", text] or ["change", removed, added].
    hunks: list[list[str]] = []
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            text = "".join(after[j1:j2])
            between_changes = hunks and hunks[-1][0] == "change" and index + 1 < len(opcodes)
            if text.isspace() and between_changes:
                change = hunks[-1]
                change[1] += "".join(before[i1:i2]) if change[1] else ""
                change[2] += text
            else:
                hunks.append(["same", text])
            continue
        removed, added = "".join(before[i1:i2]), "".join(after[j1:j2])
        if hunks and hunks[-1][0] == "change":
            hunks[-1][1] += removed
            hunks[-1][2] += added
        else:
            hunks.append(["change", removed, added])
    parts: list[Part] = []
    for hunk in hunks:
        if hunk[0] == "same":
            parts.append(Part("same", hunk[1]))
            continue
        if hunk[1]:
            parts.append(Part("del", hunk[1]))
        if hunk[2]:
            parts.append(Part("ins", hunk[2]))
    return parts
