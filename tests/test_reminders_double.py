"""Reminders for claims under double review: awaiting a second verdict, and disputed.

The emails go through the real SMTP channel to a real aiosmtpd server; time is injected.
"""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import SmtpTestServer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from support.reminders import World, at

from tracker import services
from tracker.channels import SmtpChannel
from tracker.config import ReviewSettings
from tracker.ical import open_deadlines
from tracker.models import Delivery
from tracker.reminders import outbox, store

TWO = ReviewSettings(verdicts_required=2)
BEFORE = at("2027-01-24 09:00")  # before-7d of the default deadline (2027-01-31)
DAY = dt.timedelta(days=1)
FIRST_NOTE = "Per the Bank's minutes of 12 January: cut by 25bp"
FIRST_EVIDENCE = "https://evidence.example.org/first-verdict-minutes"


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    w = World(engine, session_factory, db_url, tmp_path)
    w.reviewer("ann")
    w.reviewer("bob")
    w.reviewer("cyd")
    w.reviewer("boss", role="admin")
    w.claim("rates-fall", "ann", "bob", "cyd")
    return w


def verdict(
    world: World, who: str, value: str, now: dt.datetime, *, evidence: str = "https://e.example.org/x"
) -> None:
    with world.begin() as session:
        services.resolve(session, "rates-fall", value, [evidence], FIRST_NOTE, who, None, now, review=TWO)


def adjudicate(world: World, value: str, now: dt.datetime) -> None:
    with world.begin() as session:
        services.adjudicate(
            session,
            "rates-fall",
            value,
            ["https://e.example.org/a"],
            "the minutes settle it",
            "boss",
            None,
            now,
        )


def run_smtp(world: World, server: SmtpTestServer, now: dt.datetime) -> None:
    world.run(now, channel=SmtpChannel(server.settings(), clock=lambda: now))


def mail_to(server: SmtpTestServer, handle: str) -> list[EmailMessage]:
    return [m for m in server.messages if m["To"].endswith(f"<{handle}@example.org>")]


def parts(message: EmailMessage) -> str:
    return "\n".join(str(p.get_content()) for p in message.walk() if p.get_content_maintype() == "text")


def pending(world: World) -> set[tuple[str, str]]:
    return {(who, kind) for _, who, kind, status in world.reminders() if status in ("pending", "queued")}


def test_an_awaiting_claim_reminds_only_the_reviewers_who_owe_a_verdict(
    world: World, smtp_server: SmtpTestServer
) -> None:
    verdict(world, "ann", "true", BEFORE - DAY, evidence=FIRST_EVIDENCE)

    run_smtp(world, smtp_server, BEFORE)

    assert mail_to(smtp_server, "ann") == []  # the first reviewer is not nagged
    [bob] = mail_to(smtp_server, "bob")
    assert len(mail_to(smtp_server, "cyd")) == 1
    text = parts(bob)
    assert "rates-fall" in text and "needs a second verdict" in text.lower()
    # Blind: nothing of the first verdict reaches the second reviewer.
    for secret in (FIRST_NOTE, FIRST_EVIDENCE):
        assert secret not in text, secret
    assert re.search(r"\bann\b", text, re.IGNORECASE) is None  # not even who gave it
    assert "said true" not in text and "verdict: true" not in text.lower()


def test_a_first_verdict_cancels_its_authors_pending_reminder_only(world: World) -> None:
    world.channel.temporary(3)  # the digests wait for a retry: their reminders stay queued
    world.run(BEFORE)
    assert pending(world) == {("ann", "before-7d"), ("bob", "before-7d"), ("cyd", "before-7d")}

    verdict(world, "ann", "true", BEFORE + dt.timedelta(hours=1))
    with world.begin() as session:
        assert store.cancel_stale(session) == 1  # what a pass does first
    assert pending(world) == {("bob", "before-7d"), ("cyd", "before-7d")}
    world.run(BEFORE + dt.timedelta(hours=2))  # the retry

    assert sorted(world.reminders()) == [
        ("rates-fall", "ann", "before-7d", "cancelled"),
        ("rates-fall", "bob", "before-7d", "sent"),
        ("rates-fall", "cyd", "before-7d", "sent"),
    ]
    assert world.channel.to("ann@example.org") == []


def test_awaiting_keeps_the_cadence_and_escalates_to_admins(world: World) -> None:
    world.configure(overdue_every_days=7, escalate_after_days=3)
    verdict(world, "ann", "true", BEFORE)
    for day in range(0, 16):
        world.run(BEFORE + day * DAY)
    sent = {(who, kind) for _, who, kind, status in world.reminders() if status == "sent"}
    assert {kind for who, kind in sent if who == "bob"} == {
        "before-7d",
        "before-1d",
        "deadline",
        "overdue-1",
    }
    assert not any(who == "ann" for who, _ in sent)
    assert ("boss", "escalation-1") in sent  # escalate_after_days (3) after the deadline
    [escalation, *_] = [m for m in world.channel.to("boss@example.org")]
    assert "escalated, needs a second verdict" in escalation.text.lower()


def test_an_agreeing_second_verdict_cancels_and_stops_the_reminders(world: World) -> None:
    verdict(world, "ann", "true", BEFORE - DAY)
    world.channel.temporary(2)
    world.run(BEFORE)
    assert pending(world) == {("bob", "before-7d"), ("cyd", "before-7d")}

    verdict(world, "bob", "true", BEFORE + DAY)
    with world.begin() as session:
        assert store.cancel_stale(session) == 2  # bob's and cyd's: the claim is resolved
    world.run(BEFORE + 2 * DAY)

    assert pending(world) == set()
    for day in range(2, 20):
        world.run(BEFORE + day * DAY)
    assert world.channel.messages == []


def test_a_dispute_reminds_the_admins_until_adjudicated(world: World, smtp_server: SmtpTestServer) -> None:
    world.configure(overdue_every_days=7)
    verdict(world, "ann", "true", BEFORE)
    verdict(world, "bob", "false", BEFORE + DAY)

    deadline_day = at("2027-01-31 09:00")
    run_smtp(world, smtp_server, deadline_day - dt.timedelta(hours=1))
    assert (
        smtp_server.messages == []
    )  # the reviewers have given theirs; the admins' start on the deadline day
    run_smtp(world, smtp_server, deadline_day)
    assert [m["To"] for m in smtp_server.messages] == ["Boss <boss@example.org>"]
    text = parts(smtp_server.messages[0])
    assert "disputed" in text.lower() and "tracker adjudicate rates-fall VERDICT" in text
    assert pending(world) == set() and ("rates-fall", "boss", "disputed-1", "sent") in world.reminders()

    world.channel.temporary(1)
    world.run(deadline_day + 7 * DAY)  # the overdue cadence (every 7 days): disputed-2, held by a failure
    assert pending(world) == {("boss", "disputed-2")}

    adjudicate(world, "true", deadline_day + 7 * DAY + dt.timedelta(hours=1))
    with world.begin() as session:
        assert store.cancel_stale(session) == 1
    world.run(deadline_day + 8 * DAY)
    assert pending(world) == set()
    assert ("rates-fall", "boss", "disputed-2", "cancelled") in world.reminders()
    for day in range(8, 40):
        world.run(deadline_day + day * DAY)
    assert len(world.channel.messages) == 0


def test_an_assigned_admin_is_reminded_of_a_dispute_too(world: World) -> None:
    world.claim("oil-up", "boss", "ann")
    with world.begin() as session:
        services.resolve(
            session, "oil-up", "true", ["https://e.example.org/1"], None, "ann", None, BEFORE, review=TWO
        )
        services.resolve(
            session, "oil-up", "false", ["https://e.example.org/2"], None, "boss", None, BEFORE, review=TWO
        )
    world.run(at("2027-01-31 09:00"))
    assert ("oil-up", "boss", "disputed-1", "sent") in world.reminders()
    assert not any(who == "ann" for key, who, _, _ in world.reminders() if key == "oil-up")


def test_the_calendar_keeps_an_awaiting_claim_for_those_who_owe_a_verdict(world: World) -> None:
    verdict(world, "ann", "true", BEFORE)
    with world.begin() as session:
        assert [d.key for d in open_deadlines(session, reviewer="bob")] == ["rates-fall"]
        assert [d.key for d in open_deadlines(session, reviewer="ann")] == []
        assert [d.key for d in open_deadlines(session)] == ["rates-fall"]
    verdict(world, "bob", "false", BEFORE)  # disputed: the admins' now, off the reviewers' calendars
    with world.begin() as session:
        assert [d.key for d in open_deadlines(session, reviewer="cyd")] == []


def test_a_digest_waiting_to_be_sent_drops_a_claim_its_reviewer_has_since_given_the_first_verdict_on(
    world: World,
) -> None:
    world.channel.temporary(3)
    world.run(BEFORE)  # three digests, queued for a retry
    verdict(world, "ann", "true", BEFORE + dt.timedelta(minutes=30))
    with world.begin() as session:
        # What the sender loads, before any pass has cancelled ann's reminder.
        ids = sorted(d.id for d in session.scalars(select(Delivery)))
        found = outbox.load_outgoing_many(session, ids, world.settings, BEFORE + dt.timedelta(minutes=31))
    kept = {
        o.digest.handle: o.digest.claims[0].awaiting for o in found.values() if isinstance(o, outbox.Outgoing)
    }
    assert kept == {"bob": True, "cyd": True}
    assert sum(1 for o in found.values() if o is None) == 1
