"""`tracker status`: the heartbeat, the next due times, the queue, and the warnings that catch a silent stop."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from support.reminders import World
from support.scheduler import at

from tracker.cli import cli
from tracker.config import load_settings
from tracker.health import Facts, RunInfo, assess
from tracker.models import JobRun

T = at("2027-01-24 09:30")  # the 7-day reminders of the factories' claims are due


class Status:
    """Runs `tracker status` in-process against the test database."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.config = tmp_path / "empty.toml"
        self.config.write_text("")
        self.db_url = db_url
        self.env: dict[str, str] = {}

    def run(self, *args: str, code: int | None = None) -> Result:
        argv = ["--config", str(self.config), "--database-url", self.db_url, *args]
        result = CliRunner().invoke(cli, argv, env=self.env, catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, result.output
        return result

    def text(self, now: dt.datetime, code: int) -> str:
        return self.run("status", "--now", now.isoformat(), code=code).stdout

    def json(self, now: dt.datetime, code: int) -> Any:
        return json.loads(self.run("status", "--now", now.isoformat(), "--json", code=code).stdout)


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    return World(engine, session_factory, db_url, tmp_path)


@pytest.fixture
def status(db_url: str, tmp_path: Path) -> Status:
    return Status(db_url, tmp_path)


def add_run(
    world: World, started: dt.datetime, *, job: str = "reminders", ok: bool | None = True, **fields: Any
) -> None:
    finished = fields.pop("finished_at", started + dt.timedelta(seconds=2) if ok is not None else None)
    with world.begin() as session:
        session.add(
            JobRun(
                job=job,
                started_at=started,
                finished_at=finished,
                ok=ok,
                host="box",
                pid=42,
                worker="box:42",
                counts=fields.pop("counts", {}),
                **fields,
            )
        )


def test_an_empty_database_is_fine(status: Status) -> None:
    data = status.json(T, code=0)
    assert (data["ok"], data["stale"], data["warnings"]) == (True, False, [])
    assert data["reminders"]["last_success"] is None
    assert data["reminders"]["next_due"] == T.isoformat()
    assert data["report"] == {
        "cron": "0 8 * * mon",
        "last_made_at": None,
        "last_run": None,
        "owed_since": None,
        "next_due": "2027-01-25T08:00:00+00:00",
        "emails": {},
    }
    assert data["deliveries"] == {"pending": 0, "sending": 0, "retry": 0, "failed": 0}
    assert status.text(T, code=0).rstrip().endswith("\nok")


def test_never_running_while_reminders_are_due_is_a_silent_stop(world: World, status: Status) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    data = status.json(T, code=3)
    assert data["stale"] is True and data["reminders"]["unrecorded"] == 1
    assert data["warnings"] == [
        "no reminder pass has ever run, and 1 reminder is due: is `tracker scheduler` running?"
    ]
    text = status.text(T, code=3)
    assert "WARNING: no reminder pass has ever run" in text
    assert "1 due and not yet recorded" in text


def test_a_recent_pass_is_healthy_and_a_late_one_is_stale(world: World, status: Status) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    status.run("remind", "--now", T.isoformat(), code=0)

    healthy = status.json(T + dt.timedelta(minutes=3), code=0)
    last = healthy["reminders"]["last_success"]
    assert last["ok"] is True and last["counts"]["sent"] == 1 and last["started_at"] == T.isoformat()
    assert healthy["reminders"]["next_due"] == (T + dt.timedelta(minutes=5)).isoformat()
    text = status.text(T + dt.timedelta(minutes=3), code=0)
    assert "last success 2027-01-24 09:30 UTC (3 min ago," in text
    assert "next due 2027-01-24 09:35 UTC" in text

    assert status.json(T + dt.timedelta(minutes=10), code=0)["ok"] is True  # two intervals: not yet
    late = status.json(T + dt.timedelta(minutes=11), code=3)
    assert late["stale"] is True
    assert late["warnings"] == [
        "no successful reminder pass for 10 minutes (since 2027-01-24 09:30 UTC; one is due every 5 minutes): "
        "is `tracker scheduler` running?"
    ]
    assert "next due 2027-01-24 09:35 UTC (late)" in status.text(T + dt.timedelta(minutes=11), code=3)

    status.env["TRACKER_REMINDERS_PASS_MINUTES"] = "15"  # the interval comes from the settings
    assert status.json(T + dt.timedelta(minutes=11), code=0)["ok"] is True


def test_a_failed_last_pass_is_a_warning(world: World, status: Status) -> None:
    add_run(world, T)
    add_run(world, T + dt.timedelta(minutes=5), ok=False, error="OperationalError: disk I/O error")
    data = status.json(T + dt.timedelta(minutes=6), code=3)
    assert data["stale"] is False
    assert data["warnings"] == [
        "the last reminder pass, at 2027-01-24 09:35 UTC, failed: OperationalError: disk I/O error"
    ]
    text = " ".join(status.text(T + dt.timedelta(minutes=6), code=3).split())  # unwrapped
    assert "latest run 2027-01-24 09:35 UTC failed" in text


def test_a_pass_that_never_finished_is_a_warning(world: World, status: Status) -> None:
    add_run(world, T, ok=None)
    data = status.json(T + dt.timedelta(minutes=20), code=3)
    assert data["warnings"] == [
        "no reminder pass has ever succeeded: is `tracker scheduler` running?",
        "the reminder pass started at 2027-01-24 09:30 UTC by box:42 never finished (its process may have died)",
    ]


def test_failed_deliveries_are_a_warning(world: World, status: Status) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    world.channel.permanent("550 5.1.1 no such user")
    world.run(T)
    data = status.json(T + dt.timedelta(minutes=1), code=3)
    assert data["deliveries"]["failed"] == 1 and data["stale"] is False
    assert data["warnings"] == [
        "1 delivery failed for good: see `tracker reminders list --failed`; "
        "`tracker reminders resend` queues them again"
    ]


def test_a_missed_report_is_a_warning_after_the_grace(world: World, status: Status) -> None:
    add_run(world, at("2027-01-17 10:00"))  # the first pass: a Sunday
    slot = at("2027-01-18 08:00")
    add_run(world, slot + dt.timedelta(minutes=9))  # passes keep running
    soon = status.json(slot + dt.timedelta(minutes=10), code=0)
    assert soon["report"]["owed_since"] == slot.isoformat()
    assert soon["report"]["next_due"] == slot.isoformat()

    late = status.json(slot + dt.timedelta(minutes=11), code=3)
    assert late["stale"] is True
    assert late["warnings"] == [
        "the report due at 2027-01-18 08:00 UTC was not made (no report yet): is `tracker scheduler` "
        "running? (`tracker report` makes one by hand)"
    ]
    add_run(world, slot, job="report", ok=None)  # a report job under way
    assert status.json(slot + dt.timedelta(minutes=10), code=0)["ok"] is True
    # ... until it has taken too long to be anything but dead.
    dead = status.json(slot + dt.timedelta(minutes=11), code=3)
    assert dead["stale"] is True
    assert dead["warnings"][1:] == [
        "the report job started at 2027-01-18 08:00 UTC by box:42 never finished (its process may have died)"
    ]
    assert dead["warnings"][0].startswith("the report due at 2027-01-18 08:00 UTC was not made")


def test_the_report_shows_when_it_was_made_and_is_next_due(
    world: World, status: Status, tmp_path: Path
) -> None:
    status.env["TRACKER_REPORT_OUT_DIR"] = str(tmp_path / "site")
    status.run("report", "--now", "2027-01-18T08:00:00+00:00", code=0)
    add_run(world, at("2027-01-18 08:20"))
    data = status.json(at("2027-01-18 08:21"), code=0)
    assert data["report"]["last_made_at"] == "2027-01-18T08:00:00+00:00"
    assert data["report"]["next_due"] == "2027-01-25T08:00:00+00:00"
    assert "last made 2027-01-18 08:00 UTC; next due 2027-01-25 08:00 UTC" in status.text(
        at("2027-01-18 08:21"), code=0
    )


def test_status_text_reads_as_a_summary(tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    settings = load_settings(config_file=config, env={})
    run = RunInfo(T, T + dt.timedelta(seconds=3), True, None, "box:42", {"sent": 2})
    facts = Facts(
        now=T + dt.timedelta(minutes=2),
        last_pass=run,
        last_good_pass=run,
        first_pass_at=at("2027-01-01 00:00"),
        last_report_job=None,
        last_report_at=at("2027-01-18 08:00"),
        deliveries={"pending": 1, "sending": 0, "retry": 2, "failed": 0},
        waiting=3,
        unrecorded=0,
    )
    health = assess(facts, settings)
    assert health.ok and not health.stale
    assert health.next_pass_at == T + dt.timedelta(minutes=5)
    assert health.report_owed_since is None and health.next_report_at == at("2027-01-25 08:00")

    from tracker.cli.status import _text

    assert _text(health).splitlines() == [
        "status at:       2027-01-24 09:32 UTC",
        "reminder passes: last success 2027-01-24 09:30 UTC (2 min ago, box:42); every 5",
        "                 min, next due 2027-01-24 09:35 UTC",
        "report:          last made 2027-01-18 08:00 UTC; next due 2027-01-25 08:00 UTC",
        "report cron:     0 8 * * mon (UTC)",
        "deliveries:      1 pending, 0 sending, 2 to retry, 0 failed; 3 reminders waiting",
        "                 for a digest",
        "ok",
    ]
