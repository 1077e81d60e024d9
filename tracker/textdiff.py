"""What changed between two versions of a text, word by word, for a template to mark up.

The result is plain (operation, text) pairs; the templates draw them with <del> and <ins>
(escaped like any other text), so no markup is made here.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal, NamedTuple

_TOKENS = re.compile(r"\S+\s*|\s+")  # a word with the spaces after it


class Part(NamedTuple):
    """A run of text that both versions share ("same"), or that one took out ("del") or put in ("ins")."""

    op: Literal["same", "del", "ins"]
    text: str


def word_diff(old: str, new: str) -> list[Part]:
    """`old` changed into `new`, as runs of words (the spaces between them kept), adjacent runs merged."""
    before, after = _TOKENS.findall(old), _TOKENS.findall(new)
    parts: list[Part] = []

    def add(op: Literal["same", "del", "ins"], tokens: list[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if parts and parts[-1].op == op:
            parts[-1] = Part(op, parts[-1].text + text)
        else:
            parts.append(Part(op, text))

    # Words are compared without their spaces: a word that only gained a space after it is the same.
    words_before = [t.rstrip() or t for t in before]
    words_after = [t.rstrip() or t for t in after]
    matcher = difflib.SequenceMatcher(a=words_before, b=words_after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("same", after[j1:j2])
        else:
            add("del", before[i1:i2])
            add("ins", after[j1:j2])
    return parts
