"""One reminder pass: cancel what no longer applies, record what fell due, group, deliver.

Each step is its own short transaction, and each delivery is claimed, sent and marked on
its own, so a crash loses nothing and other processes can run passes at the same time.
The steps are `handle_one`-style functions returning whether they did something, so the
loops are easy to test.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tracker.channels import Channel, Message, PermanentFailure, Sender, TemporaryFailure
from tracker.config import Settings
from tracker.models import DeliveryStatus
from tracker.reminders import grouping, outbox, runs, store
from tracker.reminders.digest import render

LEASE = dt.timedelta(minutes=5)
# Deliveries claimed and rendered per transaction. Each is still marked sent in a commit of
# its own (a crash can double one message, not a batch); what a stop leaves is given back.
BATCH = 20
RETRIES = 3
# Temporary failures in a row after which a pass stops sending: the channel looks down, and
# trying the rest would only spend their attempts. The next pass tries again.
GIVE_UP_AFTER = 3
T = TypeVar("T")


class Sessions(Protocol):
    """What the engine needs of a session factory: `with sessions.begin() as session:`."""

    def begin(self) -> AbstractContextManager[Session]: ...


@dataclass(frozen=True)
class FailureNote:
    """A delivery attempt that failed in this pass."""

    delivery_id: int
    reviewer: str
    status: str  # retry or failed
    error: str


@dataclass
class PassResult:
    """What one pass did (or, on a dry run, would do)."""

    recorded: int = 0
    cancelled: int = 0
    skipped: int = 0
    deliveries_created: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0
    dry_run: bool = False
    stopped: bool = False  # ended early because `stop` said so
    channel_down: bool = False  # stopped sending after GIVE_UP_AFTER temporary failures in a row
    failures: list[FailureNote] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)  # dry run: what would be sent

    def counts(self) -> dict[str, int]:
        """The counters alone, as the heartbeat records them."""
        return {k: v for k, v in asdict(self).items() if isinstance(v, int) and not isinstance(v, bool)}


def _retryable(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    # Deadlock or serialisation failure (PostgreSQL), or a lock that outlived busy_timeout (SQLite).
    return code in ("40P01", "40001") or "database is locked" in str(exc.orig)


def transaction(sessions: Sessions, work: Callable[[Session], T], *, write: bool = True) -> T:
    """Run `work` in a transaction of its own, again when the database asks for a retry."""
    for attempt in range(RETRIES):
        try:
            with sessions.begin() as session:
                if write:
                    store.lock_for_write(session)
                return work(session)
        except OperationalError as exc:
            if attempt == RETRIES - 1 or not _retryable(exc):
                raise
    raise AssertionError("unreachable")


class _LazySender:
    """Opens the channel on the first message only: a pass with nothing to send connects nowhere."""

    def __init__(self, channel: Channel, stack: ExitStack) -> None:
        self._channel, self._stack = channel, stack
        self._sender: Sender | None = None

    def send(self, message: Message) -> None:
        if self._sender is None:
            # The channel's sender reconnects by itself, and fails a batch fast once its server is down.
            self._sender = self._stack.enter_context(self._channel.open())
        self._sender.send(message)


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


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    lease_until: dt.datetime
    reviewer: str = ""
    message: Message | None = None  # None: see `error`
    error: str | None = None  # the message could not be built


def _claim_batch(
    session: Session,
    *,
    settings: Settings,
    now: dt.datetime,
    due_by: dt.datetime,
    worker: str,
    lease_until: dt.datetime,
    limit: int,
) -> tuple[list[_Claimed], bool]:
    """Claim up to `limit` due deliveries and render them; those to send, and whether any was claimed."""
    ids = outbox.claim_batch(session, worker=worker, now=due_by, lease_until=lease_until, limit=limit)
    found = outbox.load_outgoing_many(session, ids, settings, now)
    empty = [d for d in ids if found[d] is None]
    if empty:
        outbox.cancel_empty(session, empty, worker)
    claimed: list[_Claimed] = []
    subjects: dict[int, str] = {}
    for d in ids:
        outgoing = found[d]
        if outgoing is None:
            continue
        try:
            if isinstance(outgoing, Exception):
                raise outgoing
            reminders = ",".join(str(i) for i in outgoing.reminder_ids)
            message = render(outgoing.digest, outgoing.message_id, (("X-Tracker-Reminders", reminders),))
        except Exception as exc:
            # One message that cannot be built (a template error, bad data) must not block the rest.
            error = f"cannot build the message: {type(exc).__name__}: {exc}"
            claimed.append(_Claimed(d, lease_until, error=error))
            continue
        subjects[d] = message.subject
        claimed.append(_Claimed(d, lease_until, outgoing.digest.handle, message))
    outbox.set_subjects(session, subjects)
    return claimed, bool(ids)


def _mark_failed(
    sessions: Sessions,
    claimed: _Claimed,
    error: str,
    *,
    permanent: bool,
    retry_after: float | None,
    settings: Settings,
    worker: str,
    clock: Callable[[], dt.datetime],
    result: PassResult,
) -> None:
    status = transaction(
        sessions,
        lambda s: outbox.mark_failed(
            s,
            claimed.delivery_id,
            worker=worker,
            at=clock(),
            error=error,
            permanent=permanent,
            settings=settings,
            retry_after=retry_after,
        ),
    )
    if status is None:  # another worker took it over meanwhile: its outcome counts
        return
    result.failures.append(FailureNote(claimed.delivery_id, claimed.reviewer, status, error))
    if status == DeliveryStatus.FAILED:
        result.failed += 1
    else:
        result.retried += 1


def _renew(
    sessions: Sessions,
    claimed: _Claimed,
    queue: deque[_Claimed],
    *,
    worker: str,
    clock: Callable[[], dt.datetime],
    lease: dt.timedelta,
) -> _Claimed | None:
    """Extend the leases of `claimed` and the rest of its batch; `claimed` renewed, or None if lost."""
    held = [claimed, *queue]
    until = clock() + lease
    kept = transaction(
        sessions,
        lambda s: outbox.extend_leases(s, [c.delivery_id for c in held], worker=worker, lease_until=until),
        write=False,
    )
    queue.clear()
    queue.extend(replace(c, lease_until=until) for c in held[1:] if c.delivery_id in kept)
    return replace(claimed, lease_until=until) if claimed.delivery_id in kept else None


def release(sessions: Sessions, queue: deque[_Claimed], worker: str) -> None:
    """Give back what this worker claimed and will not send (a stop, or a channel that is down)."""
    if queue:
        ids = [c.delivery_id for c in queue]
        queue.clear()
        transaction(sessions, lambda s: outbox.release(s, ids, worker=worker), write=False)


def send_one(
    sessions: Sessions,
    sender: Sender,
    *,
    settings: Settings,
    now: dt.datetime,
    clock: Callable[[], dt.datetime],
    worker: str,
    lease: dt.timedelta,
    result: PassResult,
    queue: deque[_Claimed] | None = None,
    batch: int = 1,
) -> bool:
    """Send and mark the next due delivery, claiming `batch` more into `queue` when it is empty.

    Claiming and rendering a batch takes one transaction; each message is still marked
    sent in its own commit, so a crash can double at most the one message in flight.
    Returns False when nothing is due.
    """
    queue = deque() if queue is None else queue
    while not queue:
        # Due by the running clock, not the pass's `now`: a digest another process made (or a
        # lease that ran out) after this pass began is this pass's to send too.
        at = max(now, clock())
        claim = partial(
            _claim_batch,
            settings=settings,
            now=now,
            due_by=at,
            worker=worker,
            lease_until=at + lease,
            limit=batch,
        )
        # It writes first, so SQLite takes the write lock at once without lock_for_write.
        claimed_now, any_claimed = transaction(sessions, claim, write=False)
        if not any_claimed:
            return False
        queue.extend(claimed_now)
    claimed: _Claimed | None = queue.popleft()
    assert claimed is not None
    if clock() > claimed.lease_until - lease / 2:
        # Never start a send on a lease that could run out before it ends.
        claimed = _renew(sessions, claimed, queue, worker=worker, clock=clock, lease=lease)
        if claimed is None:  # another worker took it over: its to send
            return True
    failing: dict[str, Any] = {"settings": settings, "worker": worker, "clock": clock, "result": result}
    if claimed.error is not None or claimed.message is None:
        error = claimed.error or "nothing to send"
        _mark_failed(sessions, claimed, error, permanent=True, retry_after=None, **failing)
        return True
    try:
        sender.send(claimed.message)
    except (TemporaryFailure, PermanentFailure) as exc:
        retry_after = exc.retry_after if isinstance(exc, TemporaryFailure) else None
        permanent = isinstance(exc, PermanentFailure)
        _mark_failed(sessions, claimed, str(exc), permanent=permanent, retry_after=retry_after, **failing)
        return True
    except Exception as exc:
        # An unexpected exception is a bug in a channel, not a verdict on the message: retry it.
        error = f"{type(exc).__name__}: {exc}"
        _mark_failed(sessions, claimed, error, permanent=False, retry_after=None, **failing)
        return True
    delivery_id = claimed.delivery_id
    transaction(sessions, lambda s: outbox.mark_sent(s, delivery_id, clock()), write=False)
    result.sent += 1
    return True


def _passes(
    sessions: Sessions,
    sender: Sender,
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
    in_a_row = 0
    queue: deque[_Claimed] = deque()
    try:
        while not (stopped := stop()):
            retried = result.retried
            if not send_one(
                sessions,
                sender,
                settings=settings,
                now=now,
                clock=clock,
                worker=worker,
                lease=lease,
                result=result,
                queue=queue,
                batch=BATCH,
            ):
                break
            in_a_row = in_a_row + 1 if result.retried > retried else 0
            if in_a_row >= GIVE_UP_AFTER:
                result.channel_down = True
                break
    except BaseException:
        with suppress(Exception):  # best effort: their leases run out anyway
            release(sessions, queue, worker)
        raise
    release(sessions, queue, worker)
    result.stopped = stopped


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


def _elapsed_clock(now: dt.datetime) -> Callable[[], dt.datetime]:
    # Leases and timestamps must advance during a long pass, from the injected `now`.
    start = time.monotonic()
    return lambda: now + dt.timedelta(seconds=time.monotonic() - start)


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
    clock = clock or _elapsed_clock(now)
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
        bind = session_factory.kw["bind"]
        engine: Engine = bind if isinstance(bind, Engine) else bind.engine
        with engine.connect() as connection:
            outer = connection.begin()
            try:
                _passes(_DrySessions(session_factory, connection), _Recorder(result.messages), **common)
            finally:
                outer.rollback()
        return result
    run_id = transaction(
        session_factory, lambda s: runs.start_run(s, runs.REMINDERS_JOB, worker=worker_id, now=now)
    )
    try:
        with ExitStack() as stack:
            _passes(session_factory, _LazySender(channel, stack), **common)
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
