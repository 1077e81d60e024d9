"""Delivery channels: SMTP email, a Slack-compatible webhook, and the console.

The reminder engine and the scheduler use only this interface:

    channel = make_channel(settings)
    with channel.open() as sender:           # one connection for the batch
        for message in messages:
            try:
                sender.send(message)
            except TemporaryFailure: ...      # retry later
            except PermanentFailure: ...      # give up; show it in `reminders list --failed`
"""

from __future__ import annotations

from typing import TextIO

from tracker.channels.base import (
    Channel,
    DeliveryFailure,
    Message,
    PermanentFailure,
    Sender,
    TemporaryFailure,
)
from tracker.channels.console import ConsoleChannel
from tracker.channels.smtp import SmtpChannel
from tracker.channels.webhook import WebhookChannel
from tracker.config import Settings

__all__ = [
    "Channel",
    "ConsoleChannel",
    "DeliveryFailure",
    "Message",
    "PermanentFailure",
    "Sender",
    "SmtpChannel",
    "TemporaryFailure",
    "WebhookChannel",
    "make_channel",
]


def make_channel(settings: Settings, *, stream: TextIO | None = None, kind: str | None = None) -> Channel:
    """The channel named by settings.reminders.channel (or `kind`), configured from `settings`.

    `stream` replaces stdout for the console channel; a configured console_file wins over it.
    Raises TrackerError, naming the variable to set, when the channel is not configured.
    """
    kind = kind or settings.reminders.channel
    if kind == "smtp":
        return SmtpChannel(settings.smtp)
    if kind == "slack":
        return WebhookChannel(settings.slack.webhook_url)
    if kind == "console":
        return ConsoleChannel(path=settings.reminders.console_file, stream=stream)
    raise ValueError(f"unknown channel {kind!r}")
