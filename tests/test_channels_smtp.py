"""The SMTP channel against a real aiosmtpd server: TLS, login, reply codes, one connection per batch."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tracker.channels import Message, PermanentFailure, SmtpChannel, TemporaryFailure, make_channel
from tracker.config import SmtpSettings, load_settings
from tracker.errors import TrackerError

# The test server takes logins over plain connections too; aiosmtpd rightly warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
PASSWORD = "pa55-w0rd-n0t-in-errors"

if TYPE_CHECKING:
    from conftest import SmtpTestServer

MakeServer = Callable[..., "SmtpTestServer"]


def message(n: int = 1, **overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "message_id": f"<reminder-{n}.20261123@tracker.example.org>",
        "to_address": "ann@example.org",
        "to_name": "Ann Lee",
        "subject": f"Deadline reminder {n}",
        "text": f"Claim {n} is due on 2026-11-30.\n",
    }
    fields.update(overrides)
    return Message(**fields)


def channel(server: SmtpTestServer, **overrides: Any) -> SmtpChannel:
    return SmtpChannel(server.settings(**overrides), ssl_context=server.client_context, clock=lambda: NOW)


def send_all(chan: SmtpChannel, *messages: Message) -> list[Exception | None]:
    """Send a batch over one sender; the outcome of each message (None when delivered)."""
    outcomes: list[Exception | None] = []
    with chan.open() as sender:
        for m in messages:
            try:
                sender.send(m)
                outcomes.append(None)
            except (TemporaryFailure, PermanentFailure) as exc:
                outcomes.append(exc)
    return outcomes


# --- what arrives ----------------------------------------------------------------------------------


def test_plain_message_arrives_with_every_header(smtp_server: SmtpTestServer) -> None:
    m = message(
        html="<p>Claim 1 is due on <b>2026-11-30</b>.</p>",
        headers=(("X-Tracker-Reminders", "12,13"), ("Auto-Submitted", "auto-generated")),
    )
    send_all(channel(smtp_server), m)

    [received] = smtp_server.received
    assert received.mail_from == "tracker@example.org"
    assert received.rcpt_tos == ["ann@example.org"]
    mail = received.message
    assert mail["From"] == "tracker@example.org"
    assert mail["To"] == "Ann Lee <ann@example.org>"
    assert mail["Subject"] == "Deadline reminder 1"
    assert mail["Date"] == "Mon, 23 Nov 2026 12:00:00 +0000"
    assert mail["Message-ID"] == "<reminder-1.20261123@tracker.example.org>"
    assert mail["X-Tracker-Reminders"] == "12,13"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    parts = [(p.get_content_type(), p.get_content()) for p in mail.iter_parts()]
    assert parts == [
        ("text/plain", "Claim 1 is due on 2026-11-30.\n"),
        ("text/html", "<p>Claim 1 is due on <b>2026-11-30</b>.</p>\n"),
    ]


@pytest.mark.parametrize(
    ("name", "widest"),
    [
        # 840 characters that formataddr escapes to a 1,125-character line, once refused for good.
        (('Ann "the reviewer" Lee\\ ' * 40)[:840], 78),
        ("김정은 " * 210, 78),
        # No space to fold at: lines within the 998 that RFC 5322 requires (the name is cut to 300).
        ("x" * 840, 998),
        ("é" * 840, 998),  # one encoded word, so that every reader shows the name whole
    ],
)
def test_a_long_reviewer_name_is_folded_and_delivered(
    smtp_server: SmtpTestServer, name: str, widest: int
) -> None:
    [outcome] = send_all(channel(smtp_server), message(to_name=name))
    assert outcome is None
    [received] = smtp_server.received
    lines = received.data.split(b"\r\n")
    head = lines[: lines.index(b"")]
    assert max(len(line) for line in head) <= widest
    [to] = received.message["To"].addresses
    assert to.addr_spec == "ann@example.org"
    # Names are at most 300 characters now; a longer one stored before keeps its first 297.
    shown = "".join(to.display_name.split())
    assert shown.startswith("".join(name[:200].split()))
    assert len(shown) <= 300


def test_text_only_message_is_not_multipart(smtp_server: SmtpTestServer) -> None:
    send_all(channel(smtp_server), message())
    mail = smtp_server.messages[0]
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content() == "Claim 1 is due on 2026-11-30.\n"


def test_message_id_is_sent_verbatim(smtp_server: SmtpTestServer) -> None:
    long_id = "<reminder-123456-ann-2026-11-30-before-7d.0123456789abcdef0123456789@tracker.example.org>"
    send_all(channel(smtp_server), message(message_id=long_id))
    [received] = smtp_server.received
    assert received.message["Message-ID"] == long_id
    assert received.message.get_all("Message-ID") == [long_id]


def test_non_ascii_name_subject_and_body(smtp_server: SmtpTestServer) -> None:
    m = message(to_name="Zoë Ünal", subject="마감 알림: 김정은", text="Le délai est dépassé — 김정은.\n")
    send_all(channel(smtp_server), m)
    [received] = smtp_server.received
    assert received.message["To"] == "Zoë Ünal <ann@example.org>"
    assert received.message["Subject"] == "마감 알림: 김정은"
    assert received.message.get_content() == "Le délai est dépassé — 김정은.\n"
    # The wire format stays 7-bit, so any relay takes it, 8BITMIME or not.
    assert received.data.isascii()


def test_sender_setting_with_a_display_name(smtp_server: SmtpTestServer) -> None:
    send_all(channel(smtp_server, sender="Tracker <reminders@example.org>"), message())
    [received] = smtp_server.received
    assert received.mail_from == "reminders@example.org"
    assert received.message["From"] == "Tracker <reminders@example.org>"


# --- one connection per batch ----------------------------------------------------------------------


def test_a_batch_of_fifty_uses_one_connection(smtp_server: SmtpTestServer) -> None:
    outcomes = send_all(channel(smtp_server), *(message(n) for n in range(50)))
    assert outcomes == [None] * 50
    assert smtp_server.handler.connections == 1
    assert len({r.peer for r in smtp_server.received}) == 1
    assert [r.message["Message-ID"] for r in smtp_server.received] == [
        message(n).message_id for n in range(50)
    ]


def test_each_batch_opens_its_own_connection(smtp_server: SmtpTestServer) -> None:
    chan = channel(smtp_server)
    send_all(chan, message(1))
    send_all(chan, message(2))
    assert smtp_server.handler.connections == 2


def test_an_empty_batch_does_not_connect(smtp_server: SmtpTestServer) -> None:
    send_all(channel(smtp_server))
    assert smtp_server.handler.connections == 0


@pytest.mark.parametrize("politely", [True, False], ids=["421-then-close", "hang-up"])
def test_reconnects_when_the_server_closes_mid_batch(smtp_server: SmtpTestServer, politely: bool) -> None:
    smtp_server.handler.close_after = 10
    smtp_server.handler.close_with_421 = politely
    outcomes = send_all(channel(smtp_server), *(message(n) for n in range(25)))
    assert outcomes == [None] * 25
    assert smtp_server.handler.connections == 3
    ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert ids == [message(n).message_id for n in range(25)]  # each exactly once, in order


def test_the_next_mail_from_goes_out_as_soon_as_a_message_is_accepted(smtp_server: SmtpTestServer) -> None:
    """The server handles MAIL FROM while the caller records the accepted message; nothing more goes ahead."""
    handler = smtp_server.handler
    with channel(smtp_server).open() as sender:
        sender.send(message(1))
        deadline = time.monotonic() + 5
        while len(handler.mails) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # the server handles the command on its own thread
        assert len(handler.mails) == 2 and len(handler.received) == 1
        [(_, first), (_, ahead)] = handler.mails
        assert first[0].startswith("SIZE=") and ahead == []  # the next message's size is not known yet
        sender.send(message(2))
    # Each accepted message said MAIL FROM for the next; the last one's was answered before QUIT.
    assert len(handler.mails) == 3 and handler.connections == 1
    assert [r.message["Message-ID"] for r in handler.received] == [
        message(1).message_id,
        message(2).message_id,
    ]


def test_a_line_dropped_during_data_is_not_resent_in_the_batch(smtp_server: SmtpTestServer) -> None:
    smtp_server.handler.hang_up_after_data = 2
    first, second, third = send_all(channel(smtp_server), message(1), message(2), message(3))
    assert first is None and third is None
    assert isinstance(second, TemporaryFailure)
    assert "may or may not have been delivered" in str(second)
    # The server did take message 2; resending it at once would have doubled it.
    ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert ids == [message(1).message_id, message(2).message_id, message(3).message_id]
    assert smtp_server.handler.connections == 2


def test_server_gone_mid_batch_fails_the_rest_quickly(smtp_server: SmtpTestServer) -> None:
    chan = channel(smtp_server)
    with chan.open() as sender:
        sender.send(message(1))
        smtp_server.stop()
        with pytest.raises(TemporaryFailure, match=r"cannot reach SMTP server 127\.0\.0\.1"):
            sender.send(message(2))
        with pytest.raises(TemporaryFailure, match="not retried in this batch"):
            sender.send(message(3))
    assert len(smtp_server.received) == 1


# --- TLS -------------------------------------------------------------------------------------------


def test_starttls(make_smtp_server: MakeServer) -> None:
    server = make_smtp_server(security="starttls")
    assert send_all(channel(server), message()) == [None]
    assert len(server.received) == 1


def test_starttls_is_required_by_the_server_when_the_client_skips_it(make_smtp_server: MakeServer) -> None:
    server = make_smtp_server(security="starttls")
    [failure] = send_all(channel(server, security="none"), message())
    assert isinstance(failure, PermanentFailure)
    assert "530" in str(failure)
    assert server.received == []


def test_starttls_not_offered_is_permanent(smtp_server: SmtpTestServer) -> None:
    [failure] = send_all(channel(smtp_server, security="starttls"), message())
    assert isinstance(failure, PermanentFailure)
    assert "STARTTLS extension not supported" in str(failure)
    assert "TRACKER_SMTP_SECURITY" in str(failure)


def test_starttls_with_an_untrusted_certificate_fails(make_smtp_server: MakeServer) -> None:
    server = make_smtp_server(security="starttls")
    chan = SmtpChannel(server.settings(), clock=lambda: NOW)  # the system's CAs do not know ours
    [failure] = send_all(chan, message())
    assert isinstance(failure, TemporaryFailure)
    assert "TLS failed" in str(failure) and "certificate" in str(failure)


def test_implicit_tls(make_smtp_server: MakeServer) -> None:
    server = make_smtp_server(security="ssl")
    assert send_all(channel(server), message()) == [None]
    assert len(server.received) == 1


# --- login -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_login(make_smtp_server: MakeServer, security: str) -> None:
    server = make_smtp_server(security=security, users={"tracker": PASSWORD})
    chan = channel(server, user="tracker", password=PASSWORD)
    assert send_all(chan, message(1), message(2)) == [None, None]
    assert server.handler.logins == [("tracker", True)]  # once per connection
    assert len(server.received) == 2


def test_mail_without_login_is_refused(make_smtp_server: MakeServer) -> None:
    server = make_smtp_server(users={"tracker": PASSWORD})
    [failure] = send_all(channel(server), message())
    assert isinstance(failure, PermanentFailure)
    assert "530" in str(failure)


def test_wrong_password_is_permanent_and_never_shown(
    make_smtp_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = make_smtp_server(users={"tracker": "the-right-one"})
    outcomes = send_all(channel(server, user="tracker", password=PASSWORD), message(1), message(2))
    first, second = outcomes
    assert isinstance(first, PermanentFailure)
    assert "535" in str(first) and "login as tracker" in str(first)
    # The rest of the batch fails without trying the password again (accounts get locked).
    attempts = len(server.handler.logins)
    assert isinstance(second, PermanentFailure) and "not retried in this batch" in str(second)
    assert len(server.handler.logins) == attempts
    for failure in outcomes:
        assert PASSWORD not in str(failure)
        assert failure is not None and failure.__cause__ is None
    assert PASSWORD not in caplog.text
    assert server.received == []


def test_login_needs_both_user_and_password(smtp_server: SmtpTestServer) -> None:
    with pytest.raises(TrackerError, match="TRACKER_SMTP_PASSWORD"):
        channel(smtp_server, user="tracker")


# --- reply codes -----------------------------------------------------------------------------------


def test_recipient_refusals_by_code(smtp_server: SmtpTestServer) -> None:
    smtp_server.handler.refuse = {
        "busy@example.org": "450 4.2.1 Mailbox busy, try later",
        "gone@example.org": "550 5.1.1 No such user",
    }
    outcomes = send_all(
        channel(smtp_server),
        message(1),
        message(2, to_address="busy@example.org"),
        message(3, to_address="gone@example.org"),
        message(4),
    )
    ok1, busy, gone, ok4 = outcomes
    assert ok1 is None and ok4 is None
    assert isinstance(busy, TemporaryFailure)
    where = f"SMTP server 127.0.0.1:{smtp_server.port}"
    assert str(busy) == f"{where}: recipient busy@example.org refused: 450 4.2.1 Mailbox busy, try later"
    assert isinstance(gone, PermanentFailure)
    assert "550 5.1.1 No such user" in str(gone)
    # A refused recipient does not spoil the connection for the rest of the batch.
    assert smtp_server.handler.connections == 1
    assert [r.rcpt_tos for r in smtp_server.received] == [["ann@example.org"], ["ann@example.org"]]


def test_server_down_is_temporary(unused_port: int) -> None:
    port = unused_port
    chan = SmtpChannel(
        SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=2), clock=lambda: NOW
    )
    [failure] = send_all(chan, message())
    assert isinstance(failure, TemporaryFailure)
    assert str(failure) == f"cannot reach SMTP server 127.0.0.1:{port}: Connection refused"


def test_silent_server_times_out(silent_port: int) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=silent_port, security="none", timeout=0.3)
    [failure] = send_all(SmtpChannel(settings, clock=lambda: NOW), message())
    assert isinstance(failure, TemporaryFailure)
    assert "did not answer in time" in str(failure)


# --- refused before any connection ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"to_address": "not-an-address"}, "bad email address 'not-an-address'"),
        ({"to_address": "ann@example.org\r\nBcc: eve@example.org"}, "bad email address"),
        ({"to_address": "zoë@example.org"}, "is not ASCII"),
        ({"message_id": "reminder-1@tracker"}, "bad Message-ID"),
        ({"message_id": "<no-domain>"}, "bad Message-ID"),
        ({"subject": "Hi\r\nBcc: eve@example.org"}, "linefeed"),
        ({"headers": (("Subject", "again"),)}, "header 'Subject' cannot be set"),
        ({"headers": (("Bad Name", "x"),)}, "header 'Bad Name' cannot be set"),
    ],
)
def test_bad_messages_are_permanent(
    smtp_server: SmtpTestServer, overrides: dict[str, Any], expected: str
) -> None:
    [failure] = send_all(channel(smtp_server), message(**overrides))
    assert isinstance(failure, PermanentFailure)
    assert expected in str(failure)
    assert smtp_server.handler.connections == 0


# --- make_channel ----------------------------------------------------------------------------------


def test_make_channel_smtp_needs_a_host(tmp_path: Path) -> None:
    settings = load_settings(env={"TRACKER_REMINDERS_CHANNEL": "smtp"}, config_file=_empty(tmp_path))
    with pytest.raises(TrackerError) as caught:
        make_channel(settings)
    assert "TRACKER_SMTP_HOST" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_make_channel_smtp_from_the_environment(smtp_server: SmtpTestServer, tmp_path: Path) -> None:
    env = {
        "TRACKER_REMINDERS_CHANNEL": "smtp",
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(smtp_server.port),
        "TRACKER_SMTP_SECURITY": "none",
        "TRACKER_SMTP_SENDER": "Tracker <tracker@example.org>",
    }
    chan = make_channel(load_settings(env=env, config_file=_empty(tmp_path)))
    assert chan.name == "smtp"
    with chan.open() as sender:
        sender.send(message())
    assert smtp_server.messages[0]["From"] == "Tracker <tracker@example.org>"


def _empty(tmp_path: Path) -> Path:
    # An empty config file keeps a developer's ./tracker.toml out of the test.
    path = tmp_path / "empty.toml"
    path.write_text("")
    return path
