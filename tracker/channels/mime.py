"""Turning a Message into an RFC 5322 email: headers, a text part and an optional HTML alternative."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import re
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage
from io import BytesIO

from tracker.channels.base import Message, PermanentFailure

# Headers the channel sets itself; a caller's extra header must not duplicate them.
RESERVED = frozenset({"from", "to", "subject", "date", "message-id", "mime-version", "content-type"})
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ':'

# 7-bit bodies (quoted-printable or base64 when needed) go through any server, 8BITMIME or not.
# Parts are built with "\n" line ends, as readers expect once decoded; the wire gets CRLF.
POLICY = email.policy.default.clone(cte_type="7bit")


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


def build_email(message: Message, sender: str, now: dt.datetime) -> EmailMessage:
    """The EmailMessage for `message` from `sender` (a From header value), dated `now`."""
    if not _MESSAGE_ID.fullmatch(message.message_id):
        raise PermanentFailure(f"bad Message-ID {message.message_id!r} (expected <local@domain>)")
    recipient = check_address(message.to_address)
    mail = EmailMessage(policy=POLICY)
    try:
        mail["From"] = sender
        mail["To"] = Address(display_name=message.to_name, addr_spec=recipient.addr_spec)
        mail["Subject"] = message.subject
        mail["Date"] = email.utils.format_datetime(now.astimezone(dt.UTC))
        mail["Message-ID"] = message.message_id
        for name, value in message.headers:
            if not _HEADER_NAME.fullmatch(name) or name.lower() in RESERVED:
                raise PermanentFailure(f"header {name!r} cannot be set by the caller")
            mail[name] = value
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
    except (ValueError, TypeError) as exc:
        # The email package refuses CR/LF in header values: header injection never reaches the wire.
        raise PermanentFailure(f"message {message.message_id}: {exc}") from exc
    return mail


def envelope_for(message: Message, sender: str, now: dt.datetime) -> Envelope:
    """Build and flatten the email for `message`, with CRLF line ends as SMTP wants."""
    mail = build_email(message, sender, now)
    out = BytesIO()
    BytesGenerator(out, policy=POLICY).flatten(mail, linesep="\r\n")
    sender_address = email.utils.parseaddr(sender)[1] or sender
    return Envelope(sender_address, check_address(message.to_address).addr_spec, out.getvalue())
