"""The scheduler's report job mails the digest to subscribed reviewers; `tracker reviewers subscribe`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from test_reminders_support import World
from test_scheduler_support import Clock, Events, at, scheduler_settings

from tracker.channels import SmtpChannel
from tracker.cli import cli
from tracker.health import assess, gather
from tracker.models import JobRun
from tracker.scheduler import REPORT_JOB, Jobs, ReportOutcome, Runner, report_message_id
from tracker.services import set_subscribed

if TYPE_CHECKING:
    from conftest import SmtpTestServer

FIRST_START = at("2027-01-17 10:00")  # a Sunday
SLOT = at("2027-01-18 08:00")  # the Monday report slot that follows


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


def report_at_slot(world: World, channel: SmtpChannel) -> ReportOutcome:
    """A first start on Sunday, then the report job as APScheduler fires it on Monday."""
    clock = Clock(FIRST_START)
    Runner(Jobs(world.factory, world.settings, channel, clock, "w1"), Events()).once()
    clock.now = SLOT
    outcome = Jobs(world.factory, world.settings, channel, clock, "w1").report()
    assert outcome is not None
    return outcome


def report_run(world: World) -> JobRun:
    [run] = [r for r in world.runs() if r.job == REPORT_JOB]
    return run


def test_subscribed_reviewers_get_the_report_by_email(world: World, smtp_server: SmtpTestServer) -> None:
    outcome = report_at_slot(world, SmtpChannel(smtp_server.settings()))

    assert outcome.report is not None and outcome.emailed == ["ann", "cy"] and outcome.failures == []
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
    assert text is not None and "rates-fall" in text.get_content()
    assert html is not None and "<html" in html.get_content().lower()
    run = report_run(world)
    assert run.ok is True
    assert run.counts["emailed"] == 2 and run.counts["report_id"] == report_id


def test_a_refused_recipient_is_recorded_and_shown_by_status(
    world: World, smtp_server: SmtpTestServer
) -> None:
    smtp_server.handler.refuse["cy@example.org"] = "550 5.1.1 No such user"
    outcome = report_at_slot(world, SmtpChannel(smtp_server.settings()))

    assert outcome.emailed == ["ann"]
    [(handle, error)] = outcome.failures
    assert handle == "cy" and "550 5.1.1 No such user" in error
    run = report_run(world)
    assert run.ok is True  # the report was made; the email's failure is its own warning
    assert run.counts["email_failed"] == 1
    with world.begin() as session:
        health = assess(gather(session, world.settings, SLOT), world.settings)
    assert any(w.startswith("the last report could not be emailed to cy (") for w in health.warnings)


def test_no_email_when_the_report_email_is_off(
    world: World, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    world.settings = scheduler_settings(world.db_url, tmp_path, report={"email": False})
    outcome = report_at_slot(world, SmtpChannel(smtp_server.settings()))
    assert outcome.report is not None and outcome.emailed == []
    assert smtp_server.received == []


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
