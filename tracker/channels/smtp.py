"""Email through an SMTP server: one connection per batch, failures sorted by reply code."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import NoReturn

from tracker.channels.base import (
    DeliveryFailure,
    Message,
    PermanentFailure,
    TemporaryFailure,
)
from tracker.channels.mime import Envelope, envelope_for
from tracker.clock import Clock, utcnow
from tracker.config import SmtpSettings
from tracker.errors import TrackerError

log = logging.getLogger(__name__)


class _Dropped(Exception):
    """The server went away before the message's data was sent, so resending cannot double it."""


class SmtpChannel:
    """Email through the configured SMTP server (plain, STARTTLS or implicit TLS, optional login)."""

    name: str = "smtp"

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock = utcnow,
    ) -> None:
        if not settings.host:
            raise TrackerError(
                "the smtp channel needs a mail server: set TRACKER_SMTP_HOST (or host in [smtp])"
            )
        if (settings.user is None) != (settings.password is None):
            raise TrackerError("SMTP login needs both TRACKER_SMTP_USER and TRACKER_SMTP_PASSWORD")
        self.settings = settings
        self.host: str = settings.host
        self.ssl_context = ssl_context
        self.clock = clock

    @property
    def where(self) -> str:
        """host:port, for messages (never the password)."""
        return f"{self.host}:{self.settings.port}"

    @contextmanager
    def open(self) -> Iterator[SmtpSender]:
        """A sender that keeps one connection for the whole batch and closes it at the end."""
        sender = SmtpSender(self)
        try:
            yield sender
        finally:
            sender.close()


class SmtpSender:
    """Sends messages over one SMTP connection, opened on the first send.

    Once the server has accepted a message, the sender says MAIL FROM for the next one at
    once and reads the reply only when that message is sent: the server handles the command
    while tracker records the accepted message as sent, instead of both waiting in turn.
    That command delivers nothing (no recipient, no data), so the next message still goes
    out only after the caller has had its say about the previous one; the command carries
    no SIZE, the next message's size being unknown then.
    """

    def __init__(self, channel: SmtpChannel) -> None:
        self.channel = channel
        self.connection: smtplib.SMTP | None = None
        self.connections = 0  # how many times this batch connected, for logs and tests
        self._mail_sent = False  # MAIL FROM for the next message is out, its reply unread
        # Once the server proved unreachable or refused our login, the rest of the batch fails
        # at once: waiting out a timeout per message, or retrying a bad password until the
        # account is locked, helps nobody.
        self._broken: DeliveryFailure | None = None

    def send(self, message: Message) -> None:
        """Deliver one message; raises TemporaryFailure or PermanentFailure."""
        if self._broken is not None:
            raise type(self._broken)(f"{self._broken} (not retried in this batch)")
        envelope = envelope_for(message, self.channel.settings.sender, self.channel.clock())
        for attempt in (1, 2):
            reused = self.connection is not None
            connection = self._connection()
            try:
                self._transmit(connection, envelope)
            except _Dropped as exc:
                self._discard()
                # A server may close an idle connection or limit messages per connection:
                # reconnect once, but not when a fresh connection was dropped at once.
                if reused and attempt == 1:
                    log.info(
                        "SMTP server %s closed the connection (%s); reconnecting", self.channel.where, exc
                    )
                    continue
                raise TemporaryFailure(
                    f"SMTP server {self.channel.where} closed the connection: {exc}"
                ) from None
            log.debug("sent %s to %s via %s", message.message_id, envelope.recipient, self.channel.where)
            return

    def close(self) -> None:
        """Say goodbye to the server, if connected; errors on the way out do not matter."""
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            if self._mail_sent:
                self._mail_sent = False
                connection.getreply()  # so that QUIT reads its own reply
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def _discard(self) -> None:
        connection, self.connection = self.connection, None
        self._mail_sent = False
        if connection is not None:
            connection.close()

    def _mail_ahead(self, connection: smtplib.SMTP, sender: str) -> None:
        """Say MAIL FROM for the next message now; its reply is read when that message is sent."""
        try:
            connection.putcmd("mail", _mail_from(sender))
        except (smtplib.SMTPServerDisconnected, OSError):
            self._discard()  # gone: the next message connects again
            return
        self._mail_sent = True

    def _connection(self) -> smtplib.SMTP:
        if self.connection is None:
            try:
                self.connection = self._connect()
            except DeliveryFailure as exc:
                self._broken = exc
                raise
            self.connections += 1
        return self.connection

    def _connect(self) -> smtplib.SMTP:
        settings, where = self.channel.settings, self.channel.where
        context = self.channel.ssl_context or ssl.create_default_context()
        connection: smtplib.SMTP | None = None
        try:
            if settings.security == "ssl":
                connection = smtplib.SMTP_SSL(
                    self.channel.host, settings.port, timeout=settings.timeout, context=context
                )
            else:
                connection = smtplib.SMTP(self.channel.host, settings.port, timeout=settings.timeout)
            connection.ehlo()
            if settings.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
            if settings.user is not None and settings.password is not None:
                connection.login(settings.user, settings.password.get_secret_value())
        except Exception as exc:
            if connection is not None:
                connection.close()
            _raise_connect_failure(exc, where, settings.user, settings.password)
        log.debug("connected to SMTP server %s (%s)", where, settings.security)
        return connection

    def _transmit(self, connection: smtplib.SMTP, envelope: Envelope) -> None:
        """One SMTP transaction, done by hand so that we know whether DATA was reached."""
        options = [f"SIZE={len(envelope.data)}"] if connection.has_extn("size") else []
        reply: bytes | str
        try:
            if self._mail_sent:
                self._mail_sent = False
                code, reply = connection.getreply()
            else:
                code, reply = connection.mail(envelope.sender, options)
            self._check(connection, code, reply, f"sender {envelope.sender} refused")
            # What smtplib's rcpt() sends, without parsing again an address envelope_for checked.
            connection.putcmd("rcpt", f"TO:<{envelope.recipient}>")
            code, reply = connection.getreply()
            if code == 251:  # "user not local; will forward" is a success
                code = 250
            self._check(connection, code, reply, f"recipient {envelope.recipient} refused")
        except smtplib.SMTPServerDisconnected as exc:
            raise _Dropped(str(exc) or "disconnected") from exc
        except OSError as exc:  # a reset or timeout while the connection looked open
            raise _Dropped(str(exc) or type(exc).__name__) from exc
        try:
            code, reply = connection.data(envelope.data)
        except smtplib.SMTPResponseException as exc:  # the DATA command itself was refused
            code, reply = exc.smtp_code, exc.smtp_error
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._discard()
            # The server may have accepted the message before the line dropped: do not resend
            # in this batch. A later retry may double it, which its Message-ID makes detectable.
            raise TemporaryFailure(
                f"connection to SMTP server {self.channel.where} lost while sending the message; "
                "it may or may not have been delivered"
            ) from exc
        if code == 421:
            self._discard()
        self._check(connection, code, reply, "message refused")
        self._mail_ahead(connection, envelope.sender)

    def _check(self, connection: smtplib.SMTP, code: int, reply: bytes | str, what: str) -> None:
        if code == 250:
            return
        if code == 421 and self.connection is not None:
            # "Service closing": the server is going away, like a dropped connection.
            raise _Dropped(f"{code} {_text(reply)}")
        if self.connection is not None:
            try:
                connection.rset()  # leave the connection clean for the next message
            except (smtplib.SMTPException, OSError):
                self._discard()
        raise failure_for(code, f"SMTP server {self.channel.where}: {what}: {code} {_text(reply)}")


@lru_cache(maxsize=8)
def _mail_from(sender: str) -> str:
    """MAIL's argument for an envelope sender, as smtplib's mail() writes it (without options)."""
    return f"FROM:{smtplib.quoteaddr(sender)}"


def failure_for(code: int, text: str) -> DeliveryFailure:
    """4xx replies are worth retrying; 5xx (and anything unexpected) are not."""
    return TemporaryFailure(text) if 400 <= code < 500 else PermanentFailure(text)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _scrub(text: str, password: object) -> str:
    secret = getattr(password, "get_secret_value", lambda: None)()
    return text.replace(secret, "***") if secret else text


def _raise_connect_failure(exc: Exception, where: str, user: str | None, password: object) -> NoReturn:
    """Raise the delivery failure for a failed connect, STARTTLS or login; no password in it."""
    failure: DeliveryFailure
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"SMTP server {where} refused the login as {user}: {exc.smtp_code} {_text(exc.smtp_error)}"
        failure = failure_for(exc.smtp_code, text)
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        failure = PermanentFailure(
            f"SMTP server {where}: {exc} (check TRACKER_SMTP_SECURITY and TRACKER_SMTP_USER)"
        )
    elif isinstance(exc, smtplib.SMTPResponseException):  # a refusing greeting, EHLO or STARTTLS
        failure = failure_for(exc.smtp_code, f"SMTP server {where}: {exc.smtp_code} {_text(exc.smtp_error)}")
    elif isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "verify_message", None) or exc.reason or exc
        failure = TemporaryFailure(f"SMTP server {where}: TLS failed: {reason}")
    elif isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        # smtplib reports a read timeout as a disconnect caused by the timeout.
        failure = TemporaryFailure(f"SMTP server {where} did not answer in time")
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        failure = TemporaryFailure(f"SMTP server {where} hung up: {exc}")
    elif isinstance(exc, OSError):
        failure = TemporaryFailure(f"cannot reach SMTP server {where}: {exc.strerror or exc}")
    else:
        raise exc
    failure = type(failure)(_scrub(str(failure), password))
    # Chaining would carry smtplib's exception along, whose text we have not scrubbed.
    raise failure from None
