"""`tracker scheduler` as users run it: the quick start, a clean stop on SIGTERM or SIGINT, catch-up, errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.claims import with_predictions_reopened
from support.scheduler import harness, run_tracker, wait_for

from tracker.channels.console import SEPARATOR
from tracker.cli import cli
from tracker.models import Delivery, JobRun

QUICK_START_NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def digests_by_recipient(console: str) -> dict[str, list[str]]:
    """The console channel's output: recipient address -> the claim keys its digest lists."""
    found: dict[str, list[str]] = defaultdict(list)
    for block in console.split(SEPARATOR + "\n")[1:]:
        headers, _, body = block.partition("\n\n")
        [to] = [line for line in headers.splitlines() if line.startswith("To: ")]
        address = to.rsplit("<", 1)[1].rstrip(">")
        found[address] += re.findall(r"^\s*\d+\. ([a-z0-9._-]+): ", body, flags=re.MULTILINE)
    return dict(found)


def test_a_new_user_sees_due_reminders_in_the_console(repo_root: Path, tmp_path: Path) -> None:
    """The quick start's database, then `tracker scheduler`: the overdue claims reach their reviewers."""
    env = dict(os.environ)
    claims = with_predictions_reopened(repo_root, tmp_path / "claims.yaml")
    assert run_tracker("init", env=env, cwd=tmp_path).returncode == 0
    imported = run_tracker("import", str(claims), env=env, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr

    done = run_tracker("scheduler", "--once", "--now", QUICK_START_NOW.isoformat(), env=env, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "reminder pass:" in done.stderr
    data = yaml.safe_load(claims.read_text(encoding="utf-8"))
    email = {r["handle"]: r["email"] for r in data["reviewers"]}
    today = QUICK_START_NOW.date()
    open_predictions = {
        c["id"]: c for c in data["claims"] if c["kind"] == "prediction" and "outcome" not in c
    }
    overdue = {key: c for key, c in open_predictions.items() if c["resolution"]["deadline"] < today}
    assert overdue, "claims.yaml should have overdue open predictions for this test to mean anything"
    got = digests_by_recipient(done.stdout)
    for key, claim in overdue.items():
        for handle in claim["reviewers"]:
            assert key in got.get(email[handle], []), f"{handle} was not reminded of {key}"
    # Nothing else: only open predictions whose deadline is near or past.
    near = today + dt.timedelta(days=8)
    listed = {key for keys in got.values() for key in keys}
    assert all(open_predictions[k]["resolution"]["deadline"] <= near for k in listed)
    assert f"sent {len(got)}" in done.stderr

    status = run_tracker(
        "status", "--now", (QUICK_START_NOW + dt.timedelta(minutes=3)).isoformat(), env=env, cwd=tmp_path
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.rstrip().endswith("ok")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_pass_finishes_the_delivery_and_exits_0(
    signum: signal.Signals, db_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    reviewers = harness.seed(db_url, 120)
    recorder = harness.Recorder(delay=0.02)  # a slow server: the pass lasts seconds
    with harness.smtp_server(recorder) as port:
        env = harness.tracker_env(db_url, port, tmp_path)
        log = tmp_path / "scheduler.log"
        proc = harness.start(["scheduler", "--now", harness.NOW.isoformat()], env, log)
        try:
            wait_for(lambda: recorder.count >= 5 or proc.poll() is not None, what="deliveries to start")
            proc.send_signal(signum)
            code = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        output = log.read_text()
        assert code == 0, output
        assert f"{signum.name}: finishing the current job, then exiting" in output
        assert "(stopped early: the rest waits for the next pass)" in output
        stopped_at = recorder.count
        assert 5 <= stopped_at < reviewers

        with session_factory() as session:
            statuses = dict(
                session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
            )
            [run] = session.scalars(select(JobRun)).all()
        # Nothing in doubt: every message the server took is marked sent, the rest wait.
        assert statuses == {"sent": stopped_at, "pending": reviewers - stopped_at}
        assert run.ok is True and run.finished_at is not None and run.counts["sent"] == stopped_at

        recorder.delay = 0  # the rest may go fast
        later = (harness.NOW + dt.timedelta(minutes=1)).isoformat()
        rest = run_tracker("scheduler", "--once", "--now", later, env=env, cwd=tmp_path)
        assert rest.returncode == 0, rest.stderr
    ids = recorder.ids()
    assert len(ids) == len(set(ids)) == reviewers


def test_catch_up_after_a_week_through_the_cli(tmp_path: Path, db_url: str, repo_root: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    env = {"TRACKER_REPORT_OUT_DIR": str(tmp_path / "site")}

    def run(*args: str) -> Result:
        result = CliRunner().invoke(
            cli, ["--config", str(config), "--database-url", db_url, *args], env=env, catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        return result

    run("import", str(repo_root / "claims.yaml"))
    first = run("scheduler", "--once", "--now", "2026-11-23T12:00:00+00:00")
    assert "tracker scheduler --once: one reminder pass\n" in first.stderr
    assert "report:" not in first.stderr

    woken = run("scheduler", "--once", "--now", "2026-12-01T12:00:00+00:00")
    assert "one reminder pass; a catch-up report for 2026-11-30 08:00:00 UTC" in woken.stderr
    assert re.search(r"report: tracker report .* \(in .*site\)", woken.stderr)
    assert (tmp_path / "site" / "reports" / "latest.html").is_file()

    again = run("scheduler", "--once", "--now", "2026-12-01T12:05:00+00:00")
    assert "catch-up" not in again.stderr and "report:" not in again.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TRACKER_REMINDERS_CHANNEL": "smtp"},
            "the smtp channel needs a mail server: set TRACKER_SMTP_HOST (or host in [smtp])",
        ),
        (
            {"TRACKER_REPORT_CRON": "0 8 * mon"},
            "TRACKER_REPORT_CRON: '0 8 * mon' is not a crontab expression",
        ),
    ],
)
def test_a_bad_configuration_stops_the_scheduler_at_once(
    env: dict[str, str], message: str, db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--database-url", db_url, "scheduler"], env=env
    )
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_the_scheduler_needs_a_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    result = CliRunner().invoke(cli, ["--database-url", url, "scheduler", "--once"])
    assert result.exit_code == 1
    assert "does not exist: run `tracker init`" in result.stderr


def test_json_events_for_monitoring(tmp_path: Path, db_url: str, repo_root: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    base = ["--config", str(config), "--database-url", db_url]
    runner = CliRunner()
    claims = with_predictions_reopened(repo_root, tmp_path / "claims.yaml")
    assert runner.invoke(cli, [*base, "import", str(claims)]).exit_code == 0
    result = runner.invoke(
        cli, [*base, "scheduler", "--once", "--json", "--now", "2026-11-23T12:00:00+00:00"]
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events] == ["started", "pass"]
    assert events[0]["once"] is True and events[0]["catch_up_report"] is None
    assert events[1]["sent"] == events[1]["deliveries_created"] > 0 and events[1]["stopped"] is False
    # The console channel's messages moved to stderr, out of the JSON's way.
    assert result.stderr.count("Message-ID: <digest-") == events[1]["sent"]
