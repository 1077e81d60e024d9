"""One --out convention for `tracker scorecards`, `report` and `calendar`: optional, the site folder by default."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import Tracker

NOW = "2026-11-23T12:00:00+00:00"


@pytest.fixture
def tracker(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tracker:
    monkeypatch.chdir(tmp_path)  # ./site is relative to where tracker runs
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    t = Tracker(db_url, config)
    t.run("reviewers", "add", "ann", "--name", "Ann Lee", "--email", "ann@example.org")
    t.run("sources", "add", "daily", "--name", "The Daily")
    t.run(
        "claims", "add", "--no-interactive", "--id", "rates-fall", "--kind", "prediction", "--source", "daily",
        "--statement", "Rates fall.", "--quote", "Rates will likely fall.", "--made-on", "2026-11-01",
        "--confidence", "likely", "--criteria", "Reported.", "--deadline", "2027-01-31", "--reviewer", "ann",
    )  # fmt: skip
    return t


def test_without_out_everything_goes_to_site(tracker: Tracker, tmp_path: Path) -> None:
    tracker.run("calendar", "--now", NOW)  # first: the folder is made for it
    tracker.run("calendar", "--reviewer", "ann", "--now", NOW)
    tracker.run("scorecards", "--now", NOW)
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    assert (site / "deadlines.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert b"rates-fall" in (site / "deadlines-ann.ics").read_bytes()
    # A scorecard build leaves the calendars it did not write alone.
    tracker.run("scorecards", "--full", "--now", NOW)
    assert (site / "deadlines.ics").is_file()
    assert tracker.json("calendar", "--now", NOW)["file"] == "site/deadlines.ics"


def test_the_setting_names_the_folder(tracker: Tracker, tmp_path: Path) -> None:
    env = {"TRACKER_REPORT_OUT_DIR": str(tmp_path / "public")}
    tracker.run("scorecards", "--now", NOW, env=env)
    tracker.run("calendar", "--now", NOW, env=env)
    tracker.run("report", "--now", NOW, env=env)
    public = tmp_path / "public"
    assert (public / "index.html").is_file()
    assert (public / "deadlines.ics").is_file()
    assert (public / "reports" / "latest.txt").is_file()
    assert not (tmp_path / "site").exists()


def test_after_a_report_its_folder_is_the_default(tracker: Tracker, tmp_path: Path) -> None:
    tracker.run("report", "--out", str(tmp_path / "www"), "--now", NOW)
    tracker.run("calendar", "--now", NOW)
    assert (tmp_path / "www" / "deadlines.ics").is_file()
    tracker.run("scorecards", "--full", "--now", NOW)
    assert "index.html" in tracker.json("scorecards", "--full", "--now", NOW)["written"]
    assert sorted(p.name for p in (tmp_path / "www").glob("*.ics")) == ["deadlines.ics"]
    assert not (tmp_path / "site").exists()


def test_out_still_wins(tracker: Tracker, tmp_path: Path) -> None:
    tracker.run("scorecards", "--out", "elsewhere", "--now", NOW)
    tracker.run("calendar", "--out", "elsewhere/mine.ics", "--now", NOW)
    assert (tmp_path / "elsewhere" / "index.html").is_file()
    assert (tmp_path / "elsewhere" / "mine.ics").is_file()
    assert not (tmp_path / "site").exists()
