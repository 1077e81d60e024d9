"""Shared helpers for the reminder tests: real in-memory channels, settings, and a small world.

The channels here implement tracker.channels' Channel protocol for real (they record, or
fail as scripted); nothing mocks library code.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import build_claim, build_reviewer, build_source
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.channels import Message, PermanentFailure, TemporaryFailure
from tracker.config import Settings, load_settings
from tracker.models import Claim, Delivery, JobRun, Reminder, Reviewer
from tracker.reminders import PassResult, run_pass

UTC = dt.UTC
# 2027-01-31 is the factories' default deadline; the 7-day reminder falls on 2027-01-24.
DEADLINE = dt.date(2027, 1, 31)


def at(text: str) -> dt.datetime:
    """An aware UTC datetime from "2027-01-24 09:00"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


class RecordingSender:
    """Keeps what it is given; thread-safe, as two passes may share the channel."""

    def __init__(self, channel: RecordingChannel) -> None:
        self.channel = channel

    def send(self, message: Message) -> None:
        self.channel.deliver(message)


class RecordingChannel:
    """A Channel that delivers into a list, and can be told to fail some messages."""

    name = "test"

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.opened = 0
        self.failures: list[Exception] = []  # raised, one per send, before anything is delivered
        self._lock = threading.Lock()

    @contextmanager
    def open(self) -> Iterator[RecordingSender]:
        with self._lock:
            self.opened += 1
        yield RecordingSender(self)

    def deliver(self, message: Message) -> None:
        with self._lock:
            if self.failures:
                raise self.failures.pop(0)
            self.messages.append(message)

    def fail_next(self, *errors: Exception) -> None:
        self.failures.extend(errors)

    def temporary(self, count: int = 1, text: str = "421 try later") -> None:
        self.fail_next(*[TemporaryFailure(text) for _ in range(count)])

    def permanent(self, text: str = "550 no such user") -> None:
        self.fail_next(PermanentFailure(text))

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m.to_address == address]


def make_settings(db_url: str, tmp_path: Path, **reminders: Any) -> Settings:
    """Settings for the test database, with reminder settings overridden."""
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    return load_settings(config_file=config, env={}, database_url=db_url, reminders=reminders)


@dataclass
class World:
    """The test database seen through the application's own session factory."""

    engine: Engine
    factory: sessionmaker[Session]
    db_url: str
    tmp_path: Path
    channel: RecordingChannel = field(default_factory=RecordingChannel)
    settings: Settings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = make_settings(self.db_url, self.tmp_path)

    def configure(self, **reminders: Any) -> None:
        self.settings = make_settings(self.db_url, self.tmp_path, **reminders)

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self.factory.begin() as session:
            yield session

    def add(self, build: Callable[..., Any], **fields: Any) -> int:
        with self.factory.begin() as session:
            return int(build(session, **fields).id)

    def reviewer(self, handle: str, timezone: str = "UTC", role: str = "reviewer") -> int:
        return self.add(
            build_reviewer,
            handle=handle,
            name=handle.title(),
            email=f"{handle}@example.org",
            timezone=timezone,
            role=role,
        )

    def claim(self, key: str, *handles: str, **fields: Any) -> int:
        with self.factory.begin() as session:
            reviewers = list(session.scalars(select(Reviewer).where(Reviewer.handle.in_(handles))))
            source = build_source(session)
            claim = build_claim(session, key=key, source=source, reviewers=reviewers, **fields)
            return int(claim.id)

    def run(self, now: dt.datetime, **kwargs: Any) -> PassResult:
        kwargs.setdefault("worker_id", "worker-1")
        kwargs.setdefault("clock", lambda: now)
        kwargs.setdefault("channel", self.channel)
        return run_pass(self.factory, settings=self.settings, now=now, **kwargs)

    def reminders(self) -> list[tuple[str, str, str, str]]:
        """(claim key, reviewer handle, kind, status) of every reminder, in id order."""
        with self.factory() as session:
            rows = session.execute(
                select(Claim.key, Reviewer.handle, Reminder.kind, Reminder.status)
                .join(Claim, Claim.id == Reminder.claim_id)
                .join(Reviewer, Reviewer.id == Reminder.reviewer_id)
                .order_by(Reminder.id)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def deliveries(self) -> list[Delivery]:
        with self.factory() as session:
            return list(session.scalars(select(Delivery).order_by(Delivery.id)))

    def runs(self) -> list[JobRun]:
        with self.factory() as session:
            return list(session.scalars(select(JobRun).order_by(JobRun.id)))

    def count(self, model: Any) -> int:
        with self.factory() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


def keys_in(message: Message) -> list[str]:
    """The claim keys a digest lists, in order (from the X-Tracker-Reminders-free text)."""
    keys = []
    for line in message.text.splitlines():
        head, _, rest = line.partition(". ")
        if head.isdigit() and ": " in rest:
            keys.append(rest.split(": ", 1)[0])
    return keys
