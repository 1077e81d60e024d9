"""The tests' oracle for tracker.channels.mime: the same message, built by the email package.

tracker writes its MIME by hand for speed; the tests hold that to what the standard
library's EmailMessage makes of the same Message, header for header and part for part.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import re
from email.headerregistry import Address
from email.message import EmailMessage

from tracker.channels import Message, PermanentFailure
from tracker.channels.mime import RESERVED, check_address

# 7-bit bodies (quoted-printable or base64 when needed) go through any server, 8BITMIME or not.
POLICY = email.policy.default.clone(cte_type="7bit")
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ':'


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
        # The email package refuses CR/LF in header values.
        raise PermanentFailure(f"message {message.message_id}: {exc}") from exc
    return mail
