"""The hand-written MIME (`flatten`) reads back exactly as the email package's own message does."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from io import BytesIO

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.mime import POLICY, build_email

from tracker.channels import Message, PermanentFailure
from tracker.channels.mime import envelope_for, flatten, recipient_of

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SENDER = "Tracker Reminders <tracker@example.org>"


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def by_the_email_package(message: Message) -> bytes:
    out = BytesIO()
    BytesGenerator(out, policy=POLICY).flatten(build_email(message, SENDER, NOW), linesep="\r\n")
    return out.getvalue()


def parts(mail: EmailMessage) -> tuple[tuple[str, str], ...]:
    """Each part's type and text, as a reader sees them."""
    found = list(mail.iter_parts()) if mail.is_multipart() else [mail]
    return tuple((p.get_content_type(), p.get_content()) for p in found)


line_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=120)
body = st.lists(line_text, max_size=12).map("\n".join)
words = st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1), max_size=12
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=body, html=st.none() | body, subject=words.map(" ".join), name=words.map(" ".join))
def test_flatten_reads_back_like_the_email_package(
    text: str, html: str | None, subject: str, name: str
) -> None:
    message = Message(
        "<digest-0123456789abcdef.ann@tracker>",
        "ann@example.org",
        name,
        subject,
        text,
        html,
        (("X-Tracker-Reminders", "12,13"),),
    )
    try:
        theirs = parse(by_the_email_package(message))
    except PermanentFailure:
        assume(False)  # what the email package refuses is out of scope here
    data = flatten(message, SENDER, NOW)
    assert data.isascii()
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    ours = parse(data)
    # The headers read back as given (the email package's own folding can add a space to a
    # long encoded name, so the inputs are the reference here); the parts as it makes them.
    [to] = ours["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "ann@example.org")
    assert str(ours["Subject"]) == subject
    for header in ("From", "Date", "Message-ID", "X-Tracker-Reminders"):
        assert str(ours[header]) == str(theirs[header])
    assert ours.get_content_type() == theirs.get_content_type()
    assert parts(ours) == parts(theirs)


def test_a_typical_digest_is_7bit_and_multipart() -> None:
    message = Message(
        "<d.1@tracker>", "ann@example.org", "Ann Lee", "tracker: 1 claim", "Hi.\n", "<p>Hi.</p>"
    )
    data = flatten(message, SENDER, NOW)
    mail = parse(data)
    assert mail.get_content_type() == "multipart/alternative"
    assert [p["Content-Transfer-Encoding"] for p in mail.iter_parts()] == ["7bit", "7bit"]
    assert data.startswith(
        b"From: Tracker Reminders <tracker@example.org>\r\nTo: Ann Lee <ann@example.org>\r\n"
    )
    assert envelope_for(message, SENDER, NOW).sender == "tracker@example.org"


@pytest.mark.parametrize(
    ("field", "value"),
    [("subject", "Hi\r\nBcc: eve@example.org"), ("to_name", "Ann\nBcc: eve@example.org")],
)
def test_header_injection_is_refused(field: str, value: str) -> None:
    fields = {"message_id": "<d.1@tracker>", "to_address": "ann@example.org", "to_name": "Ann",
              "subject": "s", "text": "t"}  # fmt: skip
    fields[field] = value
    with pytest.raises(PermanentFailure, match="linefeed or carriage return"):
        flatten(Message(**fields), SENDER, NOW)


@pytest.mark.parametrize(
    "address", ["ann@example.org", "a.b+c@mail.example.co.uk", "o'brien@example.org", "ann@localhost"]
)
def test_recipients_pass(address: str) -> None:
    assert recipient_of(address) == address


@pytest.mark.parametrize(
    "address", ["not-an-address", "ann@example.org\r\nBcc: eve@example.org", "zoë@example.org", "a@b@c.org"]
)
def test_bad_recipients_are_permanent(address: str) -> None:
    with pytest.raises(PermanentFailure):
        recipient_of(address)
