"""Exporting over an existing claims file keeps the file a team edits: only what changed is rewritten."""

from __future__ import annotations

import datetime as dt
import difflib
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.claims import last_recorded, project_claims
from support.cli import Tracker

from tracker.claimsfile.merge import merge_claims_file
from tracker.cli.files import _replace_unless_changed
from tracker.errors import TrackerError

NOW = "2026-11-23T12:00:00+00:00"
WriteFile = Callable[[str, str], Path]


@pytest.fixture
def tracker(db_url: str, tmp_path: Path) -> Tracker:
    config = tmp_path / "tracker-test.toml"
    config.write_text("")  # keeps a developer's ./tracker.toml out of the test
    return Tracker(db_url, config)


def diff(before: str, after: str) -> list[str]:
    """The changed lines of a unified diff (no headers, hunk markers or context)."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def hunks(before: str, after: str) -> int:
    return sum(
        1 for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0) if line[:2] == "@@"
    )


# --- the repository's claims.yaml -------------------------------------------------------------------


@pytest.fixture
def project_file(tracker: Tracker, repo_root: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """A copy of the repository's claims.yaml, imported into the test database, and the time to use."""
    copy = tmp_path / "claims.yaml"
    shutil.copyfile(repo_root / "claims.yaml", copy)
    # The file holds verdicts up to the day it was last edited, which may be after the
    # suite's frozen clock: work as of that day.
    last = last_recorded(project_claims(repo_root))
    at = max(NOW, f"{last.isoformat()}T12:00:00+00:00")
    tracker.run("import", str(copy), "--now", at)
    return copy, copy.read_text(encoding="utf-8"), at


def test_exporting_over_the_project_file_changes_nothing(
    tracker: Tracker, project_file: tuple[Path, str, str]
) -> None:
    path, original, _ = project_file
    assert original.count("\n#") + original.count("\n  #") > 50, "the file has its comments"
    result = tracker.run("export", str(path))
    assert path.read_text(encoding="utf-8") == original
    claims = len(yaml.safe_load(original)["claims"])
    assert result.stderr == f"wrote {claims} claims to {path}\n"


def test_one_resolution_changes_only_that_outcome(
    tracker: Tracker, project_file: tuple[Path, str, str]
) -> None:
    path, original, at = project_file
    data = yaml.safe_load(original)
    # An open claim if the file has one (the diff is then the new outcome alone), else
    # the last claim, resolved again (the diff is then within its outcome).
    claim = next((c for c in data["claims"] if "outcome" not in c), data["claims"][-1])
    old = claim.get("outcome", {}).get("verdict")
    verdict = {"prediction": "annulled" if old == "ambiguous" else "ambiguous"}.get(
        claim["kind"], "half-true" if old == "unverifiable" else "unverifiable"
    )
    handle = data["reviewers"][0]["handle"]
    note = (
        "Neither outcome can be established from the reports available at the deadline, "
        "so the claim is kept out of the scores."
    )
    tracker.run(
        "resolve", claim["id"], "--verdict", verdict, "--evidence", "https://example.org/report",
        "--note", note, "--by", handle, "--on", at[:10], "--now", at,
    )  # fmt: skip
    tracker.run("export", str(path))
    after = path.read_text(encoding="utf-8")

    # Every line the diff removes or adds lies in the claim's outcome.
    lines = original.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {claim['id']}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("- id:")), len(lines))
    matcher = difflib.SequenceMatcher(None, lines, after.splitlines())
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    assert changes, "the export changed the file"
    if "outcome" in claim:
        outcome = next(i for i in range(start, end) if lines[i].strip() == "outcome:")
        assert all(outcome < i1 and i2 <= end for _, i1, i2, _, _ in changes), diff(original, after)
    else:
        assert len(changes) == 1 and changes[0][1] == changes[0][2] <= end, diff(original, after)
    resolved = yaml.safe_load(after)
    expected = dict(
        data,
        claims=[
            dict(c, outcome=resolved["claims"][i]["outcome"]) if c is claim else c
            for i, c in enumerate(data["claims"])
        ],
    )
    assert resolved == expected, "nothing but the outcome changed"
    assert resolved["claims"][data["claims"].index(claim)]["outcome"] == {
        "verdict": verdict,
        "resolved_on": dt.date.fromisoformat(at[:10]),
        "by": handle,
        "evidence": ["https://example.org/report"],
        "note": note,
    }
    report = tracker.json("import", str(path), "--now", at)
    assert (report["updated"], report["created"], report["new_resolutions"]) == (0, 0, 0)


def test_a_new_claim_is_one_new_entry(tracker: Tracker, project_file: tuple[Path, str, str]) -> None:
    path, original, at = project_file
    data = yaml.safe_load(original)
    source = data["sources"][0]["slug"]
    handle = data["reviewers"][0]["handle"]
    tracker.run(
        "claims", "add", "--id", "zz-export-test-new-claim", "--kind", "prediction", "--source", source,
        "--statement", "The envoy will return to Pyongyang within a year.",
        "--quote", "He \u201cwill be back\u201d, we believe.", "--made-on", "2017-11-16",
        "--confidence", "we believe", "--criteria", "TRUE if Xinhua reports a second visit by the deadline.",
        "--deadline", "2018-11-16", "--tag", "song-tao", "--tag", "china", "--reviewer", handle, "--now", at,
    )  # fmt: skip
    tracker.run("export", str(path))
    after = path.read_text(encoding="utf-8")

    changed = diff(original, after)
    assert hunks(original, after) == 1 and all(line.startswith("+") for line in changed), changed
    entry = yaml.safe_load(textwrap.dedent("\n".join(line[1:] for line in changed)))
    assert isinstance(entry, list) and len(entry) == 1
    assert entry[0]["id"] == "zz-export-test-new-claim" and entry[0]["confidence"] == "we believe"
    assert yaml.safe_load(after)["claims"][:-1] == data["claims"], "appended at the end of the claims"
    report = tracker.json("import", str(path), "--now", at)
    assert (report["updated"], report["created"], report["unchanged"]) == (0, 0, len(data["claims"]) + 1)


def test_a_promise_and_its_progress_export_over_the_project_file(
    tracker: Tracker, project_file: tuple[Path, str, str]
) -> None:
    """A new promise is one appended entry; later progress changes only that entry's progress list."""
    path, original, at = project_file
    data = yaml.safe_load(original)
    source = data["sources"][0]["slug"]
    handle = data["reviewers"][0]["handle"]
    tracker.run(
        "claims", "add", "--id", "zz-export-test-promise", "--kind", "promise", "--source", source,
        "--statement", "The outlet will publish its sources.", "--quote", "We will publish our sources.",
        "--made-on", "2017-11-16", "--criteria", "KEPT if the sources are published by the deadline.",
        "--deadline", "2030-01-01", "--reviewer", handle, "--no-interactive", "--now", at,
    )  # fmt: skip
    tracker.run(
        "progress", "zz-export-test-promise", "in the works", "--evidence", "https://example.org/p1",
        "--note", "A draft list is out.", "--by", handle, "--on", "2018-01-01", "--now", at,
    )  # fmt: skip
    tracker.run("export", str(path))
    first = path.read_text(encoding="utf-8")
    changed = diff(original, first)
    assert hunks(original, first) == 1 and all(line.startswith("+") for line in changed), changed
    (entry,) = yaml.safe_load(textwrap.dedent("\n".join(line[1:] for line in changed)))
    assert entry["kind"] == "promise" and "probability" not in entry
    assert entry["progress"] == [
        {
            "status": "in-the-works",
            "rated_on": dt.date(2018, 1, 1),
            "by": handle,
            "evidence": ["https://example.org/p1"],
            "note": "A draft list is out.",
        }
    ]

    tracker.run(
        "progress", "zz-export-test-promise", "stalled", "--evidence", "https://example.org/p2",
        "--by", handle, "--on", "2019-01-01", "--now", at,
    )  # fmt: skip
    tracker.run("export", str(path))
    second = path.read_text(encoding="utf-8")
    assert all(line.startswith("+") for line in diff(first, second)), diff(first, second)
    assert [p["status"] for p in yaml.safe_load(second)["claims"][-1]["progress"]] == [
        "in-the-works",
        "stalled",
    ]
    assert yaml.safe_load(second)["claims"][:-1] == data["claims"]
    report = tracker.json("import", str(path), "--now", at)
    assert (report["updated"], report["created"], report["new_resolutions"]) == (0, 0, 0)
    tracker.run("export", str(path))
    assert path.read_text(encoding="utf-8") == second


# --- a small file written by hand ---------------------------------------------------------------------

HANDWRITTEN = r"""
# Our claims. This comment must survive.
reviewers:
  - {handle: ann, name: 'Ann Lee', email: ann@example.org}   # the lead

sources:
  - {slug: sino, name: "SinoInsider", kind: outlet}

claims:
  # The first one.
  - id: kim-tones-down
    source: sino
    kind: prediction
    statement: 'Kim will tone down.'
    quote: "Kim shows\u00a0obeisance"
    made_on: 2017-11-16
    probability: 0.90    # a flat assertion
    probability_basis: "our reading of a flat assertion"
    resolution: {criteria: "No ICBM test.", deadline: 2018-01-31}
    tags: [north-korea, china]

  - id: song-visits
    source: sino
    kind: fact
    statement: Song Tao visits.
    quote: Song goes.
    made_on: '2017-11-16'
"""


def test_a_handwritten_file_keeps_its_comments_quotes_and_flow_style(
    tracker: Tracker, write_file: WriteFile
) -> None:
    path = write_file("claims.yaml", HANDWRITTEN)
    original = path.read_text(encoding="utf-8")
    tracker.run("import", str(path), "--now", NOW)
    tracker.run("export", str(path))
    assert path.read_text(encoding="utf-8") == original

    tracker.run(
        "resolve", "kim-tones-down", "--verdict", "false", "--evidence", "https://bbc.com/x",
        "--by", "ann", "--on", "2018-02-01", "--now", NOW,
    )  # fmt: skip
    tracker.run("assign", "kim-tones-down", "ann")
    tracker.run("export", str(path))
    after = path.read_text(encoding="utf-8")
    # New values take the style of their neighbours: flow, like the claim's other lists and mappings.
    assert diff(original, after) == [
        "+    reviewers: [ann]",
        "+    outcome: {verdict: 'false', resolved_on: 2018-02-01, by: ann, evidence: [https://bbc.com/x]}",
    ]
    assert after.index("reviewers: [ann]") < after.index("tags: [north-korea") < after.index("outcome:")
    report = tracker.json("import", str(path), "--now", NOW)
    assert (report["updated"], report["unchanged"], report["new_resolutions"]) == (0, 2, 0)


def test_entries_only_in_the_file_are_kept_and_reported(tracker: Tracker, write_file: WriteFile) -> None:
    path = write_file("claims.yaml", HANDWRITTEN)
    tracker.run("import", str(path), "--now", NOW)
    extra = "\n  - id: not-imported-yet\n    source: sino\n"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    result = tracker.run("export", str(path))
    assert path.read_text(encoding="utf-8") == before
    line = before.splitlines().index("  - id: not-imported-yet") + 1
    assert result.stderr.splitlines() == [
        f"warning: {path}:{line}: claim not-imported-yet: not in the database; kept",
        f"wrote 2 claims to {path}",
    ]


def test_a_file_that_is_not_yaml_is_left_alone_unless_canonical(
    tracker: Tracker, write_file: WriteFile
) -> None:
    tracker.run("import", str(write_file("claims.yaml", HANDWRITTEN)), "--now", NOW)
    broken = write_file("broken.yaml", "# notes\nclaims:\n  - {id: broken\n")
    error = tracker.error("export", str(broken))
    assert error.startswith(f"tracker: error: {broken}:4: invalid YAML: ")
    assert error.endswith("fix it, or export with --canonical to replace the file")
    assert broken.read_text(encoding="utf-8") == "# notes\nclaims:\n  - {id: broken\n"

    tracker.run("export", str(broken), "--canonical")
    assert broken.read_text(encoding="utf-8") == tracker.run("export").stdout
    assert [p.name for p in broken.parent.iterdir() if p.name.startswith(".")] == [], "no temporary file left"


def test_a_new_or_empty_file_gets_the_canonical_layout(tracker: Tracker, write_file: WriteFile) -> None:
    tracker.run("import", str(write_file("claims.yaml", HANDWRITTEN)), "--now", NOW)
    canonical = tracker.run("export").stdout
    empty = write_file("empty.yaml", "")
    tracker.run("export", str(empty))
    assert empty.read_text(encoding="utf-8") == canonical


def test_windows_line_endings_are_kept(tracker: Tracker, write_file: WriteFile) -> None:
    path = write_file("claims.yaml", HANDWRITTEN)
    tracker.run("import", str(path), "--now", NOW)
    original = path.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(original)
    tracker.run("export", str(path))
    assert path.read_bytes() == original
    tracker.run("assign", "kim-tones-down", "ann")
    tracker.run("export", str(path))
    assert b"    reviewers: [ann]\r\n    tags:" in path.read_bytes()


# --- what counts as unchanged (no database needed) -----------------------------------------------------


def merge(
    text: str, reviewers: list[dict[str, Any]], sources: list[dict[str, Any]], claims: list[dict[str, Any]]
) -> str:
    return merge_claims_file(
        textwrap.dedent(text).lstrip("\n"), "claims.yaml", reviewers, sources, claims
    ).text


REVIEWER = {
    "handle": "ann",
    "name": "Ann Lee",
    "email": "ann@example.org",
    "timezone": "UTC",
    "role": "reviewer",
}
SOURCE = {"slug": "sino", "name": "SinoInsider", "kind": "outlet"}


def fact(**fields: Any) -> dict[str, Any]:
    entry = {
        "id": "f1",
        "source": "sino",
        "kind": "fact",
        "statement": "Song Tao visits.",
        "quote": "Song goes.",
        "made_on": dt.date(2017, 11, 16),
        "as_of": dt.date(2017, 11, 16),
    }
    return {**entry, **fields}


def test_values_are_compared_for_what_they_mean() -> None:
    text = """
    reviewers:
    - handle: ann       # timezone and role left to their defaults
      name: "Ann Lee"
      email: ann@example.org
    sources: [{slug: sino, name: SinoInsider, kind: outlet}]
    claims:
    - id: f1
      source: sino
      kind: fact
      statement: >-
        Song Tao
        visits.
      quote: 'Song goes.'
      made_on: '2017-11-16'      # text, not a date
      tags:
      - b
      - a
      reviewers: [ann, ann]
    - id: p1
      source: sino
      kind: prediction
      statement: It will.
      quote: It will.
      made_on: 2017-11-16
      probability: "0.90"
      resolution: {criteria: C., deadline: 2018-01-31}
      outcome: {verdict: false, resolved_on: 2018-02-01, evidence: ['https://x.org/1']}
    """
    prediction = {
        "id": "p1",
        "source": "sino",
        "kind": "prediction",
        "statement": "It will.",
        "quote": "It will.",
        "made_on": dt.date(2017, 11, 16),
        "probability": 0.9,
        "resolution": {"criteria": "C.", "deadline": dt.date(2018, 1, 31)},
        "outcome": {"verdict": "false", "resolved_on": dt.date(2018, 2, 1), "evidence": ["https://x.org/1"]},
    }
    claims = [fact(tags=["a", "b"], reviewers=["ann"]), prediction]
    assert merge(text, [REVIEWER], [SOURCE], claims) == textwrap.dedent(text).lstrip("\n")


def test_a_shared_article_is_updated_once_and_stays_shared() -> None:
    text = """
    claims:
    - id: f1
      source: sino
      kind: fact
      statement: Song Tao visits.
      quote: Song goes.
      appeared_in: &article
        url: https://x.org/a
        title: Old title
      made_on: 2017-11-16
    - id: f2
      source: sino
      kind: fact
      statement: Song Tao visits.
      quote: Song goes.
      appeared_in: *article
      made_on: 2017-11-16
    """
    article = {"url": "https://x.org/a", "title": "New title"}
    merged = merge(text, [], [], [fact(appeared_in=article), fact(id="f2", appeared_in=article)])
    assert diff(textwrap.dedent(text).lstrip("\n"), merged) == [
        "-    title: Old title",
        "+    title: New title",
    ]


def test_a_changed_long_text_is_folded_like_the_one_it_replaces() -> None:
    text = """
    sources:
      - slug: sino
        name: SinoInsider
        kind: outlet
        notes: >-
          A newsletter on Chinese elite politics, whose analysis rests on
          factional struggle.
    """
    notes = (
        "A newsletter on Chinese elite politics. Its analysis rests on factional struggle, and its items "
        "carry no byline until later in the decade."
    )
    merged = merge(text, [], [{**SOURCE, "notes": notes}], [])
    # No line longer than the old text's longest (63 characters).
    assert merged.splitlines()[4:] == [
        "    notes: >-",
        "      A newsletter on Chinese elite politics. Its analysis rests on",
        "      factional struggle, and its items carry no byline until later",
        "      in the decade.",
    ]
    assert yaml.safe_load(merged)["sources"][0]["notes"] == notes


def test_removed_values_go_and_the_blank_line_after_an_entry_stays() -> None:
    text = """
    sources:
      - slug: sino
        name: SinoInsider
        kind: outlet
        notes: >-
          Gone soon.

      - slug: nyt
        name: NYT
        kind: outlet
    """
    nyt = {"slug": "nyt", "name": "NYT", "kind": "outlet"}
    new = {"slug": "wp", "name": "A blog", "kind": "outlet", "url": "https://wp.example.org"}
    merged = merge(text, [], [SOURCE, nyt, new], [])
    assert merged == textwrap.dedent(
        """\
        sources:
          - slug: sino
            name: SinoInsider
            kind: outlet

          - slug: nyt
            name: NYT
            kind: outlet

          - slug: wp
            name: A blog
            kind: outlet
            url: https://wp.example.org
        """
    )


def test_an_edit_saved_during_the_export_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text("claims: []\n", encoding="utf-8")
    read = path.read_bytes()
    path.write_text("claims: []  # saved by a teammate meanwhile\n", encoding="utf-8")

    with pytest.raises(TrackerError, match="changed while it was being exported; nothing written"):
        _replace_unless_changed(path, "claims: [exported]\n", "\n", read)
    assert path.read_text(encoding="utf-8") == "claims: []  # saved by a teammate meanwhile\n"
    assert [p.name for p in tmp_path.iterdir()] == ["claims.yaml"], "no temporary file left behind"

    _replace_unless_changed(path, "claims: [exported]\n", "\r\n", path.read_bytes())
    assert path.read_bytes() == b"claims: [exported]\r\n"
