"""Delivering digests: retries with backoff, permanent failures, re-sending, crashes, Message-IDs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from support.reminders import World, at

from tracker.channels import TemporaryFailure
from tracker.errors import NotFound, TrackerError
from tracker.models import Delivery
from tracker.reminders import deliveries, outbox, sending
from tracker.reminders.digest import message_id

T0 = at("2027-01-24 09:00")  # the default claim's before-7d reminder falls due
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    w = World(engine, session_factory, db_url, tmp_path)
    w.reviewer("ann")
    w.claim("rates-fall", "ann")
    return w


def delivery(world: World) -> Delivery:
    [only] = world.deliveries()
    return only


def test_temporary_failures_are_retried_with_backoff_then_fail(world: World) -> None:
    world.configure(max_attempts=3, retry_seconds=60)
    world.channel.temporary(3, "421 4.3.2 try again later")

    first = world.run(T0)
    assert (first.retried, first.failed, first.sent) == (1, 0, 0)
    d = delivery(world)
    assert (d.status, d.attempts, d.next_attempt_at) == ("retry", 1, T0 + 60 * SECOND)
    assert d.last_error == "421 4.3.2 try again later"
    assert [(f.reviewer, f.status) for f in first.failures] == [("ann", "retry")]

    assert world.run(T0 + 59 * SECOND).retried == 0  # not yet
    assert world.run(T0 + 60 * SECOND).retried == 1
    d = delivery(world)
    assert (d.attempts, d.next_attempt_at) == (2, T0 + 180 * SECOND)  # 60 s later, then 120 s

    last = world.run(T0 + 180 * SECOND)
    assert (last.retried, last.failed) == (0, 1)
    d = delivery(world)
    assert (d.status, d.attempts) == ("failed", 3)
    assert world.reminders() == [("rates-fall", "ann", "before-7d", "failed")]
    assert world.run(T0 + dt.timedelta(days=1)).sent == 0  # failed stays failed until re-sent


def test_backoff_doubles_and_is_capped() -> None:
    assert [outbox.backoff(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert outbox.backoff(30, 60) == dt.timedelta(hours=6)
    assert outbox.backoff(1, 60, retry_after=900) == dt.timedelta(seconds=900)
    assert outbox.backoff(3, 60, retry_after=5) == dt.timedelta(seconds=240)


def test_a_retry_after_from_the_far_end_is_respected(world: World) -> None:
    world.channel.fail_next(TemporaryFailure("HTTP 429", retry_after=3600))
    world.run(T0)
    assert delivery(world).next_attempt_at == T0 + dt.timedelta(hours=1)


def test_a_permanent_failure_fails_at_once(world: World) -> None:
    world.channel.permanent("550 5.1.1 no such user")
    result = world.run(T0)
    assert (result.failed, result.retried) == (1, 0)
    d = delivery(world)
    assert (d.status, d.attempts, d.last_error) == ("failed", 1, "550 5.1.1 no such user")


def test_resend_puts_a_failed_delivery_back_with_the_same_message_id(world: World) -> None:
    world.channel.permanent()
    world.run(T0)
    failed_id = delivery(world).message_id
    with world.begin() as session:
        assert deliveries.resend(session, [delivery(world).id], T0 + 60 * SECOND) == [delivery(world).id]
    d = delivery(world)
    assert (d.status, d.attempts) == ("retry", 0)
    assert world.reminders() == [("rates-fall", "ann", "before-7d", "queued")]

    assert world.run(T0 + 60 * SECOND).sent == 1
    [sent] = world.channel.messages
    assert sent.message_id == failed_id
    assert world.reminders() == [("rates-fall", "ann", "before-7d", "sent")]


def test_resend_refuses_what_is_not_failed(world: World) -> None:
    world.run(T0)
    with world.begin() as session:
        with pytest.raises(TrackerError, match=r"only failed deliveries can be re-sent: \d+ is sent"):
            deliveries.resend(session, [delivery(world).id], T0)
        with pytest.raises(NotFound, match="no delivery 999"):
            deliveries.resend(session, [999], T0)
        assert deliveries.resend(session, None, T0) == []


def test_an_unexpected_channel_error_is_retried_not_fatal(world: World) -> None:
    world.channel.fail_next(RuntimeError("bug in a channel"))
    result = world.run(T0)
    assert result.retried == 1
    assert delivery(world).last_error == "RuntimeError: bug in a channel"


def test_one_temporary_failure_does_not_hold_up_the_others(world: World) -> None:
    world.reviewer("bob")
    world.claim("oil-up", "bob")
    world.channel.temporary()
    result = world.run(T0)
    assert (result.retried, result.sent, result.channel_down) == (1, 1, False)
    assert world.channel.opened == 1  # one connection for the batch


def test_a_pass_stops_sending_when_the_channel_looks_down(world: World) -> None:
    for handle in ("bob", "cem", "dee", "eve"):
        world.reviewer(handle)
        world.claim(f"claim-of-{handle}", handle)
    world.channel.temporary(10, "421 4.3.0 mail system down")

    down = world.run(T0)

    assert (down.deliveries_created, down.retried, down.sent, down.channel_down) == (5, 3, 0, True)
    # The two not tried keep their attempts for when the server is back.
    assert sorted((d.status, d.attempts) for d in world.deliveries()) == [
        ("pending", 0),
        ("pending", 0),
        ("retry", 1),
        ("retry", 1),
        ("retry", 1),
    ]


# --- crashes ---------------------------------------------------------------------------------------


class Killed(BaseException):
    """What kill -9 looks like from inside: nothing after it runs (no except Exception catches it)."""


def test_a_crash_mid_send_is_retried_with_the_same_message_id_after_the_lease(world: World) -> None:
    world.channel.fail_next(Killed())
    with pytest.raises(Killed):
        world.run(T0, worker_id="dead")
    d = delivery(world)
    assert (d.status, d.lease_owner, d.lease_until) == ("sending", "dead", T0 + dt.timedelta(minutes=5))

    # While the lease lives, another worker leaves it alone.
    assert world.run(T0 + dt.timedelta(minutes=4), worker_id="alive").sent == 0
    assert delivery(world).lease_owner == "dead"

    # Once it has run out, the delivery is sent again, with the same Message-ID.
    assert world.run(T0 + dt.timedelta(minutes=6), worker_id="alive").sent == 1
    d = delivery(world)
    assert (d.status, d.attempts, d.lease_owner) == ("sent", 2, None)
    [sent] = world.channel.messages
    assert sent.message_id == d.message_id


def test_a_crash_after_the_server_accepted_leaves_a_detectable_duplicate(world: World) -> None:
    # The server takes the message, then the process dies before marking it sent.
    original = world.channel.deliver

    def deliver_then_die(message):  # type: ignore[no-untyped-def]
        original(message)
        raise Killed()

    world.channel.deliver = deliver_then_die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        world.run(T0, worker_id="dead")
    world.channel.deliver = original  # type: ignore[method-assign]
    world.run(T0 + dt.timedelta(minutes=6), worker_id="alive")

    first, second = world.channel.messages
    assert first.message_id == second.message_id  # the one possible double, detectable downstream
    assert delivery(world).status == "sent"


def test_claiming_is_compare_and_set(world: World) -> None:
    world.channel.temporary()
    world.run(T0)  # leaves one delivery to retry at T0 + 60 s
    due = T0 + 60 * SECOND
    lease = due + dt.timedelta(minutes=5)

    def claim(worker: str, now: dt.datetime, lease_until: dt.datetime) -> list[int]:
        with world.begin() as session:
            rows = outbox.claim_rows(session, worker=worker, now=now, lease_until=lease_until, limit=5)
        return [delivery_id for delivery_id, _ in rows]

    first = delivery(world).id
    assert claim("a", due - SECOND, lease) == []  # not due yet
    assert claim("a", due, lease) == [first]
    assert claim("b", due, lease) == []  # held by "a" until its lease runs out
    assert claim("b", lease - SECOND, lease) == []
    assert claim("b", lease + SECOND, lease + dt.timedelta(minutes=5)) == [first]
    # The worker that lost its lease cannot record a failure over the new holder's claim.
    with world.begin() as session:
        assert (
            outbox.mark_failed(
                session, first, worker="a", at=due, error="late", permanent=True, settings=world.settings
            )
            is None
        )
    assert delivery(world).lease_owner == "b"


# --- Message-IDs -----------------------------------------------------------------------------------


def test_message_ids_are_deterministic_and_distinct() -> None:
    assert message_id("ann", [3, 1, 2]) == message_id("ann", [1, 2, 3])
    assert re.fullmatch(r"<digest-[0-9a-f]{16}\.ann@tracker>", message_id("ann", [1, 2, 3]))
    ids = {message_id(h, s) for h in ("ann", "bob") for s in ([1], [2], [1, 2], [12], [1, 2, 3])}
    assert len(ids) == 10


def test_every_delivery_has_its_own_message_id(world: World) -> None:
    world.reviewer("bob")
    world.claim("oil-up", "ann", "bob")
    for day in range(0, 20):
        world.run(T0 + dt.timedelta(days=day))
    with world.begin() as session:
        ids = session.scalars(select(Delivery.message_id).order_by(Delivery.id)).all()
    assert len(ids) == len(set(ids)) > 5
    assert [m.message_id for m in world.channel.messages] == list(ids)


def test_a_message_that_cannot_be_built_fails_alone(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.reviewer("bob")
    world.claim("oil-up", "bob")
    real_render = sending.render

    def broken_for_ann(env: Any, digest: Any, mid: str, headers: Any = ()) -> Any:
        if digest.handle == "ann":
            raise ValueError("template bug")
        return real_render(env, digest, mid, headers)

    monkeypatch.setattr(sending, "render", broken_for_ann)
    result = world.run(T0)

    assert (result.sent, result.failed) == (1, 1)
    assert [m.to_address for m in world.channel.messages] == ["bob@example.org"]
    [failure] = result.failures
    assert failure.error == "cannot build the message: ValueError: template bug"
    assert {d.status for d in world.deliveries()} == {"sent", "failed"}
