"""`store.scan_due`, the fast recording scan, finds exactly what the pure policy says is due."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from support.reminders import World, at

from tracker.models import Claim, Reviewer
from tracker.reminders import store
from tracker.reminders.policy import ClaimDeadline, Recipient, all_due

ZONES = ("UTC", "Asia/Seoul", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago")


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    w = World(engine, session_factory, db_url, tmp_path)
    for n, zone in enumerate(ZONES):
        w.reviewer(f"r{n}", timezone=zone)
    w.reviewer("boss", timezone="Europe/London", role="admin")
    w.reviewer("chief", timezone="Asia/Tokyo", role="admin")
    deadlines = [dt.date(2027, 1, 31) + dt.timedelta(days=d) for d in (-40, -15, -3, 0, 1, 6, 8, 30, 400)]
    for i, deadline in enumerate(deadlines):
        handles = [f"r{i % len(ZONES)}", f"r{(i + 2) % len(ZONES)}"] + (["boss"] if i % 3 == 0 else [])
        w.claim(f"c{i}", *handles, deadline=deadline, timezone=ZONES[(i + 1) % len(ZONES)] if i % 2 else None)
    w.claim("nobody", deadline=dt.date(2027, 1, 20))
    w.claim("done", "r0", deadline=dt.date(2027, 1, 20), status="resolved", verdict="true")
    w.claim("a-fact", "r1", kind="fact", deadline=None, criteria=None, probability=None, confidence=None)
    # A promise has a deadline as a prediction does, and is reminded the same way.
    w.claim(
        "a-promise", "r3", kind="promise", deadline=dt.date(2027, 1, 31), probability=None, confidence=None
    )
    return w


def by_the_policy(world: World, now: dt.datetime) -> list[tuple[object, ...]]:
    with world.begin() as session:
        admins = [
            Recipient(r.id, r.timezone)
            for r in session.scalars(select(Reviewer).where(Reviewer.role == "admin"))
        ]
        claims = [
            (
                ClaimDeadline(c.id, c.kind, c.status, c.deadline, c.timezone or world.settings.timezone),
                [Recipient(r.id, r.timezone) for r in c.reviewers],
            )
            for c in session.scalars(select(Claim).options(selectinload(Claim.reviewers)))
        ]
    return sorted(all_due(claims, admins, world.settings.reminders, now))  # type: ignore[arg-type]


@pytest.mark.parametrize("days", [-10, -5, -1, 0, 1, 2, 4, 10, 20, 45])
def test_the_scan_agrees_with_the_policy(world: World, days: int) -> None:
    for hour in (0, 9, 15, 23):
        now = at("2027-01-31 00:00") + dt.timedelta(days=days, hours=hour)
        with world.begin() as session:
            found = sorted(store.scan_due(session, world.settings, now))
        assert found == by_the_policy(world, now), now


def test_an_open_promise_is_reminded_like_a_prediction(world: World) -> None:
    now = at("2027-02-01 12:00")
    with world.begin() as session:
        promise_id = session.scalars(select(Claim.id).where(Claim.key == "a-promise")).one()
        found = store.scan_due(session, world.settings, now)
    assert any(due.claim_id == promise_id for due in found), found
