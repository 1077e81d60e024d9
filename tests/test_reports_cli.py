"""`tracker report` end to end: the real site builder, the digest files, the stored runs, the errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_reports import CLAIMS, FIRST, IMPORTED_AT, SECOND
from test_scores import Tracker

from tracker.text import WIDTH
from tracker.text import text_width as text_columns


@pytest.fixture
def tracker(db_url: str, tmp_path: Path) -> Tracker:
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    claims = tmp_path / "claims.yaml"
    claims.write_text(CLAIMS.removeprefix("\n"))
    t = Tracker(db_url, config)
    t.run("import", str(claims), "--now", IMPORTED_AT.isoformat())
    return t


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "site"


def keys(items: list[dict[str, Any]]) -> list[str]:
    return [item.get("claim", item)["key"] for item in items]


def test_report_builds_the_site_and_the_digest(tracker: Tracker, out: Path) -> None:
    done = tracker.json("report", "--out", str(out), "--now", FIRST.isoformat())
    assert done["since"] is None and done["ran_at"] == FIRST.isoformat() and done["out_dir"] == str(out)
    assert done["digest"]["counts"] == {
        "resolutions": 2,
        "score_changes": 1,
        "newly_overdue": 1,
        "new_claims": 5,
    }
    assert done["site"]["sources"] >= 1 and done["site"]["written"] > 0
    assert (out / "index.html").is_file()
    assert done["files"] == [
        str(out / "reports" / name)
        for name in ("20261123T120000Z.txt", "20261123T120000Z.html", "latest.txt", "latest.html")
    ]
    assert "NEW VERDICTS (2)" in (out / "reports" / "latest.txt").read_text()


def test_the_second_report_starts_where_the_first_ended(tracker: Tracker, out: Path) -> None:
    first = tracker.json("report", "--out", str(out), "--now", FIRST.isoformat())
    later = "2026-11-23T13:00:00+00:00"
    tracker.run(
        "resolve", "resolved-later", "--verdict", "true", "--evidence", "https://example.org/later",
        "--by", "jkim", "--now", later,
    )  # fmt: skip
    tracker.run(
        "claims", "add", "--id", "added-later", "--kind", "fact", "--source", "sino", "--statement",
        "Added between the reports.", "--quote", "Added.", "--made-on", "2026-11-23", "--now", later,
    )  # fmt: skip
    # No --out: the last report's folder.
    second = tracker.json("report", "--now", SECOND.isoformat())
    assert second["id"] == first["id"] + 1
    assert second["since"] == FIRST.isoformat() and second["out_dir"] == str(out)
    d = second["digest"]
    assert keys(d["resolutions"]) == ["resolved-later"]
    assert d["resolutions"][0]["by"] == "jkim"
    assert keys(d["new_claims"]) == ["added-later"]
    assert keys(d["newly_overdue"]) == ["due-on-the-24th"]
    assert [(c["slug"], c["before"]["n_scored"], c["after"]["n_scored"]) for c in d["score_changes"]] == [
        ("pundit", 0, 1)
    ]
    # The site was brought up to date (which pages, is the site builder's business).
    assert second["site"]["written"] > 0
    assert "resolved-later" in (out / "sources" / "pundit.html").read_text()


def test_report_text_output_fits(tracker: Tracker, out: Path) -> None:
    text = tracker.run("report", "--out", str(out), "--now", FIRST.isoformat()).stdout
    lines = text.splitlines()
    assert lines[0].startswith("tracker report 2026-11-23: 2 new verdicts")
    assert any(
        line.startswith("period:") and "the beginning to 23 Nov 2026 12:00 UTC" in line for line in lines
    )
    for line in lines:
        assert text_columns(line) <= WIDTH or str(out) in line, line
    for line in (out / "reports" / "latest.txt").read_text().splitlines():
        assert text_columns(line) <= WIDTH or "://" in line, line


def test_since_is_a_date_or_a_time(tracker: Tracker, out: Path) -> None:
    done = tracker.json("report", "--out", str(out), "--now", FIRST.isoformat(), "--since", "2026-11-21")
    assert done["since"] == "2026-11-21T00:00:00+00:00"
    assert done["digest"]["counts"]["resolutions"] == 0  # the import was on the 20th


def test_a_failed_report_is_one_line_and_stores_nothing(tracker: Tracker, tmp_path: Path, out: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    message = tracker.error("report", "--out", str(blocker / "site"), "--now", FIRST.isoformat())
    assert "cannot" in message and str(blocker) in message
    # Nothing was recorded: the next report still covers everything.
    assert tracker.json("report", "--out", str(out), "--now", FIRST.isoformat())["since"] is None


def test_now_before_the_last_report_is_refused(tracker: Tracker, out: Path) -> None:
    tracker.run("report", "--out", str(out), "--now", SECOND.isoformat())
    message = tracker.error("report", "--now", FIRST.isoformat())
    assert "the last report ran at 2026-11-25T12:00:00+00:00" in message


def test_usage_errors(tracker: Tracker) -> None:
    result = tracker.run("report", "--since", "last tuesday", code=2)
    assert "is not an ISO time" in result.stderr
