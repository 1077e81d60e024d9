"""`tracker remind` and `tracker reminders list|resend`, end to end through the real channels."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support.cli import Tracker

if TYPE_CHECKING:
    from conftest import SmtpTestServer

SEVEN_BEFORE = "2027-01-24T09:00:00+00:00"


@pytest.fixture
def tracker(db_url: str, tmp_path: Path) -> Iterator[Tracker]:
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    t = Tracker(db_url, config)
    t.run(
        "reviewers",
        "add",
        "ann",
        "--name",
        "Ann Lee",
        "--email",
        "ann@example.org",
        "--timezone",
        "Asia/Seoul",
    )
    t.run("reviewers", "add", "bob", "--name", "Bob Roe", "--email", "bob@example.org")
    t.run("sources", "add", "daily", "--name", "The Daily")
    for key, who in (("rates-fall", "ann"), ("oil-up", "bob")):
        t.run(
            "claims", "add", "--no-interactive", "--id", key, "--kind", "prediction", "--source", "daily",
            "--statement", f"{key} happens <soon>.", "--quote", "It will likely happen.", "--made-on", "2026-11-01",
            "--confidence", "likely", "--criteria", f"Resolves true if {key} is reported by the deadline.",
            "--deadline", "2027-01-31", "--url", f"https://example.org/{key}", "--reviewer", who,
        )  # fmt: skip
    yield t


def test_the_resolve_line_pastes_into_a_shell(tracker: Tracker) -> None:
    out = tracker.run("remind", "--now", SEVEN_BEFORE).stdout
    [line] = [line for line in out.splitlines() if "Resolve:" in line and "rates-fall" in line]
    command = line.split("Resolve:", 1)[1].strip()
    words = shlex.split(command)  # what a shell makes of it: no pipes, no other operators
    assert not set("|&;<>") & set(command)
    assert words[0] == "tracker"
    filled = [{"VERDICT": "FALSE", "URL": "https://example.org/news"}.get(w, w) for w in words[1:]]
    assert tracker.run(*filled, "--now", SEVEN_BEFORE).stdout == "resolved rates-fall: false\n"


def test_remind_runs_one_pass_through_the_console_channel(tracker: Tracker) -> None:
    result = tracker.run("remind", "--now", SEVEN_BEFORE)
    out = result.stdout
    assert out.count("Message-ID: <digest-") == 2
    assert "Subject: tracker: 1 claim to resolve" in out
    assert "tracker resolve rates-fall --verdict VERDICT --evidence URL --by ann" in out
    assert out.rstrip().endswith("2 reminders fell due; 0 cancelled; 2 digests made; sent 2")

    again = tracker.run("remind", "--now", SEVEN_BEFORE)
    assert again.stdout.strip() == "0 reminders fell due; 0 cancelled; 0 digests made; sent 0"


def test_remind_json_keeps_stdout_for_the_json(tracker: Tracker) -> None:
    result = tracker.run("remind", "--now", SEVEN_BEFORE, "--json")
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("recorded", "deliveries_created", "sent", "failed", "dry_run")} == {
        "recorded": 2,
        "deliveries_created": 2,
        "sent": 2,
        "failed": 0,
        "dry_run": False,
    }
    assert data["now"] == SEVEN_BEFORE
    assert result.stderr.count("Message-ID: <digest-") == 2  # the console channel moved aside


def test_dry_run_shows_the_messages_and_writes_nothing(tracker: Tracker) -> None:
    result = tracker.run("remind", "--now", SEVEN_BEFORE, "--dry-run")
    assert "--- would send to Ann Lee <ann@example.org>: tracker: 1 claim to resolve" in result.stdout
    assert "dry run (nothing written): 2 reminders fell due" in result.stdout
    assert tracker.json("reminders", "list", "--all") == []
    data = tracker.json("remind", "--now", SEVEN_BEFORE, "--dry-run")
    assert data["dry_run"] is True and sorted(m["to"] for m in data["messages"]) == [
        "ann@example.org",
        "bob@example.org",
    ]
    assert tracker.json("reminders", "list", "--all") == []


def test_failed_deliveries_are_listed_resent_and_the_pass_still_exits_0(
    tracker: Tracker, unused_port: int
) -> None:
    tracker.env = {
        "TRACKER_REMINDERS_CHANNEL": "smtp",
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(unused_port),
        "TRACKER_SMTP_SECURITY": "none",
        "TRACKER_REMINDERS_MAX_ATTEMPTS": "1",
    }
    result = tracker.run("remind", "--now", SEVEN_BEFORE)
    assert "0 to retry, 2 failed" in result.stdout
    assert result.stderr.count(": failed: ") == 2

    listed = tracker.json("reminders", "list", "--failed")
    assert sorted((d["reviewer"], d["status"], d["claims"], d["attempts"]) for d in listed) == [
        ("ann", "failed", ["rates-fall"], 1),
        ("bob", "failed", ["oil-up"], 1),
    ]
    assert all(d["last_error"] for d in listed)
    table = tracker.run("reminders", "list").stdout
    assert table.splitlines()[0].split() == ["ID", "STATUS", "REVIEWER", "TRIES", "CLAIMS", "LAST", "ERROR"]
    assert tracker.json("reminders", "list", "--pending") == []
    # The error is read whole: wrapped within its column, never cut short.
    text = tracker.run("reminders", "list", "--failed").stdout
    column = text.splitlines()[0].index("LAST ERROR")
    assert "…" not in text and all(len(line) <= 80 for line in text.splitlines())
    shown = " ".join(line[column:].strip() for line in text.splitlines()[1:] if line[column:].strip())
    for d in listed:
        assert d["last_error"] in shown and len(d["last_error"]) > 80 - column

    first = min(d["id"] for d in listed)
    assert (
        tracker.run("reminders", "resend", str(first)).stdout.strip() == f"queued 1 delivery again: {first}"
    )
    assert [d["id"] for d in tracker.json("reminders", "list", "--pending")] == [first]
    assert tracker.json("reminders", "resend", "--all-failed") == {"queued": [max(d["id"] for d in listed)]}
    assert tracker.run("reminders", "resend", "--all-failed").stdout.strip() == "no failed deliveries"


def test_resend_errors(tracker: Tracker) -> None:
    tracker.run("remind", "--now", SEVEN_BEFORE)
    assert (
        "only failed deliveries can be re-sent: 1 is sent"
        in tracker.run("reminders", "resend", "1", code=1).stderr
    )
    assert "no delivery 42" in tracker.run("reminders", "resend", "42", code=1).stderr
    assert "give delivery IDs or --all-failed" in tracker.run("reminders", "resend", code=2).stderr


def test_configuration_errors_exit_1(tracker: Tracker) -> None:
    tracker.env = {"TRACKER_REMINDERS_CHANNEL": "smtp"}
    assert "TRACKER_SMTP_HOST" in tracker.run("remind", "--now", SEVEN_BEFORE, code=1).stderr
    tracker.env = {"TRACKER_REMINDERS_SEND_HOUR": "25"}
    assert "TRACKER_REMINDERS_SEND_HOUR" in tracker.run("remind", code=1).stderr
    tracker.env = {}
    assert tracker.json("reminders", "list", "--all") == []


def test_remind_needs_a_migrated_database(tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    t = Tracker(f"sqlite:///{tmp_path / 'missing.db'}", config)
    assert "run `tracker init`" in t.run("remind", code=1).stderr


def test_the_console_file_channel_collects_the_digests(tracker: Tracker, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.txt"
    tracker.env = {"TRACKER_REMINDERS_CONSOLE_FILE": str(outbox)}
    tracker.run("remind", "--now", SEVEN_BEFORE)
    text = outbox.read_text()
    assert text.count("Message-ID: <digest-") == 2
    assert "rates-fall happens <soon>." in text  # plain text is not HTML-escaped


def test_digests_arrive_over_real_smtp_once(tracker: Tracker, smtp_server: SmtpTestServer) -> None:
    tracker.env = {
        "TRACKER_REMINDERS_CHANNEL": "smtp",
        "TRACKER_SMTP_HOST": smtp_server.host,
        "TRACKER_SMTP_PORT": str(smtp_server.port),
        "TRACKER_SMTP_SECURITY": "none",
        "TRACKER_SMTP_SENDER": "tracker@example.org",
    }
    tracker.run("remind", "--now", SEVEN_BEFORE)
    tracker.run("remind", "--now", "2027-01-24T12:00:00+00:00")

    mails = {m["To"]: m for m in smtp_server.messages}
    assert sorted(mails) == ["Ann Lee <ann@example.org>", "Bob Roe <bob@example.org>"]
    ann = mails["Ann Lee <ann@example.org>"]
    assert ann["Subject"] == "tracker: 1 claim to resolve"
    sent = {d["reviewer"]: d for d in tracker.json("reminders", "list", "--all")}
    assert ann["Message-ID"] == sent["ann"]["message_id"]
    assert sent["ann"]["status"] == "sent" and sent["ann"]["sent_at"] is not None
    parts = {p.get_content_type(): p.get_content() for p in ann.iter_parts()}
    assert "Asia/Seoul" in parts["text/plain"]
    assert "rates-fall happens &lt;soon&gt;." in parts["text/html"]
