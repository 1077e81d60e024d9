"""The send loop claims deliveries in batches: what a stop leaves is given back, leases are renewed."""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from support.reminders import RecordingChannel, World, at

from tracker.clock import Clock
from tracker.db import make_engine, make_session_factory
from tracker.models import Claim, Delivery, Reviewer
from tracker.reminders import LEASE, PassResult, outbox
from tracker.reminders.engine import BATCH, PassContext, group_one, record_due, release, send_one

T = at("2027-01-24 09:30")
REVIEWERS = 5


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    w = World(engine, session_factory, db_url, tmp_path)
    for n in range(REVIEWERS):
        w.reviewer(f"r{n}")
        w.claim(f"c{n}", f"r{n}")
    return w


def queue_digests(world: World) -> list[int]:
    """Record and group every due reminder at T; the reviewer ids, in order."""
    result = PassResult()
    record_due(world.factory, settings=world.settings, now=T, result=result)
    with world.begin() as session:
        ids = list(session.scalars(select(Reviewer.id).order_by(Reviewer.id)))
    for reviewer in ids:
        group_one(world.factory, reviewer, settings=world.settings, now=T, channel="test", result=result)
    return ids


def context(world: World, clock: Clock) -> PassContext:
    """Worker "a"'s send loop at T, on `clock`."""
    return PassContext(
        sessions=world.factory,
        settings=world.settings,
        now=T,
        clock=clock,
        worker="a",
        result=PassResult(),
        lease=LEASE,
    )


def statuses(world: World) -> list[tuple[str, int, str | None]]:
    return [(d.status, d.attempts, d.lease_owner) for d in world.deliveries()]


def test_a_batch_size_larger_than_one() -> None:
    assert BATCH > 1


def test_a_stop_mid_batch_gives_the_rest_back(world: World) -> None:
    channel = RecordingChannel()
    result = world.run(T, channel=channel, stop=lambda: len(channel.messages) >= 2)
    assert result.stopped and result.sent == len(channel.messages) == 2
    # Nothing left claimed: the rest are due again at once, with no attempt spent.
    assert sorted(statuses(world)) == [("pending", 0, None)] * 3 + [("sent", 1, None)] * 2
    again = world.run(T + dt.timedelta(minutes=1), channel=channel)
    assert again.sent == 3 and len({m.message_id for m in channel.messages}) == REVIEWERS


def test_release_gives_back_only_what_this_worker_holds(world: World) -> None:
    queue_digests(world)
    queue: deque[Any] = deque()
    ctx = context(world, lambda: T)
    with RecordingChannel().open() as sender:
        assert send_one(ctx, sender, queue=queue, batch=REVIEWERS)
    assert len(queue) == REVIEWERS - 1
    stolen = queue[0].delivery_id
    with world.begin() as session:
        session.execute(update(Delivery).where(Delivery.id == stolen).values(lease_owner="b"))
    release(ctx, queue)
    assert not queue
    found = {d.id: (d.status, d.lease_owner) for d in world.deliveries()}
    assert found[stolen] == ("sending", "b")
    assert sorted(found.values()).count(("pending", None)) == REVIEWERS - 2


def test_a_lease_near_its_end_is_renewed_and_a_lost_one_not_sent(world: World) -> None:
    queue_digests(world)
    now = [T]
    channel = RecordingChannel()
    queue: deque[Any] = deque()
    ctx = context(world, lambda: now[0])
    with channel.open() as sender:
        assert send_one(ctx, sender, queue=queue, batch=REVIEWERS)  # claims all five, sends the first
        # Most of the lease has gone by; meanwhile another worker took one over (its lease
        # looked expired to that worker's clock).
        now[0] = T + LEASE * 0.8
        taken = queue[0].delivery_id
        with world.begin() as session:
            session.execute(update(Delivery).where(Delivery.id == taken).values(lease_owner="b"))
        while send_one(ctx, sender, queue=queue, batch=REVIEWERS):
            pass
    ids = {d.id: d for d in world.deliveries()}
    assert len(channel.messages) == REVIEWERS - 1  # never the one another worker holds
    assert ids[taken].status == "sending" and ids[taken].lease_owner == "b"
    assert {d.status for i, d in ids.items() if i != taken} == {"sent"}


def test_a_batch_of_empty_digests_does_not_end_the_loop(world: World) -> None:
    queue_digests(world)
    with world.begin() as session:  # the first three claims are resolved after grouping
        session.execute(
            update(Claim).where(Claim.key.in_(["c0", "c1", "c2"])).values(status="resolved", verdict="true")
        )
    channel = RecordingChannel()
    queue: deque[Any] = deque()
    ctx = context(world, lambda: T)
    result = ctx.result
    with channel.open() as sender:
        while send_one(ctx, sender, queue=queue, batch=2):
            pass
    assert result.sent == 2 and sorted(m.to_address for m in channel.messages) == [
        "r3@example.org",
        "r4@example.org",
    ]
    assert sorted(d.status for d in world.deliveries()) == ["cancelled"] * 3 + ["sent"] * 2


def test_concurrent_claims_never_exceed_the_batch(world: World) -> None:
    """PostgreSQL could rescan `id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` and claim more."""
    for n in range(REVIEWERS, 40):
        world.reviewer(f"r{n}")
        world.claim(f"c{n}", f"r{n}")
    queue_digests(world)
    engines = [make_engine(world.db_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    def claim(i: int) -> None:
        factory = make_session_factory(engines[i])
        try:
            barrier.wait()
            for _ in range(3):
                with factory.begin() as session:
                    got = outbox.claim_rows(session, worker=f"w{i}", now=T, lease_until=T + LEASE, limit=4)
                claimed.append([delivery_id for delivery_id, _ in got])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert all(len(batch) <= 4 for batch in claimed)
    every = [i for batch in claimed for i in batch]
    assert len(every) == len(set(every)) == min(40, 4 * 3 * len(engines))
