"""Turning a Message into an RFC 5322 email: headers, a text part and an optional HTML alternative.

`envelope_for` writes the MIME by hand (`flatten`): the email package's EmailMessage took
over a millisecond a message, more than the whole SMTP exchange, and capped delivery
throughput (BENCHMARKS.md). The tests hold it to what the email package makes of the same
message (tests/support/mime.py).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import quopri
import re
import secrets
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from functools import lru_cache

from tracker.channels.base import Message, PermanentFailure

# Headers the channel sets itself; a caller's extra header must not duplicate them.
RESERVED = frozenset({"from", "to", "subject", "date", "message-id", "mime-version", "content-type"})
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
# Identifiers that must stay whole (a reader may not unfold them); others fold at 78 columns.
UNFOLDED = frozenset({"message-id", "in-reply-to", "references"})
FOLD_AT = 78
# The longest display name written (the reviewers' name column's length).
MAX_NAME = 300
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ':'


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the SMTP transaction needs: envelope addresses and the flattened message."""

    sender: str
    recipient: str
    data: bytes


def check_address(address: str) -> Address:
    """The parsed email address, or PermanentFailure when it is not one."""
    if not address.isascii():
        # SMTPUTF8 mailboxes are rare and the email package cannot build them; say so plainly.
        raise PermanentFailure(f"email address {address!r} is not ASCII; tracker cannot send to it")
    try:
        parsed = Address(addr_spec=address)
    except Exception as exc:  # the email package raises parse errors of several unrelated types
        raise PermanentFailure(f"bad email address {address!r}") from exc
    if not parsed.username or not parsed.domain or parsed.addr_spec != address.strip():
        raise PermanentFailure(f"bad email address {address!r}")
    return parsed


# The common case, a dot-atom at a dotted domain, needs no parsing; anything else is parsed.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_SIMPLE_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")


def recipient_of(address: str) -> str:
    """The envelope address for `address` (checked as check_address does, quickly when it is simple)."""
    if _SIMPLE_ADDRESS.fullmatch(address):
        return address
    return check_address(address).addr_spec


@lru_cache(maxsize=64)
def _sender(sender: str) -> tuple[str, str]:
    """The From header value and the envelope sender for the `smtp.sender` setting."""
    name, address = email.utils.parseaddr(sender)
    return (_address(name, address) if address else sender), (address or sender)


def _header(name: str, value: str) -> str:
    """One header field, folded, non-ASCII text as RFC 2047 encoded words; CR or LF is refused."""
    if "\r" in value or "\n" in value:
        # Header injection never reaches the wire (the email package's wording, kept).
        raise ValueError("Header values may not contain linefeed or carriage return characters")
    if not value.isascii():
        return f"{name}: " + Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    line = f"{name}: {value}"
    # Identifiers such as Message-ID stay whole; 998 is the line limit, and a longer line is
    # refused by servers ("500 Line too long"), so anything else long is folded.
    return line if name.lower() in UNFOLDED else _fold(line)


def _fold(line: str) -> str:
    """An ASCII header line folded at its spaces into lines of 78 where it can be (RFC 5322 2.2.3).

    Folding only where there is a space already keeps quoted names and text the same once
    unfolded; the email package's own folding drops the quotes of a long quoted name.
    A word longer than a line keeps a line of its own (names are limited, see MAX_NAME).
    """
    if len(line) <= FOLD_AT:
        return line
    lines: list[str] = []
    current = ""
    for i, word in enumerate(line.split(" ")):  # word 0 is the field name: never alone
        piece = " " + word if i else word
        if i > 1 and current.strip() and len(current) + len(piece) > FOLD_AT:
            lines.append(current)
            current = piece  # the continuation line starts with the space it was folded at
        else:
            current += piece
    lines.append(current)
    return "\r\n".join(lines)


def _address(name: str, address: str) -> str:
    """A mailbox header value: "Name <addr>", the name quoted or encoded as it needs."""
    if not name:
        return address
    if len(name) > MAX_NAME:
        # Names stored before they were checked: a display name is a courtesy, not worth a bounce.
        name = name[: MAX_NAME - 3].rstrip() + "..."
    single = email.utils.formataddr((name, address))
    if name.isascii() or len(single) <= 990:
        return single
    # formataddr makes one encoded word of any length, too long for a line here; Header splits
    # it into words of 75 at most, which _fold folds between (RFC 2047 readers drop the space
    # between encoded words; the email package's parser keeps one, so short names stay whole).
    words = Header(name, "utf-8").encode(splitchars=" ", maxlinelen=FOLD_AT - 8, linesep="\n")
    return " ".join(words.split("\n ")) + f" <{address}>"


def _body(content: str, subtype: str) -> str:
    """A text part's headers and body: 7bit when it can be, quoted-printable UTF-8 when not."""
    text = content if content.endswith("\n") else content + "\n"
    lines = text.split("\n")
    plain = text.isascii() and "\r" not in text and all(len(line) <= 998 for line in lines)
    if plain:
        encoding, body = "7bit", text
    else:
        encoding, body = "quoted-printable", quopri.encodestring(text.encode("utf-8")).decode("ascii")
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {encoding}\r\n'
    return head + "\r\n" + body.replace("\n", "\r\n")


def _boundary(*parts: str) -> str:
    # "=_" never occurs in quoted-printable text, and a 7bit part is checked.
    while True:
        boundary = f"=_tracker_{secrets.token_hex(12)}"
        if not any(boundary in part for part in parts):
            return boundary


def flatten(message: Message, sender: str, now: dt.datetime) -> bytes:
    """The email for `message` as SMTP sends it: 7-bit, CRLF line ends, text and optional HTML parts."""
    return _flatten(message, sender, now, recipient_of(message.to_address))


def _flatten(message: Message, sender: str, now: dt.datetime, recipient: str) -> bytes:
    if not _MESSAGE_ID.fullmatch(message.message_id):
        raise PermanentFailure(f"bad Message-ID {message.message_id!r} (expected <local@domain>)")
    try:
        lines = [
            _header("From", _sender(sender)[0]),
            _header("To", _address(message.to_name, recipient)),
            _header("Subject", message.subject),
            _header("Date", email.utils.format_datetime(now.astimezone(dt.UTC))),
            _header("Message-ID", message.message_id),
        ]
        for name, value in message.headers:
            if not _HEADER_NAME.fullmatch(name) or name.lower() in RESERVED:
                raise PermanentFailure(f"header {name!r} cannot be set by the caller")
            lines.append(_header(name, value))
        text = _body(message.text, "plain")
        if message.html is None:
            lines += ["MIME-Version: 1.0", text]
        else:
            html = _body(message.html, "html")
            boundary = _boundary(text, html)
            lines += [
                "MIME-Version: 1.0",
                f'Content-Type: multipart/alternative; boundary="{boundary}"',
                "",
                # The CRLF before a delimiter belongs to the delimiter, not to the part.
                f"--{boundary}\r\n{text}\r\n--{boundary}\r\n{html}\r\n--{boundary}--\r\n",
            ]
    except (ValueError, TypeError, UnicodeError) as exc:
        raise PermanentFailure(f"message {message.message_id}: {exc}") from exc
    return "\r\n".join(lines).encode("ascii")


def envelope_for(message: Message, sender: str, now: dt.datetime) -> Envelope:
    """Build and flatten the email for `message`, with CRLF line ends as SMTP wants."""
    recipient = recipient_of(message.to_address)
    return Envelope(_sender(sender)[1], recipient, _flatten(message, sender, now, recipient))
