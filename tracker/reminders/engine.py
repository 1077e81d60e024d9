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
from dataclasses import replace

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from tracker.channels import Channel, Message, Sender
from tracker.clock import Clock, running_from
from tracker.config import Settings
from tracker.reminders import grouping, runs, store
from tracker.reminders.marks import HeldMarks
from tracker.reminders.sending import (
    BATCH,
    GIVE_UP_AFTER,
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
    LEASE,
    RETRIES,
    FailureNote,
    PassContext,
    PassResult,
    Sessions,
    never,
    transaction,
)

__all__ = [
    "BATCH",
    "GIVE_UP_AFTER",
    "LEASE",
    "RETRIES",
    "FailureNote",
    "PassContext",
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


def _passes(ctx: PassContext, sender: Sender, mark: MarkSent) -> None:
    record_due(ctx.sessions, settings=ctx.settings, now=ctx.now, result=ctx.result)
    reviewers = ctx.transaction(lambda s: grouping.reviewers_with_due(s, ctx.now), write=False)
    for reviewer_id in reviewers:
        if ctx.stop():
            ctx.result.stopped = True
            return
        group_one(
            ctx.sessions,
            reviewer_id,
            settings=ctx.settings,
            now=ctx.now,
            channel=ctx.channel,
            result=ctx.result,
        )
    send_due(ctx, sender, mark)


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
    clock: Clock | None = None,
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
    ctx = PassContext(
        sessions=session_factory,
        settings=settings,
        now=now,
        clock=clock or running_from(now),
        worker=worker_id,
        result=PassResult(dry_run=dry_run),
        lease=lease,
        stop=stop or never,
        channel=channel.name,
    )
    result, clock = ctx.result, ctx.clock
    if dry_run:
        with engine_of(session_factory).connect() as connection:
            outer = connection.begin()
            try:
                dry = _DrySessions(session_factory, connection)
                _passes(replace(ctx, sessions=dry), _Recorder(result.messages), marks_through(dry))
            finally:
                outer.rollback()
        return result
    run_id = ctx.transaction(lambda s: runs.start_run(s, runs.REMINDERS_JOB, worker=worker_id, now=now))
    try:
        with ExitStack() as stack:
            held = HeldMarks(engine_of(session_factory))
            stack.callback(held.close)
            _passes(ctx, LazySender(channel, stack), held)
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        # Best effort: the original failure is what must surface.
        with suppress(Exception):
            ctx.transaction(
                lambda s: runs.finish_run(s, run_id, now=clock(), counts=result.counts(), error=error)
            )
        raise
    ctx.transaction(lambda s: runs.finish_run(s, run_id, now=clock(), counts=result.counts()))
    return result
