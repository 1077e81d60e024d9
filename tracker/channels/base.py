"""What every channel shares: the message, the two kinds of delivery failure, the protocols."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from tracker.errors import TrackerError


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one person, the same whichever channel carries it."""

    message_id: str  # full RFC 5322 Message-ID including <>, deterministic, chosen by the caller
    to_address: str  # email address (the console and slack channels still show it)
    to_name: str
    subject: str
    text: str  # plain-text body
    html: str | None = None  # HTML body; email sends multipart/alternative when given
    headers: tuple[tuple[str, str], ...] = ()  # extra headers, e.g. ("X-Tracker-Reminders", "12,13")


class DeliveryFailure(TrackerError):
    """A message could not be delivered; the subclass says whether trying again can help."""


class TemporaryFailure(DeliveryFailure):
    """Try again later: a 4xx reply, a refused or lost connection, a timeout, HTTP 5xx or 429."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        # Seconds the far end asked us to wait (HTTP Retry-After), when it said.
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailure):
    """Do not retry: a 5xx SMTP reply, HTTP 4xx other than 429, a bad address or message."""


class Sender(Protocol):
    """An open connection of a channel, good for a batch of messages."""

    def send(self, message: Message) -> None:
        """Deliver one message; raises TemporaryFailure or PermanentFailure."""
        ...


class Channel(Protocol):
    """A way to deliver messages: SMTP email, a Slack-compatible webhook, or the console.

    `open()` itself never fails: connecting happens on the first `send()`, so every
    failure reaches the caller as the failure of one message.
    """

    name: str

    def open(self) -> AbstractContextManager[Sender]:
        """One connection for a batch of messages, closed when the block ends."""
        ...
