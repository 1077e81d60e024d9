"""Marking a delivery sent: the send loop's held connection writes what mark_sent writes, at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from support.reminders import World, at

from tracker.models import Delivery, Reminder
from tracker.reminders.marks import HeldMarks, mark_sent

T0 = at("2027-01-24 09:00")  # the default claim's before-7d reminder falls due
LATER = T0 + dt.timedelta(seconds=90)


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    w = World(engine, session_factory, db_url, tmp_path)
    for handle in ("ann", "bob"):
        w.reviewer(handle)
        w.claim(f"claim-of-{handle}", handle)
    # Both digests fail for now: two deliveries to retry, their reminders queued.
    w.channel.temporary(2)
    assert w.run(T0).retried == 2
    return w


def state(world: World) -> list[tuple[str, dt.datetime | None, str | None, dt.datetime | None, str | None]]:
    with world.factory() as session:
        return [
            (d.status, d.sent_at, d.lease_owner, d.lease_until, d.last_error)
            for d in session.scalars(select(Delivery).order_by(Delivery.id))
        ]


def reminder_statuses(world: World) -> list[str]:
    with world.factory() as session:
        return list(session.scalars(select(Reminder.status).order_by(Reminder.id)))


def test_a_held_mark_is_committed_when_it_returns(world: World) -> None:
    first, second = (d.id for d in world.deliveries())
    held = HeldMarks(world.engine)
    try:
        assert held(first, LATER) is True
        # Seen from another connection at once: nothing waits for the next mark or the close.
        assert state(world)[0] == ("sent", LATER, None, None, None)
        assert reminder_statuses(world) == ["sent", "queued"]
        assert held(first, LATER + dt.timedelta(seconds=1)) is False  # already sent: it stands
        assert held(second, LATER) is True
        assert [s[0] for s in state(world)] == ["sent", "sent"]
        assert reminder_statuses(world) == ["sent", "sent"]
    finally:
        held.close()


def test_a_held_mark_writes_what_mark_sent_writes(world: World) -> None:
    first, second = (d.id for d in world.deliveries())
    with world.begin() as session:
        assert mark_sent(session, first, LATER) is True
    held = HeldMarks(world.engine)
    try:
        assert held(second, LATER) is True
    finally:
        held.close()
    one, two = state(world)
    assert one == two == ("sent", LATER, None, None, None)
