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

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tracker.channels import Channel, Message, PermanentFailure, Sender, TemporaryFailure
from tracker.clock import Clock, running_from
from tracker.config import Settings
from tracker.models import DeliveryStatus
from tracker.reminders import marks, outbox, reportmail
from tracker.reminders.digest import render
from tracker.reminders.marks import HeldMarks
from tracker.reminders.units import (
    LEASE,
    FailureNote,
    PassContext,
    PassResult,
    Sessions,
    never,
    transaction,
)
from tracker.templating import make_environment

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
    session: Session, ctx: PassContext, *, due_by: dt.datetime, lease_until: dt.datetime, limit: int
) -> tuple[list[_Claimed], bool]:
    """Claim up to `limit` deliveries due by `due_by` and render them; those to send, and whether any was claimed."""
    rows = outbox.claim_rows(
        session, worker=ctx.worker, now=due_by, lease_until=lease_until, limit=limit, report_id=ctx.report_id
    )
    ids = [d for d, _ in rows]
    # Report emails carry the digest their report stored; the rest are reminder digests.
    reports = reportmail.load_report_mail(session, [d for d, report in rows if report is not None])
    found = outbox.load_outgoing_many(session, [d for d in ids if d not in reports], ctx.settings, ctx.now)
    empty = [d for d, outgoing in found.items() if outgoing is None]
    if empty:
        outbox.cancel_empty(session, empty, ctx.worker)
    claimed: list[_Claimed] = []
    subjects: dict[int, str] = {}
    templates = make_environment(ctx.settings)
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
    ctx: PassContext, claimed: _Claimed, error: str, *, permanent: bool, retry_after: float | None = None
) -> None:
    status = ctx.transaction(
        lambda s: outbox.mark_failed(
            s,
            claimed.delivery_id,
            worker=ctx.worker,
            at=ctx.clock(),
            error=error,
            permanent=permanent,
            settings=ctx.settings,
            retry_after=retry_after,
        )
    )
    if status is None:  # another worker took it over meanwhile: its outcome counts
        return
    ctx.result.failures.append(FailureNote(claimed.delivery_id, claimed.reviewer, status, error))
    if status == DeliveryStatus.FAILED:
        ctx.result.failed += 1
    else:
        ctx.result.retried += 1


def _renew(ctx: PassContext, claimed: _Claimed, queue: deque[_Claimed]) -> _Claimed | None:
    """Extend the leases of `claimed` and the rest of its batch; `claimed` renewed, or None if lost."""
    held = [claimed, *queue]
    until = ctx.clock() + ctx.lease
    kept = ctx.transaction(
        lambda s: outbox.extend_leases(
            s, [c.delivery_id for c in held], worker=ctx.worker, lease_until=until
        ),
        write=False,
    )
    queue.clear()
    queue.extend(replace(c, lease_until=until) for c in held[1:] if c.delivery_id in kept)
    return replace(claimed, lease_until=until) if claimed.delivery_id in kept else None


def release(ctx: PassContext, queue: deque[_Claimed]) -> None:
    """Give back what this worker claimed and will not send (a stop, or a channel that is down)."""
    if queue:
        ids = [c.delivery_id for c in queue]
        queue.clear()
        ctx.transaction(lambda s: outbox.release(s, ids, worker=ctx.worker), write=False)


def send_one(
    ctx: PassContext,
    sender: Sender,
    *,
    mark: MarkSent | None = None,
    queue: deque[_Claimed] | None = None,
    batch: int = 1,
) -> bool:
    """Send and mark the next due delivery, claiming `batch` more into `queue` when it is empty.

    Claiming and rendering a batch takes one transaction; each message is still marked
    sent in its own commit (through `mark`, by default a unit of work of the context's
    sessions), so a crash can double at most the one message in flight. With the
    context's `report_id`, only that report's emails are claimed. Returns False when
    nothing is due.
    """
    queue = deque() if queue is None else queue
    while not queue:
        # Due by the running clock, not the pass's `now`: a digest another process made (or a
        # lease that ran out) after this pass began is this pass's to send too.
        at = max(ctx.now, ctx.clock())
        claim = partial(_claim_batch, ctx=ctx, due_by=at, lease_until=at + ctx.lease, limit=batch)
        # It writes first, so SQLite takes the write lock at once without lock_for_write.
        claimed_now, any_claimed = ctx.transaction(claim, write=False)
        if not any_claimed:
            return False
        queue.extend(claimed_now)
    claimed: _Claimed | None = queue.popleft()
    assert claimed is not None
    if ctx.clock() > claimed.lease_until - ctx.lease / 2:
        # Never start a send on a lease that could run out before it ends.
        claimed = _renew(ctx, claimed, queue)
        if claimed is None:  # another worker took it over: its to send
            return True
    if claimed.error is not None or claimed.message is None:
        _mark_failed(ctx, claimed, claimed.error or "nothing to send", permanent=True)
        return True
    try:
        sender.send(claimed.message)
    except (TemporaryFailure, PermanentFailure) as exc:
        retry_after = exc.retry_after if isinstance(exc, TemporaryFailure) else None
        _mark_failed(
            ctx, claimed, str(exc), permanent=isinstance(exc, PermanentFailure), retry_after=retry_after
        )
        return True
    except Exception as exc:
        # An unexpected exception is a bug in a channel, not a verdict on the message: retry it.
        _mark_failed(ctx, claimed, f"{type(exc).__name__}: {exc}", permanent=False)
        return True
    # Committed before the next message goes out: the crash window stays one message wide.
    (mark or marks_through(ctx.sessions))(claimed.delivery_id, ctx.clock())
    ctx.result.sent += 1
    return True


def send_due(ctx: PassContext, sender: Sender, mark: MarkSent) -> None:
    """Send what is due until nothing is, the context's `stop` says so, or the channel looks down."""
    result = ctx.result
    in_a_row = 0
    queue: deque[_Claimed] = deque()
    try:
        while not (stopped := ctx.stop()):
            retried = result.retried
            if not send_one(ctx, sender, mark=mark, queue=queue, batch=BATCH):
                break
            in_a_row = in_a_row + 1 if result.retried > retried else 0
            if in_a_row >= GIVE_UP_AFTER:
                result.channel_down = True
                break
    except BaseException:
        with suppress(Exception):  # best effort: their leases run out anyway
            release(ctx, queue)
        raise
    release(ctx, queue)
    result.stopped = stopped


def deliver(
    session_factory: sessionmaker[Session],
    *,
    settings: Settings,
    now: dt.datetime,
    channel: Channel,
    worker_id: str,
    clock: Clock | None = None,
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
    ctx = PassContext(
        sessions=session_factory,
        settings=settings,
        now=now,
        clock=clock or running_from(now),
        worker=worker_id,
        result=PassResult(),
        lease=lease,
        stop=stop or never,
        report_id=report_id,
        channel=channel.name,
    )
    with ExitStack() as stack:
        held = HeldMarks(engine_of(session_factory))
        stack.callback(held.close)
        send_due(ctx, LazySender(channel, stack), held)
    return ctx.result
