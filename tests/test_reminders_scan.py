"""`store.scan_due`, the fast recording scan, finds exactly what the pure policy says is due."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from support.reminders import World, at

from tracker import services
from tracker.config import ReviewSettings
from tracker.models import Claim, Reviewer
from tracker.reminders import store
from tracker.reminders.policy import ClaimDeadline, Recipient, all_due
from tracker.review import current_round

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
    # Double review: awaiting a second verdict (the first reviewer's is the latest round's,
    # after an un-resolve), and disputed, one deadline past and one far ahead.
    for key, offset in (("second", -2), ("again", 5), ("split", -9), ("early-split", 60)):
        w.claim(key, "r0", "r1", "r2", "boss", deadline=dt.date(2027, 1, 31) + dt.timedelta(days=offset))
    with w.begin() as session:
        review, when, url = (
            ReviewSettings(verdicts_required=2),
            at("2026-12-01 12:00"),
            ["https://e.example.org"],
        )
        services.resolve(session, "second", "true", url, None, "r0", None, when, review=review)
        services.resolve(session, "again", "true", url, None, "r1", None, when, review=review)
        services.unresolve(session, "again", "r1", "wrong claim", when)
        services.resolve(session, "again", "true", url, None, "r2", None, when, review=review)
        for key in ("split", "early-split"):
            services.resolve(session, key, "true", url, None, "r0", None, when, review=review)
            services.resolve(session, key, "false", url, None, "boss", None, when, review=review)
    return w


def answered(claim: Claim) -> frozenset[int]:
    """Who gave a verdict in the current round of a claim awaiting its second (by tracker.review)."""
    if claim.status != "awaiting":
        return frozenset()
    return frozenset(r.reviewer_id for r in current_round(claim.resolutions) if r.reviewer_id is not None)


def by_the_policy(world: World, now: dt.datetime) -> list[tuple[object, ...]]:
    with world.begin() as session:
        admins = [
            Recipient(r.id, r.timezone)
            for r in session.scalars(select(Reviewer).where(Reviewer.role == "admin"))
        ]
        claims = [
            (
                ClaimDeadline(
                    c.id, c.kind, c.status, c.deadline, c.timezone or world.settings.timezone, answered(c)
                ),
                [Recipient(r.id, r.timezone) for r in c.reviewers],
            )
            for c in session.scalars(
                select(Claim).options(selectinload(Claim.reviewers), selectinload(Claim.resolutions))
            )
        ]
    return sorted(all_due(claims, admins, world.settings.reminders, now))  # type: ignore[arg-type]


@pytest.mark.parametrize("days", [-10, -5, -1, 0, 1, 2, 4, 10, 20, 45])
def test_the_scan_agrees_with_the_policy(world: World, days: int) -> None:
    for hour in (0, 9, 15, 23):
        now = at("2027-01-31 00:00") + dt.timedelta(days=days, hours=hour)
        with world.begin() as session:
            found = sorted(store.scan_due(session, world.settings, now))
        assert found == by_the_policy(world, now), now


def test_double_review_claims_are_in_the_scan(world: World) -> None:
    with world.begin() as session:
        ids = dict(session.execute(select(Claim.key, Claim.id)).all())
        handles = dict(session.execute(select(Reviewer.id, Reviewer.handle)).all())
        found = store.scan_due(session, world.settings, at("2027-02-10 12:00"))
    kinds = {(handles[d.reviewer_id], d.kind) for d in found if d.claim_id == ids["second"]}
    assert {who for who, _ in kinds} == {"r1", "r2", "boss"}  # not r0, who gave the first
    again = {handles[d.reviewer_id] for d in found if d.claim_id == ids["again"]}
    assert again == {"r0", "r1", "boss"}  # r1's first verdict was un-resolved; r2 gave this round's
    split = {(handles[d.reviewer_id], d.kind) for d in found if d.claim_id == ids["split"]}
    assert split == {("boss", "disputed-7"), ("chief", "disputed-7")}  # every 3 days from 01-22
    # A dispute before the deadline waits in the admins' queue; the reminders start on the deadline day.
    assert not any(d.claim_id == ids["early-split"] for d in found)
    with world.begin() as session:
        found = store.scan_due(session, world.settings, at("2027-04-01 12:00"))
    early = {(handles[d.reviewer_id], d.kind) for d in found if d.claim_id == ids["early-split"]}
    assert early == {("boss", "disputed-1"), ("chief", "disputed-1")}


def test_an_open_promise_is_reminded_like_a_prediction(world: World) -> None:
    now = at("2027-02-01 12:00")
    with world.begin() as session:
        promise_id = session.scalars(select(Claim.id).where(Claim.key == "a-promise")).one()
        found = store.scan_due(session, world.settings, now)
    assert any(due.claim_id == promise_id for due in found), found
