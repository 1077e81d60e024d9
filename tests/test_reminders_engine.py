"""Reminder passes on a real database: digests, stopping, rescheduling, the daily limit, dry runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from support.reminders import DEADLINE, World, at, keys_in

from tracker import services
from tracker.db import make_engine
from tracker.migrations import downgrade, upgrade
from tracker.models import Claim, Delivery, JobRun, Reminder, Reviewer
from tracker.reminders import store
from tracker.reminders.policy import Due


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    return World(engine, session_factory, db_url, tmp_path)


SEVEN_BEFORE = at("2027-01-24 09:00")  # before-7d for the default deadline, 09:00 UTC
ONE_BEFORE = at("2027-01-30 09:00")


def test_one_digest_per_reviewer_lists_all_their_due_claims(world: World) -> None:
    world.reviewer("ann")
    world.reviewer("bob", timezone="Asia/Tokyo")
    world.claim("rates-fall", "ann")
    world.claim("oil-up", "ann", "bob")
    world.claim("later", "ann", deadline=DEADLINE + dt.timedelta(days=30))

    result = world.run(SEVEN_BEFORE)

    assert (result.recorded, result.deliveries_created, result.sent) == (3, 2, 2)
    [ann] = world.channel.to("ann@example.org")
    [bob] = world.channel.to("bob@example.org")
    assert sorted(keys_in(ann)) == ["oil-up", "rates-fall"]
    assert keys_in(bob) == ["oil-up"]
    assert ann.subject == "tracker: 2 claims to resolve"
    assert bob.subject == "tracker: 1 claim to resolve"
    assert ann.html is not None and "rates-fall" in ann.html
    assert {kind for _, _, kind, _ in world.reminders()} == {"before-7d"}


def test_a_second_pass_sends_nothing_again(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    world.run(SEVEN_BEFORE)
    for later in (SEVEN_BEFORE, SEVEN_BEFORE + dt.timedelta(minutes=5), at("2027-01-29 23:00")):
        result = world.run(later)
        assert (result.recorded, result.deliveries_created, result.sent) == (0, 0, 0)
    assert len(world.channel.messages) == 1
    assert world.channel.opened == 1  # no connection is opened when there is nothing to send


def test_each_kind_goes_out_once_on_its_day(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    every_3_hours = [SEVEN_BEFORE + dt.timedelta(hours=3 * i, minutes=2) for i in range(-1, 8 * 14)]
    for now in every_3_hours:
        world.run(now, clock=None)  # the default clock: `now` plus real elapsed time
    kinds = [kind for _, _, kind, _ in world.reminders()]
    assert kinds == ["before-7d", "before-1d", "deadline", "overdue-1", "overdue-2"]
    assert len(world.channel.messages) == 5
    assert [m.subject for m in world.channel.messages][-1] == "tracker: 1 claim to resolve (1 overdue)"


def test_catch_up_after_a_week_asleep_is_one_digest_with_the_latest_kinds(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    world.claim("oil-up", "ann")

    result = world.run(at("2027-02-07 10:00"))

    assert (result.recorded, result.sent) == (2, 1)
    assert [kind for _, _, kind, _ in world.reminders()] == ["overdue-2", "overdue-2"]
    assert world.channel.messages[0].subject == "tracker: 2 claims to resolve (2 overdue)"


def test_resolving_a_claim_stops_its_reminders(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    world.run(SEVEN_BEFORE)
    with world.begin() as session:
        services.resolve(
            session, "rates-fall", "true", ["https://example.org/e"], None, "ann", None, SEVEN_BEFORE
        )

    for now in (ONE_BEFORE, at("2027-02-03 09:00"), at("2027-03-01 09:00")):
        assert world.run(now).recorded == 0
    assert len(world.channel.messages) == 1


def test_resolving_cancels_a_digest_waiting_to_be_retried(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    world.channel.temporary()
    assert world.run(SEVEN_BEFORE).retried == 1
    with world.begin() as session:
        services.resolve(
            session, "rates-fall", "false", ["https://example.org/e"], None, "ann", None, SEVEN_BEFORE
        )

    result = world.run(SEVEN_BEFORE + dt.timedelta(minutes=5))

    assert (result.cancelled, result.sent) == (1, 0)
    assert world.reminders() == [("rates-fall", "ann", "before-7d", "cancelled")]
    assert [d.status for d in world.deliveries()] == ["cancelled"]
    assert world.channel.messages == []


def test_a_moved_deadline_cancels_the_old_reminders_and_schedules_new_ones(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    world.run(SEVEN_BEFORE)
    world.channel.temporary()
    world.run(ONE_BEFORE)  # before-1d is queued for a retry when the deadline moves
    new_deadline = DEADLINE + dt.timedelta(days=10)
    with world.begin() as session:
        claim = services.get_claim(session, "rates-fall")
        assert claim.criteria is not None
        services.revise_criteria(session, claim, claim.criteria, new_deadline, None, None, ONE_BEFORE)

    moved = world.run(ONE_BEFORE + dt.timedelta(minutes=5))
    assert (moved.cancelled, moved.recorded, moved.sent) == (1, 0, 0)
    world.run(at("2027-02-03 09:00"))

    with world.begin() as session:
        rows = session.execute(
            select(Reminder.kind, Reminder.deadline, Reminder.status).order_by(Reminder.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("before-7d", DEADLINE, "sent"),
        ("before-1d", DEADLINE, "cancelled"),
        ("before-7d", new_deadline, "sent"),
    ]
    assert len(world.channel.messages) == 2


def test_reassigning_cancels_the_old_reviewers_reminders_and_reminds_the_new_one(world: World) -> None:
    world.reviewer("ann")
    world.reviewer("bob")
    world.claim("rates-fall", "ann")
    world.channel.temporary()
    world.run(SEVEN_BEFORE)  # ann's digest waits for a retry
    with world.begin() as session:
        services.unassign(session, "rates-fall", "ann")
        services.assign(session, "rates-fall", "bob")

    result = world.run(SEVEN_BEFORE + dt.timedelta(minutes=5))

    assert (result.cancelled, result.recorded, result.sent) == (1, 1, 1)
    assert [m.to_address for m in world.channel.messages] == ["bob@example.org"]
    assert world.reminders() == [
        ("rates-fall", "ann", "before-7d", "cancelled"),
        ("rates-fall", "bob", "before-7d", "sent"),
    ]


def test_reassigning_back_revives_a_cancelled_reminder(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    world.channel.temporary()
    world.run(SEVEN_BEFORE)
    with world.begin() as session:
        services.unassign(session, "rates-fall", "ann")
    world.run(SEVEN_BEFORE + dt.timedelta(minutes=5))
    with world.begin() as session:
        services.assign(session, "rates-fall", "ann")

    result = world.run(SEVEN_BEFORE + dt.timedelta(minutes=10))

    assert (result.recorded, result.sent) == (1, 1)
    assert world.reminders() == [("rates-fall", "ann", "before-7d", "sent")]


def test_at_most_one_digest_a_day_except_for_a_first_reminder(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    assert world.run(ONE_BEFORE).sent == 1

    # A claim ann has never been told about goes out the same day.
    world.claim("oil-up", "ann")
    assert world.run(ONE_BEFORE + dt.timedelta(hours=1)).sent == 1

    # A moved deadline gives rates-fall a new due reminder: not a first one, so it waits.
    with world.begin() as session:
        claim = services.get_claim(session, "rates-fall")
        assert claim.criteria is not None
        services.revise_criteria(
            session, claim, claim.criteria, DEADLINE + dt.timedelta(days=5), None, None, ONE_BEFORE
        )
    held = world.run(ONE_BEFORE + dt.timedelta(hours=2))
    assert (held.recorded, held.sent, held.held) == (1, 0, 1)
    # Still the same digest day until 09:00 the next morning.
    assert world.run(at("2027-01-31 08:59")).held == 1
    released = world.run(at("2027-01-31 09:00"))
    assert released.sent == 1
    assert keys_in(world.channel.messages[-1]) == ["oil-up", "rates-fall"]
    assert len(world.channel.messages) == 3


def test_digest_days_are_the_reviewers_local_days(world: World) -> None:
    world.reviewer("kim", timezone="Asia/Seoul")
    world.claim("rates-fall", "kim", timezone="Asia/Seoul")
    assert world.run(at("2027-01-30 00:00")).sent == 1  # 09:00 in Seoul, the day before
    with world.begin() as session:
        claim = services.get_claim(session, "rates-fall")
        assert claim.criteria is not None
        services.revise_criteria(
            session,
            claim,
            claim.criteria,
            DEADLINE + dt.timedelta(days=5),
            None,
            None,
            at("2027-01-30 10:00"),
        )
    assert world.run(at("2027-01-30 10:00")).held == 1
    # 23:59 UTC is 08:59 the next morning in Seoul: still the same digest day.
    assert world.run(at("2027-01-30 23:59")).held == 1
    assert world.run(at("2027-01-31 00:00")).sent == 1


def test_escalation_reaches_admins_after_14_overdue_days(world: World) -> None:
    world.reviewer("ann")
    world.reviewer("boss", timezone="Europe/Berlin", role="admin")
    world.claim("rates-fall", "ann")
    world.claim("orphan")  # nobody assigned: only the admins can be told

    world.run(at("2027-02-13 12:00"))
    assert world.channel.to("boss@example.org") == []

    world.run(at("2027-02-14 08:00"))  # 09:00 in Berlin
    [escalated] = world.channel.to("boss@example.org")
    assert sorted(keys_in(escalated)) == ["orphan", "rates-fall"]
    assert "ESCALATED" in escalated.text and "assigned to ann" in escalated.text
    assert "nobody is assigned" in escalated.text
    assert "--by boss" in escalated.text

    world.run(at("2027-02-17 08:00"))
    assert len(world.channel.to("boss@example.org")) == 2
    kinds = {(handle, kind) for _, handle, kind, _ in world.reminders()}
    assert {("boss", "escalation-1"), ("boss", "escalation-2")} <= kinds


def test_facts_and_resolved_claims_get_nothing(world: World) -> None:
    world.reviewer("ann")
    world.claim("a-fact", "ann", kind="fact", criteria=None, deadline=None, probability=None, confidence=None)
    world.claim("done", "ann", status="resolved", verdict="true")
    result = world.run(at("2027-03-01 09:00"))
    assert (result.recorded, result.sent) == (0, 0)


def test_a_dry_run_writes_nothing_and_shows_what_would_be_sent(world: World) -> None:
    world.reviewer("ann")
    world.reviewer("bob")
    world.claim("rates-fall", "ann", "bob")
    world.run(at("2027-01-01 09:00"))  # a heartbeat row already there
    before = {model: world.count(model) for model in (Reminder, Delivery, JobRun)}

    result = world.run(SEVEN_BEFORE, dry_run=True)

    assert result.dry_run and (result.recorded, result.deliveries_created, result.sent) == (2, 2, 2)
    assert sorted(m.to_address for m in result.messages) == ["ann@example.org", "bob@example.org"]
    assert {model: world.count(model) for model in (Reminder, Delivery, JobRun)} == before
    assert world.channel.messages == [] and world.channel.opened == 0
    assert world.run(SEVEN_BEFORE).sent == 2  # the real pass still has everything to do


def test_every_pass_records_a_heartbeat(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    world.run(SEVEN_BEFORE)
    world.run(SEVEN_BEFORE + dt.timedelta(minutes=5))
    first, second = world.runs()
    assert (first.job, first.ok, first.error) == ("reminders", True, None)
    assert first.started_at == SEVEN_BEFORE and first.finished_at == SEVEN_BEFORE
    assert first.counts["sent"] == 1 and first.counts["recorded"] == 1
    assert second.counts["sent"] == 0
    assert first.worker == "worker-1" and first.pid > 0 and first.host


def test_a_failing_pass_records_its_error(world: World) -> None:
    world.reviewer("ann")
    claim_id = world.claim("rates-fall", "ann")
    with world.begin() as session:
        # A timezone no tracker command would accept, as a hand-edited database might hold.
        session.execute(update(Claim).where(Claim.id == claim_id).values(timezone="Mars/Olympus_Mons"))
    with pytest.raises(Exception, match="Mars/Olympus_Mons"):
        world.run(SEVEN_BEFORE)
    [run] = world.runs()
    assert run.ok is False and run.finished_at is not None
    assert run.error is not None and "Mars/Olympus_Mons" in run.error


def test_recording_is_idempotent_under_the_unique_key(world: World) -> None:
    reviewer_id = world.reviewer("ann")
    claim_id = world.claim("rates-fall", "ann")
    due = [Due(claim_id, reviewer_id, "before-7d", DEADLINE, SEVEN_BEFORE)]
    with world.begin() as session:
        assert store.record(session, due, world.settings.reminders, SEVEN_BEFORE) == 1
    with world.begin() as session:
        assert store.record(session, due + due, world.settings.reminders, SEVEN_BEFORE) == 0
    row = {
        "claim_id": claim_id,
        "reviewer_id": reviewer_id,
        "kind": "before-7d",
        "deadline": DEADLINE,
        "due_at": SEVEN_BEFORE,
        "status": "pending",
        "created_at": SEVEN_BEFORE,
    }
    with pytest.raises(IntegrityError), world.begin() as session:
        session.execute(insert(Reminder), [row])
    assert world.count(Reminder) == 1


def test_reviewers_are_not_subscribed_to_reports_by_default(world: World) -> None:
    world.reviewer("ann")
    with world.begin() as session:
        assert session.scalars(select(Reviewer.subscribed)).all() == [False]


def test_the_reminder_migration_steps_down_and_up_keeping_reviewers(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        assert {"reminders", "deliveries", "job_runs"} <= set(inspect(engine).get_table_names())
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO reviewers (handle, name, email, timezone, role, subscribed, created_at) "
                     "VALUES ('ann', 'Ann', 'ann@example.org', 'UTC', 'reviewer', :yes, :now)"),
                {"yes": True, "now": SEVEN_BEFORE.replace(tzinfo=None)},
            )  # fmt: skip
        downgrade(engine, "0002_scorecards")
        assert not {"reminders", "deliveries", "job_runs"} & set(inspect(engine).get_table_names())
        upgrade(engine)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT handle, subscribed FROM reviewers")).all()
        assert [(h, bool(s)) for h, s in rows] == [("ann", False)]  # the column came back with its default
    finally:
        engine.dispose()


def test_a_stop_request_ends_the_pass_between_deliveries(world: World) -> None:
    for handle in ("ann", "bob", "cem"):
        world.reviewer(handle)
        world.claim(f"claim-of-{handle}", handle)
    sent_before_stop = lambda: len(world.channel.messages) >= 1  # noqa: E731 - a SIGTERM flag

    stopped = world.run(SEVEN_BEFORE, stop=sent_before_stop)

    assert stopped.stopped and (stopped.deliveries_created, stopped.sent) == (3, 1)
    assert [run.ok for run in world.runs()] == [True]
    rest = world.run(SEVEN_BEFORE + dt.timedelta(minutes=5))
    assert not rest.stopped and rest.sent == 2
    assert len({m.message_id for m in world.channel.messages}) == 3
