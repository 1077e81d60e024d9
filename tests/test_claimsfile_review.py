"""claims.yaml and double review: every verdict imported, exported and merged back."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.claims import last_recorded, project_claims
from support.cli import Tracker
from test_claimsfile_merge import diff

from tracker.claimsfile import ImportReport, import_claims
from tracker.config import Settings
from tracker.errors import InvalidInput
from tracker.models import Claim

WriteFile = Callable[[str, str], Path]

HEAD = """\
reviewers:
  - {handle: ada, name: Ada, email: ada@example.org}
  - {handle: bob, name: Bob, email: bob@example.org}
  - {handle: boss, name: Boss, email: boss@example.org, role: admin}
sources:
  - {slug: seer, name: The Seer, kind: person}
claims:
"""


def claim(key: str, extra: str) -> str:
    base = f"""\
  - id: {key}
    source: seer
    kind: prediction
    statement: Prediction {key}.
    quote: q {key}
    made_on: 2020-01-01
    probability: 0.7
    probability_basis: the source's own figure
    resolution: {{criteria: Reported., deadline: 2020-12-31}}
"""
    return base + textwrap.indent(textwrap.dedent(extra), "    ")


def review(verdict: str, by: str, day: str = "2021-01-05", note: str | None = None) -> str:
    text = f"{{verdict: '{verdict}', resolved_on: {day}, by: {by}, evidence: ['https://example.org/{by}']"
    return text + (f", note: {note}}}" if note else "}")


AWAITING = claim("awaiting", f"reviews:\n  - {review('true', 'ada', note='ada private')}\n")
AGREED = claim("agreed", f"reviews:\n  - {review('true', 'ada')}\n  - {review('true', 'bob')}\n")
DISPUTED = claim("disputed", f"reviews:\n  - {review('true', 'ada')}\n  - {review('false', 'bob')}\n")
ADJUDICATED = claim(
    "adjudicated",
    f"reviews:\n  - {review('true', 'ada')}\n  - {review('false', 'bob')}\n"
    f"outcome: {review('false', 'boss', '2021-01-09', 'The record says no.')}\n",
)
SINGLE = claim("single", f"outcome: {review('true', 'ada')}\n")
FILE = HEAD + AWAITING + AGREED + DISPUTED + ADJUDICATED + SINGLE


@pytest.fixture
def run_import(
    session_factory: sessionmaker[Session], settings: Settings, now: dt.datetime
) -> Callable[[Path], ImportReport]:
    def run(path: Path) -> ImportReport:
        with session_factory.begin() as session:
            return import_claims(session, path, settings=settings, now=now, display_name="claims.yaml")

    return run


def state(
    session_factory: sessionmaker[Session],
) -> dict[str, tuple[str, str | None, list[tuple[str, str | None]]]]:
    with session_factory() as session:
        found = {}
        for c in session.scalars(select(Claim).order_by(Claim.key)):
            found[c.key] = (c.status, c.verdict, [(r.role, r.verdict) for r in c.resolutions])
        return found


def test_import_records_each_state_of_a_double_review(
    run_import: Any, session_factory: sessionmaker[Session], write_file: WriteFile
) -> None:
    report = run_import(write_file("claims.yaml", FILE))
    assert report.new_resolutions == 1 + 2 + 2 + 3 + 1
    assert state(session_factory) == {
        "adjudicated": (
            "resolved",
            "false",
            [("first", "true"), ("second", "false"), ("adjudication", "false")],
        ),
        "agreed": ("resolved", "true", [("first", "true"), ("second", "true")]),
        "awaiting": ("awaiting", None, [("first", "true")]),
        "disputed": ("disputed", None, [("first", "true"), ("second", "false")]),
        "single": ("resolved", "true", [("verdict", "true")]),
    }
    # Idempotent.
    again = run_import(write_file("claims.yaml", FILE))
    assert (again.new_resolutions, again.updated) == (0, 0)


def test_a_later_file_appends_the_rest_of_a_round_or_replaces_a_changed_one(
    run_import: Any, session_factory: sessionmaker[Session], write_file: WriteFile
) -> None:
    run_import(write_file("claims.yaml", FILE))
    later = FILE.replace(
        f"reviews:\n      - {review('true', 'ada', note='ada private')}\n",
        f"reviews:\n      - {review('true', 'ada', note='ada private')}\n      - {review('false', 'bob')}\n",
    ).replace(
        f"      - {review('true', 'ada')}\n      - {review('true', 'bob')}\n",
        f"      - {review('false', 'ada')}\n      - {review('false', 'bob')}\n",
    )
    assert later.count("- {verdict") == FILE.count("- {verdict") + 1
    report = run_import(write_file("claims.yaml", later))
    assert report.new_resolutions == 1 + 3  # a second verdict; an un-resolve and a new round
    found = state(session_factory)
    assert found["awaiting"] == ("disputed", None, [("first", "true"), ("second", "false")])
    assert found["agreed"] == (
        "resolved",
        "false",
        [("first", "true"), ("second", "true"), ("verdict", None), ("first", "false"), ("second", "false")],
    )


def test_export_writes_every_verdict_back(tracker: Tracker, write_file: WriteFile, tmp_path: Path) -> None:
    source = write_file("claims.yaml", FILE)
    tracker.run("import", str(source), "--now", "2026-11-23T12:00:00+00:00")
    out = tmp_path / "out.yaml"
    tracker.run("export", str(out))
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["claims"] == yaml.safe_load(FILE)["claims"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            f"reviews:\n  - {review('true', 'ada')}\n  - {review('true', 'bob')}\n  - {review('true', 'boss')}\n",
            "claims.yaml:17: claims[0].reviews: a double review has two verdicts, not 3",
        ),
        (
            f"reviews:\n  - {review('true', 'ada')}\n  - {review('false', 'ada')}\n",
            "claims.yaml:19: claims[0].reviews[1].by: the second verdict must come from another reviewer than ada",
        ),
        (
            f"reviews:\n  - {review('true', 'ada')}\n  - {review('true', 'bob')}\noutcome: {review('true', 'boss')}\n",
            "claims.yaml:20: claims[0].outcome: the two reviews agree (true): there is nothing to adjudicate",
        ),
        (
            f"reviews:\n  - {review('true', 'ada')}\noutcome: {review('true', 'boss')}\n",
            "claims.yaml:19: claims[0].outcome: with one review the claim awaits its second verdict",
        ),
        (
            f"reviews:\n  - {review('true', 'ada')}\n  - {review('false', 'bob')}\noutcome: {review('true', 'boss')}\n",
            "claims.yaml:20: claims[0].outcome.note: an adjudication needs a note saying why",
        ),
        (
            f"reviews:\n  - {review('true', 'ada')}\n  - {review('false', 'bobby')}\n",
            "claims.yaml:19: claims[0].reviews[1].by: reviewer 'bobby' is not defined; did you mean 'bob'?",
        ),
        (
            f"reviews:\n  - {review('mostly-true', 'ada')}\n",
            "claims.yaml:18: claims[0].reviews[0].verdict: verdict 'mostly-true' is not on the prediction scale",
        ),
        (
            "reviews:\n  - {verdict: true, resolved_on: 2021-01-05}\n",
            "claims.yaml:18: claims[0].reviews[0].by: required field is missing",
        ),
    ],
)
def test_problems_name_file_line_and_field(
    run_import: Any, session_factory: sessionmaker[Session], write_file: WriteFile, extra: str, expected: str
) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        run_import(write_file("claims.yaml", HEAD + claim("one", extra)))
    problems = [str(p) for p in excinfo.value.problems]
    assert any(p.startswith(expected) for p in problems), problems
    assert state(session_factory) == {}


@pytest.fixture
def tracker(db_url: str, tmp_path: Path) -> Tracker:
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    return Tracker(db_url, config)


def test_a_double_review_exports_over_the_project_file(
    tracker: Tracker, repo_root: Path, tmp_path: Path
) -> None:
    """Two verdicts and an adjudication change only that claim's entry; re-import and re-export change nothing."""
    path = tmp_path / "claims.yaml"
    shutil.copyfile(repo_root / "claims.yaml", path)
    last = last_recorded(project_claims(repo_root))
    at = max("2026-11-23T12:00:00+00:00", f"{last.isoformat()}T12:00:00+00:00")
    tracker.run("import", str(path), "--now", at)
    original = path.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    entry = [c for c in data["claims"] if c["kind"] == "prediction"][-1]
    for handle, role in (("zz-ada", "reviewer"), ("zz-bob", "reviewer"), ("zz-boss", "admin")):
        tracker.run(
            "reviewers", "add", handle, "--name", handle, "--email", f"{handle}@example.org", "--role", role
        )
    tracker.env["TRACKER_REVIEW_VERDICTS_REQUIRED"] = "2"
    if "outcome" in entry:
        tracker.run("unresolve", entry["id"], "--by", "zz-boss", "--note", "Review it twice.", "--now", at)
    for verdict, by in (("true", "zz-ada"), ("false", "zz-bob")):
        tracker.run(
            "resolve", entry["id"], "--verdict", verdict, "--evidence", "https://example.org/r",
            "--by", by, "--on", at[:10], "--now", at,
        )  # fmt: skip
    tracker.run("adjudicate", entry["id"], "false", "--note", "Settled.", "--evidence", "https://example.org/a",
                "--by", "zz-boss", "--on", at[:10], "--now", at)  # fmt: skip
    tracker.run("export", str(path))
    after = path.read_text(encoding="utf-8")
    exported = yaml.safe_load(after)
    written = next(c for c in exported["claims"] if c["id"] == entry["id"])
    assert [(r["verdict"], r["by"]) for r in written["reviews"]] == [("true", "zz-ada"), ("false", "zz-bob")]
    assert (written["outcome"]["verdict"], written["outcome"]["by"], written["outcome"]["note"]) == (
        "false",
        "zz-boss",
        "Settled.",
    )
    # Only that claim (and the three new reviewers) changed.
    assert [c for c in exported["claims"] if c["id"] != entry["id"]] == [
        c for c in data["claims"] if c["id"] != entry["id"]
    ]
    assert exported["reviewers"][:-3] == data["reviewers"] and exported["sources"] == data["sources"]
    # The diff lies in that claim's entry and the three new reviewers' lines.
    lines = original.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {entry['id']}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("- id:")), len(lines))
    removed = [line[1:] for line in diff(original, after) if line.startswith("-")]
    assert all(line in lines[start:end] for line in removed), removed
    report = tracker.json("import", str(path), "--now", at)
    assert (report["updated"], report["created"], report["new_resolutions"]) == (0, 0, 0)
    tracker.run("export", str(path))
    assert path.read_text(encoding="utf-8") == after
