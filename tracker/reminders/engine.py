"""One reminder pass: cancel what no longer applies, record what fell due, group, deliver.

Each step is its own short transaction, and each delivery is claimed, sent and marked on
its own (see `sending`), so a crash loses nothing and other processes can run passes at
the same time. The steps are `handle_one`-style functions returning whether they did
something, so the loops are easy to test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from tracker.channels import Channel, Message, Sender
from tracker.config import Settings
from tracker.reminders import grouping, runs, store
from tracker.reminders.marks import HeldMarks
from tracker.reminders.sending import (
    BATCH,
    GIVE_UP_AFTER,
    LEASE,
    LazySender,
    MarkSent,
    deliver,
    engine_of,
    marks_through,
    release,
    send_due,
    send_one,
)
from tracker.reminders.units import (
    RETRIES,
    FailureNote,
    PassResult,
    Sessions,
    elapsed_clock,
    transaction,
)

__all__ = [
    "BATCH",
    "GIVE_UP_AFTER",
    "LEASE",
    "RETRIES",
    "FailureNote",
    "PassResult",
    "Sessions",
    "deliver",
    "group_one",
    "record_due",
    "release",
    "run_pass",
    "send_one",
    "transaction",
]


class _Recorder:
    """The dry run's sender: keeps the messages instead of sending them."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages

    def send(self, message: Message) -> None:
        self.messages.append(message)


def record_due(sessions: Sessions, *, settings: Settings, now: dt.datetime, result: PassResult) -> None:
    """Cancel reminders that no longer apply, then record the ones that fell due."""

    def record(session: Session) -> int:
        return store.record(session, store.scan_due(session, settings, now), settings.reminders, now)

    result.cancelled += transaction(sessions, store.cancel_stale)
    result.recorded += transaction(sessions, record)


def group_one(
    sessions: Sessions,
    reviewer_id: int,
    *,
    settings: Settings,
    now: dt.datetime,
    channel: str,
    result: PassResult,
) -> bool:
    """Group one reviewer's due reminders into a digest; whether a digest was created."""
    grouped = transaction(
        sessions,
        lambda s: grouping.group_reviewer(s, reviewer_id, settings=settings, now=now, channel=channel),
    )
    result.held += grouped.held
    result.skipped += grouped.skipped
    if grouped.delivery_id is not None:
        result.deliveries_created += 1
        return True
    return False


def _passes(
    sessions: Sessions,
    sender: Sender,
    mark: MarkSent,
    *,
    settings: Settings,
    now: dt.datetime,
    channel_name: str,
    clock: Callable[[], dt.datetime],
    worker: str,
    lease: dt.timedelta,
    result: PassResult,
    stop: Callable[[], bool],
) -> None:
    record_due(sessions, settings=settings, now=now, result=result)
    reviewers = transaction(sessions, lambda s: grouping.reviewers_with_due(s, now), write=False)
    for reviewer_id in reviewers:
        if stop():
            result.stopped = True
            return
        group_one(sessions, reviewer_id, settings=settings, now=now, channel=channel_name, result=result)
    send_due(
        sessions,
        sender,
        mark,
        settings=settings,
        now=now,
        clock=clock,
        worker=worker,
        lease=lease,
        result=result,
        stop=stop,
    )


class _DrySessions:
    """Sessions inside one outer transaction that is rolled back: a dry run writes nothing."""

    def __init__(self, factory: sessionmaker[Session], connection: Connection) -> None:
        self._factory, self._connection = factory, connection

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with (
            self._factory(bind=self._connection, join_transaction_mode="create_savepoint") as session,
            session.begin(),
        ):
            yield session


def run_pass(
    session_factory: sessionmaker[Session],
    *,
    settings: Settings,
    now: dt.datetime,
    channel: Channel,
    worker_id: str,
    dry_run: bool = False,
    clock: Callable[[], dt.datetime] | None = None,
    lease: dt.timedelta = LEASE,
    stop: Callable[[], bool] | None = None,
) -> PassResult:
    """Run one reminder pass at `now`, delivering through `channel`.

    What is due is decided at `now`; leases and sent times follow `clock` (by default `now`
    plus the real time elapsed since the pass began). A delivery whose sender died is sent
    again once its `lease` has run out. `stop` is asked between reviewers and between
    deliveries (a SIGTERM flag): when it says so, the pass ends there, cleanly, and what is
    left waits for the next pass. A dry run sends nothing and writes nothing, and returns
    the messages it would have sent.
    """
    clock = clock or elapsed_clock(now)
    result = PassResult(dry_run=dry_run)
    common: dict[str, Any] = {
        "settings": settings,
        "now": now,
        "channel_name": channel.name,
        "clock": clock,
        "worker": worker_id,
        "lease": lease,
        "result": result,
        "stop": stop or (lambda: False),
    }
    if dry_run:
        with engine_of(session_factory).connect() as connection:
            outer = connection.begin()
            try:
                dry = _DrySessions(session_factory, connection)
                _passes(dry, _Recorder(result.messages), marks_through(dry), **common)
            finally:
                outer.rollback()
        return result
    run_id = transaction(
        session_factory, lambda s: runs.start_run(s, runs.REMINDERS_JOB, worker=worker_id, now=now)
    )
    try:
        with ExitStack() as stack:
            held = HeldMarks(engine_of(session_factory))
            stack.callback(held.close)
            _passes(session_factory, LazySender(channel, stack), held, **common)
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        # Best effort: the original failure is what must surface.
        with suppress(Exception):
            transaction(
                session_factory,
                lambda s: runs.finish_run(s, run_id, now=clock(), counts=result.counts(), error=error),
            )
        raise
    transaction(session_factory, lambda s: runs.finish_run(s, run_id, now=clock(), counts=result.counts()))
    return result
