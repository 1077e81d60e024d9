"""Text every way in must pass: no control characters, no longer than its column, real e-mail addresses.

One set of checks for the claims file, the CLI and (later) the web forms, so that a
value one of them accepts is accepted by all, and by both database backends: SQLite
stores a NUL or a 400-character name where PostgreSQL refuses them. The limits are
read from the model's columns, so that a schema change moves them too.

Each check returns None when the value is acceptable, or the problem as a short
phrase (no location, no trailing period), like the checks in tracker.rules.
`printable` is the other side: what a renderer applies to text stored before these
checks existed, so that an Atom feed or an .ics file never carries a forbidden character.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import InstrumentedAttribute

# What XML 1.0 forbids (C0 controls but tab, newline and carriage return; U+FFFE, U+FFFF;
# lone surrogates, which reach Python from undecodable command-line bytes), plus DEL and
# the C1 controls, which iCalendar forbids and no one types on purpose.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
# Input is stricter: a carriage return is refused too (tab and newline are the only controls
# that a statement or a note can mean), and a one-line field refuses newline and tab as well.
_FORBIDDEN_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_FORBIDDEN_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` without the characters XML 1.0 and iCalendar forbid (for rendering old data)."""
    return _UNPRINTABLE.sub("", text) if _UNPRINTABLE.search(text) else text


def _name(ch: str) -> str:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return f"U+{code:04X}, not valid text (was the input UTF-8?)"
    name = {"\n": "newline", "\t": "tab", "\r": "carriage return"}.get(ch)
    if name is None:
        name = unicodedata.name(ch, "") or "a control character"
    return f"U+{code:04X}, {name.lower()}" if not name.startswith("a ") else f"U+{code:04X}"


def check_characters(value: str, *, multiline: bool = False) -> str | None:
    """No control characters: only tab and newline, and only in multi-line text."""
    pattern = _FORBIDDEN_MULTILINE if multiline else _FORBIDDEN_ONE_LINE
    found = pattern.search(value)
    if found is None:
        return None
    allowed = "only tab and newline are allowed" if multiline else "this field takes one line, no tab"
    return f"contains a control character ({_name(found.group())}) at position {found.start() + 1}; {allowed}"


def max_length(column: InstrumentedAttribute[Any]) -> int | None:
    """The length limit of a model column (String(300) gives 300), or None for unlimited text."""
    length = getattr(column.property.columns[0].type, "length", None)
    return int(length) if length is not None else None


def check_length(value: str, limit: int | None) -> str | None:
    """At most `limit` characters (None: no limit)."""
    if limit is not None and len(value) > limit:
        return f"is {len(value):,} characters long; the limit is {limit:,}"
    return None


def check_text(
    value: str, column: InstrumentedAttribute[Any] | None = None, *, multiline: bool = False
) -> str | None:
    """Characters and length of a text value that goes into `column`."""
    return check_characters(value, multiline=multiline) or check_length(
        value, max_length(column) if column is not None else None
    )


def check_email(address: str) -> str | None:
    """A deliverable-looking e-mail address, by the email-validator library's rules (no network)."""
    if problem := check_characters(address):
        return problem
    if not address.isascii():
        # The mail channel cannot send to SMTPUTF8 mailboxes; refuse them here, not at send time.
        return f"{address!r} is not an ASCII e-mail address (write a non-ASCII domain in its xn-- form)"
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return f"{address!r} is not an e-mail address: {exc}"
    return None


def normalise_verdict(word: str) -> str:
    """A verdict as typed ("Mostly True", "mostly_true") in its canonical spelling ("mostly-true")."""
    return "-".join(word.strip().lower().replace("_", " ").replace("-", " ").split())
