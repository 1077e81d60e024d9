"""Sending what is due: claim a batch, render it, then send each message and mark it sent.

This is the per-message path of every pass (and of the report job's drain), and it bounds
delivery throughput (BENCHMARKS.md). What it must keep, whatever it saves:

- a message is claimed (compare-and-set, with a lease) before it is sent, so two workers
  never send it both;
- it is marked sent in a transaction of its own, committed right after the channel
  accepted it and before the next message goes out, so a crash can double at most the
  one message in flight (with the same Message-ID, so that the double is detectable);
- a failure is recorded the same way, as a retry with backoff or a permanent failure.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tracker.channels import Channel, Message, PermanentFailure, Sender, TemporaryFailure
from tracker.config import Settings
from tracker.models import DeliveryStatus
from tracker.reminders import marks, outbox, reportmail
from tracker.reminders.digest import render
from tracker.reminders.marks import HeldMarks
from tracker.reminders.units import (
    FailureNote,
    PassResult,
    Sessions,
    elapsed_clock,
    transaction,
)
from tracker.templating import make_environment

LEASE = dt.timedelta(minutes=5)
# Deliveries claimed and rendered per transaction. Each is still marked sent in a commit of
# its own (a crash can double one message, not a batch); what a stop leaves is given back.
BATCH = 20
# Temporary failures in a row after which a pass stops sending: the channel looks down, and
# trying the rest would only spend their attempts. The next pass tries again.
GIVE_UP_AFTER = 3

MarkSent = Callable[[int, dt.datetime], object]
"""Records that delivery `id` was accepted at `at`, in a transaction committed before it returns."""


class LazySender:
    """Opens the channel on the first message only: a pass with nothing to send connects nowhere."""

    def __init__(self, channel: Channel, stack: ExitStack) -> None:
        self._channel, self._stack = channel, stack
        self._sender: Sender | None = None

    def send(self, message: Message) -> None:
        if self._sender is None:
            # The channel's sender reconnects by itself, and fails a batch fast once its server is down.
            self._sender = self._stack.enter_context(self._channel.open())
        self._sender.send(message)


def marks_through(sessions: Sessions) -> MarkSent:
    """Marks as units of work of `sessions` (a dry run's rolled-back sessions, tests)."""

    def mark(delivery_id: int, at: dt.datetime) -> bool:
        return transaction(sessions, lambda s: marks.mark_sent(s, delivery_id, at), write=False)

    return mark


def engine_of(session_factory: sessionmaker[Session]) -> Engine:
    """The engine a session factory is bound to."""
    bind = session_factory.kw["bind"]
    return bind if isinstance(bind, Engine) else bind.engine


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
    report_id: int | None = None,
) -> tuple[list[_Claimed], bool]:
    """Claim up to `limit` due deliveries and render them; those to send, and whether any was claimed."""
    rows = outbox.claim_rows(
        session, worker=worker, now=due_by, lease_until=lease_until, limit=limit, report_id=report_id
    )
    ids = [d for d, _ in rows]
    # Report emails carry the digest their report stored; the rest are reminder digests.
    reports = reportmail.load_report_mail(session, [d for d, report in rows if report is not None])
    found = outbox.load_outgoing_many(session, [d for d in ids if d not in reports], settings, now)
    empty = [d for d, outgoing in found.items() if outgoing is None]
    if empty:
        outbox.cancel_empty(session, empty, worker)
    claimed: list[_Claimed] = []
    subjects: dict[int, str] = {}
    templates = make_environment(settings)
    for d in ids:
        if d in reports:
            handle, mail = reports[d]
            if isinstance(mail, Exception):
                claimed.append(_Claimed(d, lease_until, handle, error=f"cannot build the message: {mail}"))
            else:
                claimed.append(_Claimed(d, lease_until, handle, mail))
            continue
        outgoing = found[d]
        if outgoing is None:
            continue
        try:
            if isinstance(outgoing, Exception):
                raise outgoing
            reminders = ",".join(str(i) for i in outgoing.reminder_ids)
            message = render(
                templates, outgoing.digest, outgoing.message_id, (("X-Tracker-Reminders", reminders),)
            )
        except Exception as exc:
            # One message that cannot be built (a template error, bad data) must not block the rest.
            error = f"cannot build the message: {type(exc).__name__}: {exc}"
            claimed.append(_Claimed(d, lease_until, error=error))
            continue
        if message.subject != outgoing.listed_subject:  # a claim dropped out since it was grouped
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
    mark: MarkSent | None = None,
    settings: Settings,
    now: dt.datetime,
    clock: Callable[[], dt.datetime],
    worker: str,
    lease: dt.timedelta,
    result: PassResult,
    queue: deque[_Claimed] | None = None,
    batch: int = 1,
    report_id: int | None = None,
) -> bool:
    """Send and mark the next due delivery, claiming `batch` more into `queue` when it is empty.

    Claiming and rendering a batch takes one transaction; each message is still marked
    sent in its own commit (through `mark`, by default a unit of work of `sessions`), so a
    crash can double at most the one message in flight. With `report_id`, only that
    report's emails are claimed. Returns False when nothing is due.
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
            report_id=report_id,
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
    # Committed before the next message goes out: the crash window stays one message wide.
    (mark or marks_through(sessions))(claimed.delivery_id, clock())
    result.sent += 1
    return True


def send_due(
    sessions: Sessions,
    sender: Sender,
    mark: MarkSent,
    *,
    settings: Settings,
    now: dt.datetime,
    clock: Callable[[], dt.datetime],
    worker: str,
    lease: dt.timedelta,
    result: PassResult,
    stop: Callable[[], bool],
    report_id: int | None = None,
) -> None:
    """Send what is due until nothing is, `stop` says so, or the channel looks down."""
    in_a_row = 0
    queue: deque[_Claimed] = deque()
    try:
        while not (stopped := stop()):
            retried = result.retried
            if not send_one(
                sessions,
                sender,
                mark=mark,
                settings=settings,
                now=now,
                clock=clock,
                worker=worker,
                lease=lease,
                result=result,
                queue=queue,
                batch=BATCH,
                report_id=report_id,
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


def deliver(
    session_factory: sessionmaker[Session],
    *,
    settings: Settings,
    now: dt.datetime,
    channel: Channel,
    worker_id: str,
    clock: Callable[[], dt.datetime] | None = None,
    lease: dt.timedelta = LEASE,
    stop: Callable[[], bool] | None = None,
    report_id: int | None = None,
) -> PassResult:
    """Send the due deliveries (only report `report_id`'s emails, when given) and nothing else.

    The send loop of a pass, with its leases, retries and crash safety, but without
    recording or grouping reminders, and without a heartbeat of its own: the report job
    calls it right after queueing a report's emails, inside its own job run. What it
    leaves (a stop, a channel that is down) waits for the next pass.
    """
    result = PassResult()
    with ExitStack() as stack:
        held = HeldMarks(engine_of(session_factory))
        stack.callback(held.close)
        send_due(
            session_factory,
            LazySender(channel, stack),
            held,
            settings=settings,
            now=now,
            clock=clock or elapsed_clock(now),
            worker=worker_id,
            lease=lease,
            result=result,
            stop=stop or (lambda: False),
            report_id=report_id,
        )
    return result
