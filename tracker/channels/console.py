"""The console channel: messages written, readably, to stdout or appended to a file.

It is the default, so that the quick start shows reminders without a mail server.
"""

from __future__ import annotations

import email.utils
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from tracker.channels.base import Message, TemporaryFailure
from tracker.clock import Clock, utcnow

SEPARATOR = "=" * 72


def render(message: Message, date: str) -> str:
    """The message as a reader sees it: a separator, the headers, a blank line, the text body."""
    to = f"{message.to_name} <{message.to_address}>" if message.to_name else message.to_address
    lines = [
        SEPARATOR,
        f"Date: {date}",
        f"Message-ID: {message.message_id}",
        f"To: {to}",
        f"Subject: {message.subject}",
        *(f"{name}: {value}" for name, value in message.headers),
        "",
        message.text.rstrip("\n"),
        "",
    ]
    return "\n".join(lines) + "\n"


class ConsoleChannel:
    """Writes each message to a stream (stdout by default) or appends it to a file."""

    name: str = "console"

    def __init__(
        self, *, path: str | Path | None = None, stream: TextIO | None = None, clock: Clock = utcnow
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else None
        self.stream = stream
        self.clock = clock

    @contextmanager
    def open(self) -> Iterator[ConsoleSender]:
        """A sender for a batch; a file is opened on the first message and closed at the end."""
        sender = ConsoleSender(self)
        try:
            yield sender
        finally:
            sender.close()


class ConsoleSender:
    """Writes one batch of messages."""

    def __init__(self, channel: ConsoleChannel) -> None:
        self.channel = channel
        self._fd: int | None = None

    def send(self, message: Message) -> None:
        """Write one message and flush it, so that a crash right after loses nothing."""
        text = render(message, email.utils.format_datetime(self.channel.clock()))
        path = self.channel.path
        if path is None:
            # Looked up now, not at import, so that a captured stdout (tests, click) is honoured.
            stream = self.channel.stream or sys.stdout
            try:
                stream.write(text)
                stream.flush()
            except OSError as exc:
                raise TemporaryFailure(f"cannot write to the console: {exc.strerror or exc}") from exc
            return
        try:
            if self._fd is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            # One write per message on an O_APPEND file: several schedulers sharing the file
            # cannot interleave their messages.
            data = text.encode("utf-8")
            while data:  # a regular file takes it all at once unless the disk fills
                data = data[os.write(self._fd, data) :]
        except OSError as exc:
            raise TemporaryFailure(f"cannot write to {path}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        """Close the file, if one was opened."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
