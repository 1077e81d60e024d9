"""`tracker init` and `tracker db ...` at the edges: a database from a newer tracker, relative
revisions, a server that never answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from support.cli import Tracker

from tracker import db as tracker_db
from tracker.db import make_engine
from tracker.errors import TrackerError
from tracker.migrations import head_revision

FUTURE = "0009_from_the_future"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "tracker-test.toml"
    path.write_text("")
    return path


@pytest.fixture
def tracker(db_url: str, config: Path) -> Tracker:
    return Tracker(db_url, config)


def test_every_command_says_a_database_from_a_newer_tracker_is_newer(tracker: Tracker, db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": FUTURE})
    finally:
        engine.dispose()
    newer = f"is at migration {FUTURE}, newer than this tracker knows (its newest is {head_revision()}): upgrade tracker"
    for command in (
        ["db", "current"],
        ["db", "current", "--json"],
        ["db", "upgrade"],
        ["db", "downgrade", "--yes"],
        ["db", "downgrade", "-1", "--yes"],
        ["init"],
        ["claims", "list"],
    ):
        message = tracker.error(*command)
        assert message.endswith(newer), (command, message)
        assert "unexpected" not in message


def test_downgrade_and_upgrade_take_relative_revisions(tracker: Tracker) -> None:
    steps = [tracker.json("db", "current")["revision"]]
    for _ in range(3):
        steps.append(tracker.json("db", "downgrade", "-1", "--yes")["revision"])
    assert steps[0] == head_revision() and len(set(steps)) == 4
    assert tracker.json("db", "upgrade", "+2")["revision"] == steps[1]
    assert tracker.json("db", "downgrade", "-2", "--yes")["revision"] == steps[3]
    assert tracker.json("db", "upgrade")["revision"] == head_revision()
    # Beyond the first migration: Alembic's own words, as one line.
    assert "cannot downgrade to '-99'" in tracker.error("db", "downgrade", "-99", "--yes")
    # An option misspelt is still a usage error, not a revision.
    assert "No such option: --yess" in tracker.error("db", "downgrade", "--yess", code=2)


def test_downgrade_below_promises_is_refused_in_one_line_while_one_is_stored(tracker: Tracker) -> None:
    tracker.run("sources", "add", "gov", "--name", "The Governor", "--kind", "person")
    tracker.run(
        "claims", "add", "--id", "bridge", "--kind", "promise", "--source", "gov", "--statement", "s",
        "--quote", "We will open the bridge.", "--made-on", "2020-01-01", "--criteria", "KEPT if it opens.",
        "--deadline", "2021-12-31", "--now", "2026-11-23T12:00:00+00:00",
    )  # fmt: skip
    error = tracker.error("db", "downgrade", "0007_editor_role", "--yes")
    assert error.endswith(
        "1 promise claim(s) are stored and the schema before 0009_promises has no place for them; "
        "export them (tracker export), delete them, then downgrade"
    )
    assert tracker.json("db", "current")["revision"] == head_revision()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_server_that_never_answers_is_named_after_the_timeout_in_the_url(
    silent_server: int, config: Path
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{silent_server}/test?connect_timeout=1"
    message = Tracker(url, config).error("claims", "list")
    assert message == (
        f"tracker: error: database server 127.0.0.1:{silent_server} did not answer within 1 s "
        "(a longer wait: ?connect_timeout=SECONDS in the database URL)"
    )
    assert "did not answer" in Tracker(url, config).error("db", "current")


def test_a_server_that_never_answers_times_out_by_default(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default, shortened so that the test does not wait ten seconds for it.
    monkeypatch.setattr(tracker_db, "CONNECT_TIMEOUT", 1)
    engine = make_engine(f"postgresql://postgres@127.0.0.1:{silent_server}/test")
    try:
        with pytest.raises(TrackerError, match=rf"127\.0\.0\.1:{silent_server} did not answer within 1 s"):
            engine.connect()
    finally:
        engine.dispose()
