"""The report job queues the digest's emails in the outbox with the report, then sends them.

Report emails are deliveries like the reminder digests: queued in the transaction that
records the report, sent with leases, retried with backoff, listed when they fail for
good and re-sent on request; a crash or a second scheduler neither loses nor doubles one.
Also `tracker reviewers subscribe`.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from support.cli import Tracker
from support.reminders import World
from support.scheduler import Clock, Events, at, race_reports, scheduler_settings

from tracker.channels import SmtpChannel
from tracker.cli import cli
from tracker.health import assess, gather
from tracker.models import Delivery, JobRun, ReportRun
from tracker.reminders import LEASE
from tracker.scheduler import REPORT_JOB, Jobs, ReportOutcome, Runner, report_message_id
from tracker.services import resolve, set_subscribed

if TYPE_CHECKING:
    from conftest import SmtpTestServer

FIRST_START = at("2027-01-17 10:00")  # a Sunday
SLOT = at("2027-01-18 08:00")  # the Monday report slot that follows
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    w = World(engine, session_factory, db_url, tmp_path)
    w.settings = scheduler_settings(db_url, tmp_path)
    for handle in ("ann", "bob", "cy"):
        w.reviewer(handle)
    w.claim("rates-fall", "ann")
    with w.begin() as session:
        set_subscribed(session, ["ann", "cy"], True)
    return w


def first_start(world: World) -> None:
    """The scheduler's first start on Sunday: the reference the Monday slot is owed against."""
    Runner(Jobs(world.factory, world.settings, world.channel, Clock(FIRST_START), "w0"), Events()).once()


def report_at_slot(world: World, channel: SmtpChannel) -> ReportOutcome:
    """A first start on Sunday, then the report job as APScheduler fires it on Monday."""
    first_start(world)
    outcome = Jobs(world.factory, world.settings, channel, Clock(SLOT), "w1").report()
    assert outcome is not None
    return outcome


def report_run(world: World) -> JobRun:
    [run] = [r for r in world.runs() if r.job == REPORT_JOB]
    return run


def by_reviewer(world: World) -> dict[str, Delivery]:
    """The report emails in the outbox, by recipient handle."""
    with world.factory() as session:
        rows = session.execute(select(Delivery).where(Delivery.report_run_id.is_not(None))).scalars()
        return {d.message_id.split(".")[1].split("@")[0]: d for d in rows}


def received_ids(server: SmtpTestServer) -> list[str]:
    return sorted(str(m["Message-ID"]) for m in server.messages)


def test_subscribed_reviewers_get_the_report_by_email(world: World, smtp_server: SmtpTestServer) -> None:
    outcome = report_at_slot(world, SmtpChannel(smtp_server.settings()))

    assert outcome.report is not None and outcome.queued == ["ann", "cy"] and outcome.emailed == 2
    report_id = outcome.report.run_id
    received = {r.rcpt_tos[0]: r.message for r in smtp_server.received}
    assert sorted(received) == ["ann@example.org", "cy@example.org"]
    ann = received["ann@example.org"]
    assert ann["Message-ID"] == report_message_id(report_id, "ann") == f"<report-{report_id}.ann@tracker>"
    assert ann["Subject"] == outcome.report.rendered.subject
    assert ann["X-Tracker-Report"] == str(report_id)
    assert ann.get_content_type() == "multipart/alternative"
    text = ann.get_body(("plain",))
    html = ann.get_body(("html",))
    assert text is not None and text.get_content() == outcome.report.rendered.text
    assert html is not None and html.get_content() == outcome.report.rendered.html
    # Sent from the outbox: each a delivery of this report, marked sent.
    emails = by_reviewer(world)
    assert {h: (d.status, d.attempts, d.report_run_id) for h, d in emails.items()} == {
        "ann": ("sent", 1, report_id),
        "cy": ("sent", 1, report_id),
    }
    run = report_run(world)
    assert run.ok is True
    assert run.counts == {
        "made": 1,
        "report_id": report_id,
        "queued": 2,
        "emailed": 2,
        "email_retry": 0,
        "email_failed": 0,
        "email_failures": [],
    }
    with world.begin() as session:
        health = assess(gather(session, world.settings, SLOT + MINUTE), world.settings)
    assert health.facts.report_emails == {"sent": 2}


def test_the_emails_are_queued_in_the_transaction_that_records_the_report(
    world: World, smtp_server: SmtpTestServer
) -> None:
    first_start(world)
    jobs = Jobs(world.factory, world.settings, SmtpChannel(smtp_server.settings()), Clock(SLOT), "w1")

    class Abandoned(Exception):
        """The unit of work fails after the report was made: nothing of it may stay."""

    with pytest.raises(Abandoned), world.begin() as session:
        assert jobs.make(session, SLOT).queued == ["ann", "cy"]
        raise Abandoned
    assert world.count(ReportRun) == 0 and world.count(Delivery) == 0

    # Killed right after the commit, before anything was sent: the emails wait in the outbox.
    with world.begin() as session:
        made = jobs.make(session, SLOT)
    assert made.report is not None
    assert {h: d.status for h, d in by_reviewer(world).items()} == {"ann": "pending", "cy": "pending"}
    assert smtp_server.received == []
    with world.begin() as session:
        stored = session.get(ReportRun, made.report.run_id)
        assert stored is not None and stored.digest_text == made.report.rendered.text

    # The next reminder pass delivers them, once; the one after sends nothing.
    channel = SmtpChannel(smtp_server.settings())
    assert world.run(SLOT + 5 * MINUTE, channel=channel).sent == 2
    assert world.run(SLOT + 10 * MINUTE, channel=channel).sent == 0
    rid = made.report.run_id
    assert received_ids(smtp_server) == [report_message_id(rid, "ann"), report_message_id(rid, "cy")]
    assert {d.status for d in by_reviewer(world).values()} == {"sent"}


KILLED_ON_SEND = """
import datetime as dt, os, signal, sys
from contextlib import contextmanager
from tracker.config import load_settings
from tracker.db import make_engine, make_session_factory
from tracker.scheduler import Jobs

class KilledOnSend:
    name = "smtp"

    @contextmanager
    def open(self):
        yield self

    def send(self, message):
        os.kill(os.getpid(), signal.SIGKILL)  # the report and its emails are committed by now

url, config, out_dir, now = sys.argv[1:]
settings = load_settings(config_file=config, env={}, database_url=url, report={"out_dir": out_dir})
slot = dt.datetime.fromisoformat(now)
Jobs(make_session_factory(make_engine(url)), settings, KilledOnSend(), lambda: slot, "doomed").report()
"""


def test_a_scheduler_killed_while_mailing_the_report_loses_and_doubles_nothing(
    world: World, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    first_start(world)
    config = tmp_path / "tracker-test.toml"
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_ON_SEND,
            world.db_url,
            str(config),
            str(tmp_path / "site"),
            SLOT.isoformat(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -9, child.stderr
    [report] = [r for r in world.runs() if r.job == REPORT_JOB]
    assert report.finished_at is None  # the job never finished
    emails = by_reviewer(world)
    # The killed process held both emails (one batch) when it died.
    assert {(d.status, d.lease_owner) for d in emails.values()} == {("sending", "doomed")}

    channel = SmtpChannel(smtp_server.settings())
    assert world.run(SLOT + LEASE - MINUTE, channel=channel).sent == 0  # its lease still holds
    assert world.run(SLOT + LEASE + MINUTE, channel=channel).sent == 2
    assert world.run(SLOT + LEASE + 2 * MINUTE, channel=channel).sent == 0
    with world.begin() as session:
        [run_id] = session.scalars(select(ReportRun.id)).all()
    assert received_ids(smtp_server) == [report_message_id(run_id, "ann"), report_message_id(run_id, "cy")]
    with world.begin() as session:
        health = assess(gather(session, world.settings, SLOT + LEASE + 2 * MINUTE), world.settings)
    assert health.facts.report_emails == {"sent": 2}


def test_a_temporary_failure_is_retried_with_backoff_then_delivered(
    world: World, smtp_server: SmtpTestServer
) -> None:
    smtp_server.handler.refuse["cy@example.org"] = "451 4.3.0 mailbox busy, try again later"
    outcome = report_at_slot(world, SmtpChannel(smtp_server.settings()))

    assert (outcome.emailed, outcome.waiting) == (1, 1)
    cy = by_reviewer(world)["cy"]
    assert (cy.status, cy.attempts, cy.next_attempt_at) == ("retry", 1, SLOT + 60 * dt.timedelta(seconds=1))
    assert cy.last_error is not None and "451 4.3.0 mailbox busy" in cy.last_error
    run = report_run(world)
    assert run.ok is True and (run.counts["emailed"], run.counts["email_retry"]) == (1, 1)
    with world.begin() as session:
        health = assess(gather(session, world.settings, SLOT + MINUTE), world.settings)
    assert health.facts.report_emails == {"sent": 1, "retry": 1}
    assert not any("delivery failed" in w or "deliveries failed" in w for w in health.warnings)

    channel = SmtpChannel(smtp_server.settings())
    assert world.run(SLOT + dt.timedelta(seconds=30), channel=channel).sent == 0  # not before its backoff
    smtp_server.handler.refuse.clear()
    assert world.run(SLOT + dt.timedelta(seconds=60), channel=channel).sent == 1
    cy = by_reviewer(world)["cy"]
    assert (cy.status, cy.attempts) == ("sent", 2)
    assert [r.rcpt_tos[0] for r in smtp_server.received] == ["ann@example.org", "cy@example.org"]


def test_a_permanent_failure_is_listed_and_can_be_resent(
    world: World, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    smtp_server.handler.refuse["cy@example.org"] = "550 5.1.1 No such user"
    outcome = report_at_slot(world, SmtpChannel(smtp_server.settings()))
    assert outcome.report is not None and outcome.emailed == 1
    [failure] = outcome.delivery.failures if outcome.delivery else []
    assert (failure.reviewer, failure.status) == ("cy", "failed")
    assert "550 5.1.1 No such user" in failure.error
    assert report_run(world).ok is True  # the report was made; the email is a failed delivery

    tracker = Tracker(world.db_url, tmp_path / "tracker-test.toml")
    [listed] = tracker.json("reminders", "list", "--failed")
    cy = by_reviewer(world)["cy"]
    assert (listed["id"], listed["reviewer"], listed["report"], listed["claims"]) == (
        cy.id,
        "cy",
        outcome.report.run_id,
        [],
    )
    assert listed["message_id"] == report_message_id(outcome.report.run_id, "cy")
    table = tracker.run("reminders", "list", "--failed").stdout
    assert f" failed  cy            1  (report {outcome.report.run_id})  SMTP server" in table
    status = json.loads(tracker.run("status", "--now", (SLOT + MINUTE).isoformat(), "--json", code=3).stdout)
    assert status["report"]["emails"] == {"sent": 1, "failed": 1}
    text = tracker.run("status", "--now", (SLOT + MINUTE).isoformat(), code=3).stdout
    assert "last made 2027-01-18 08:00 UTC (emailed 1 of 2, 1 failed)" in " ".join(text.split())
    assert any("1 delivery failed for good" in w for w in status["warnings"])

    resent = tracker.run("reminders", "resend", str(cy.id), "--now", (SLOT + MINUTE).isoformat())
    assert resent.stdout == f"queued 1 delivery again: {cy.id}\n"
    smtp_server.handler.refuse.clear()
    assert world.run(SLOT + 2 * MINUTE, channel=SmtpChannel(smtp_server.settings())).sent == 1
    rid = outcome.report.run_id
    assert received_ids(smtp_server) == [report_message_id(rid, "ann"), report_message_id(rid, "cy")]
    assert tracker.json("reminders", "list", "--failed") == []


def test_no_email_when_the_report_email_is_off(
    world: World, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    world.settings = scheduler_settings(world.db_url, tmp_path, report={"email": False})
    outcome = report_at_slot(world, SmtpChannel(smtp_server.settings()))
    assert outcome.report is not None and outcome.queued == [] and outcome.delivery is None
    assert smtp_server.received == [] and world.count(Delivery) == 0


def test_a_stop_leaves_the_unsent_emails_to_the_next_pass(world: World, smtp_server: SmtpTestServer) -> None:
    first_start(world)
    channel = SmtpChannel(smtp_server.settings())

    def sigterm_after_the_first_email() -> bool:
        return len(smtp_server.received) >= 1

    jobs = Jobs(world.factory, world.settings, channel, Clock(SLOT), "w1", stop=sigterm_after_the_first_email)
    outcome = jobs.report()
    assert outcome is not None and outcome.delivery is not None and outcome.delivery.stopped
    assert (outcome.emailed, outcome.waiting) == (1, 1)
    # Given back, not spent: no attempt counted, due again at once.
    assert {h: (d.status, d.attempts) for h, d in by_reviewer(world).items()} == {
        "ann": ("sent", 1),
        "cy": ("pending", 0),
    }
    assert world.run(SLOT + MINUTE, channel=channel).sent == 1
    assert [r.rcpt_tos[0] for r in smtp_server.received] == ["ann@example.org", "cy@example.org"]


def test_report_emails_are_not_digests(world: World, tmp_path: Path) -> None:
    """A report email neither counts against the daily digest limit nor is cancelled with reminders."""
    world.settings = scheduler_settings(world.db_url, tmp_path, report={"cron": "0 9 * * *"})
    first_start(world)
    assert world.run(at("2027-01-24 09:00")).sent == 1  # ann hears of rates-fall: the 7-day reminder
    day_before = at("2027-01-30 09:00")
    jobs = Jobs(world.factory, world.settings, world.channel, Clock(day_before), "w1")
    with world.begin() as session:  # the daily report, queued for ann and cy at 09:00
        assert jobs.make(session, day_before).queued == ["ann", "cy"]
    # Same digest day: the 1-day reminder about a claim ann already knows still goes out.
    reminded = world.run(day_before)
    assert (reminded.deliveries_created, reminded.held, reminded.sent) == (1, 0, 3)

    # The deadline digest fails for now and waits; then the next report is queued.
    deadline = at("2027-01-31 09:00")
    world.channel.temporary(1)
    assert world.run(deadline).retried == 1
    with world.begin() as session:
        assert jobs.make(session, deadline).queued == ["ann", "cy"]
    # The claim is resolved: its digest is cancelled, and the report emails go out all the same.
    with world.begin() as session:
        resolve(session, "rates-fall", "false", ["https://example.org/e"], None, "ann", None, deadline)
    later = world.run(deadline + 30 * MINUTE)
    assert (later.cancelled, later.sent) == (1, 2)
    kinds = sorted((d.report_run_id is not None, d.status) for d in world.deliveries())
    assert kinds == [(False, "cancelled"), (False, "sent"), (False, "sent")] + [(True, "sent")] * 4


def test_concurrent_schedulers_queue_and_send_one_report_per_slot(
    world: World, smtp_server: SmtpTestServer
) -> None:
    first_start(world)
    outcomes = race_reports(
        world.db_url,
        lambda sessions, worker: Jobs(
            sessions, world.settings, SmtpChannel(smtp_server.settings()), Clock(SLOT), worker
        ),
    )
    made = [o for o in outcomes if o is not None and o.report is not None]
    assert len(made) == 1 and made[0].report is not None
    rid = made[0].report.run_id
    assert world.count(ReportRun) == 1 and world.count(Delivery) == 2
    # A later pass finds nothing left: each email went out exactly once.
    assert world.run(SLOT + MINUTE, channel=SmtpChannel(smtp_server.settings())).sent == 0
    assert received_ids(smtp_server) == [report_message_id(rid, "ann"), report_message_id(rid, "cy")]
    with world.begin() as session:
        assert session.scalar(select(func.count()).where(JobRun.job == REPORT_JOB)) == 2


def test_reviewers_subscribe_and_unsubscribe(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), "--database-url", db_url, *args])
        assert result.exit_code == code, result.output
        return result.output

    added = json.loads(
        run("reviewers", "add", "ann", "--name", "Ann", "--email", "ann@example.org", "--subscribe", "--json")
    )
    assert added["subscribed"] is True
    run("reviewers", "add", "bob", "--name", "Bob", "--email", "bob@example.org")
    assert run("reviewers", "subscribe", "bob") == "subscribed bob to the periodic report's email\n"
    assert "unsubscribed ann from" in run("reviewers", "unsubscribe", "ann")
    listed = json.loads(run("reviewers", "list", "--json"))
    assert {r["handle"]: r["subscribed"] for r in listed} == {"ann": False, "bob": True}
    assert "no reviewer 'bobb' (did you mean 'bob'?)" in run("reviewers", "subscribe", "bobb", code=1)
