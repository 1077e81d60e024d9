"""`tracker resolve` under double review, `tracker adjudicate`, blind `claims show`, and
`tracker reviewers agreement`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score
from support.cli import Tracker

NOW = "2026-11-23T12:00:00+00:00"
EVIDENCE = "https://example.org/evidence"
SECRET_NOTE = "ada's reasons, not for bob's eyes"


def _claim(t: Tracker, key: str, *extra: str) -> None:
    t.run(
        "claims", "add", "--id", key, "--kind", "prediction", "--source", "sino",
        "--statement", f"Statement {key}.", "--quote", f"It is likely: {key}.", "--made-on", "2026-01-05",
        "--confidence", "likely", "--criteria", "TRUE if it happens.", "--deadline", "2026-06-30",
        "--now", NOW, *extra,
    )  # fmt: skip


@pytest.fixture
def two(db_url: str, tmp_path: Path) -> Tracker:
    """Two verdicts required (from the environment), three reviewers and an admin."""
    config = tmp_path / "tracker-test.toml"
    config.write_text("")  # keeps a developer's ./tracker.toml out of the test
    t = Tracker(db_url, config)
    t.env["TRACKER_REVIEW_VERDICTS_REQUIRED"] = "2"
    t.run("sources", "add", "sino", "--name", "SinoInsider")
    for handle in ("ada", "bob", "cy"):
        t.run("reviewers", "add", handle, "--name", handle.title(), "--email", f"{handle}@example.org")
    t.run("reviewers", "add", "boss", "--name", "Boss", "--email", "boss@example.org", "--role", "admin")
    _claim(t, "c1")
    return t


def _resolve(t: Tracker, key: str, verdict: str, by: str, *extra: str) -> str:
    args = ("resolve", key, "--verdict", verdict, "--evidence", EVIDENCE, "--by", by, "--now", NOW, *extra)
    return str(t.run(*args).stdout.strip())


def test_resolve_says_what_each_verdict_did_and_the_first_is_blind(two: Tracker) -> None:
    said = _resolve(two, "c1", "true", "ada", "--note", SECRET_NOTE)
    assert said == "first of two verdicts recorded on c1; awaiting a second from another reviewer"
    # Blind: without --as, or as bob, the first verdict and its note are not shown.
    for viewer in ((), ("--as", "bob")):
        detail = two.json("claims", "show", "c1", *viewer)
        assert (detail["status"], detail["verdict"], detail["resolutions"]) == ("awaiting", None, [])
        text = two.run("claims", "show", "c1", *viewer).stdout
        assert "awaiting" in text and SECRET_NOTE not in text and "Verdict history" not in text
    assert [c["key"] for c in two.json("claims", "list", "--status", "awaiting")] == ["c1"]
    assert two.json("claims", "list", "--status", "open") == []
    mine = two.json("claims", "show", "c1", "--as", "ada")["resolutions"]
    assert [(r["verdict"], r["role"], r["note"]) for r in mine] == [("true", "first", SECRET_NOTE)]
    assert "nobody" in two.error("claims", "show", "c1", "--as", "nobody")

    assert "ada gave the first verdict" in two.error(
        "resolve", "c1", "--verdict", "true", "--evidence", EVIDENCE, "--by", "ada", "--now", NOW
    )
    assert (
        _resolve(two, "c1", "false", "bob")
        == "disputed: ada said true, bob said false; c1 waits for an admin to adjudicate"
    )
    assert "the claim is disputed" in two.error(
        "resolve", "c1", "--verdict", "true", "--evidence", EVIDENCE, "--by", "cy", "--now", NOW
    )
    assert "not an admin" in two.error("adjudicate", "c1", "true", "--note", "x", "--by", "cy", "--now", NOW)
    adjudicated = two.json(
        "adjudicate", "c1", "false", "--note", "The record says no.", "--evidence", EVIDENCE, "--by", "boss",
        "--now", NOW,
    )  # fmt: skip
    assert (adjudicated["status"], adjudicated["role"], adjudicated["verdict"]) == (
        "resolved",
        "adjudication",
        "false",
    )
    history = two.json("claims", "show", "c1")["resolutions"]
    assert [(r["verdict"], r["role"], r["by"]) for r in history] == [
        ("true", "first", "ada"),
        ("false", "second", "bob"),
        ("false", "adjudication", "boss"),
    ]
    text = two.run("claims", "show", "c1").stdout
    assert "true (first of two verdicts)  by ada" in text and "false (adjudication)  by boss" in text


def test_agreeing_verdicts_resolve_and_a_tag_override_asks_for_one(two: Tracker) -> None:
    _resolve(two, "c1", "true", "ada")
    assert _resolve(two, "c1", "true", "bob") == "resolved c1: true (agreeing with ada)"
    _claim(two, "quick", "--tag", "sport")
    two.env["TRACKER_REVIEW_VERDICTS_REQUIRED_TAGS"] = "{sport = 1}"
    assert _resolve(two, "quick", "true", "ada") == "resolved quick: true"


def test_adjudicate_needs_a_note(two: Tracker) -> None:
    result = two.run("adjudicate", "c1", "true", "--by", "boss", "--now", NOW, code=2)
    assert "Missing option '--note'" in result.stderr


def test_reviewers_agreement_per_reviewer_overall_and_kappa(two: Tracker) -> None:
    assert "no double-reviewed claims yet" in two.run("reviewers", "agreement").stdout
    verdicts = [("true", "true"), ("true", "false"), ("false", "false"), ("false", "false"), ("true", "true")]
    reviewers = [("ada", "bob"), ("ada", "cy"), ("bob", "cy"), ("cy", "ada"), ("bob", "ada")]
    for i, ((first, second), (a, b)) in enumerate(zip(verdicts, reviewers, strict=True)):
        _claim(two, f"k{i}")
        _resolve(two, f"k{i}", first, a)
        _resolve(two, f"k{i}", second, b)
    _claim(two, "pending")
    _resolve(two, "pending", "true", "ada")  # awaiting: not a double review yet
    figures = two.json("reviewers", "agreement")
    assert figures["overall"] == {"n": 5, "agreed": 4, "share": 0.8}
    assert figures["reviewers"]["ada"] == {"n": 4, "agreed": 3, "share": 0.75}
    assert figures["reviewers"]["bob"] == {"n": 3, "agreed": 3, "share": 1.0}
    assert figures["reviewers"]["cy"] == {"n": 3, "agreed": 2, "share": 2 / 3}
    expected = cohen_kappa_score([f for f, _ in verdicts], [s for _, s in verdicts])
    assert figures["kappa"] == {"prediction": {"n": 5, "kappa": pytest.approx(expected)}}
    text = two.run("reviewers", "agreement").stdout
    assert "4 of 5 agreed (80%)" in text and f"{expected:.3f} (n = 5)" in text
