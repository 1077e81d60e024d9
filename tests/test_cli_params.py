"""Option values as typed on the command line: verdict words, free text, addresses (tracker.cli.params)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import Tracker

NOW = "2026-11-23T12:00:00+00:00"


@pytest.fixture
def tracker(db_url: str, tmp_path: Path) -> Tracker:
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    t = Tracker(db_url, config)
    t.run("reviewers", "add", "ann", "--name", "Ann Lee", "--email", "ann@example.org")
    t.run("sources", "add", "daily", "--name", "The Daily")
    for key, kind in (("rates-fall", "prediction"), ("rates-fell", "fact")):
        extra = ["--confidence", "likely", "--criteria", "Reported.", "--deadline", "2026-11-20"]
        t.run(
            "claims", "add", "--no-interactive", "--id", key, "--kind", kind, "--source", "daily",
            "--statement", "Rates fall.", "--quote", "Rates will likely fall.", "--made-on", "2026-11-01",
            *(extra if kind == "prediction" else []),
        )  # fmt: skip
    return t


def usage_error(t: Tracker, *args: str) -> str:
    """A refused option: one line on stderr, exit 2, never an 'unexpected' error."""
    line = t.error(*args, code=2)
    assert "unexpected" not in line
    return line


# --- verdict words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "typed", "stored"),
    [
        ("rates-fall", "FALSE", "false"),
        ("rates-fall", " Annulled ", "annulled"),
        ("rates-fell", "mostly true", "mostly-true"),
        ("rates-fell", "mostly_true", "mostly-true"),
        ("rates-fell", "Half-True", "half-true"),
    ],
)
def test_verdict_words_in_any_case_and_spelling(
    tracker: Tracker, claim: str, typed: str, stored: str
) -> None:
    evidence = [] if stored == "annulled" else ["--evidence", "https://example.org/news"]
    out = tracker.run("resolve", claim, "--verdict", typed, *evidence, "--by", "ann", "--now", NOW).stdout
    assert out == f"resolved {claim}: {stored}\n"
    assert tracker.json("claims", "show", claim)["verdict"] == stored


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("flase", "did you mean 'false'?"),
        ("mostly-treu", "did you mean 'mostly-true'?"),
        ("nope", "one of true,"),
    ],
)
def test_a_verdict_typo_suggests_the_nearest_word(tracker: Tracker, typed: str, hint: str) -> None:
    line = usage_error(tracker, "resolve", "rates-fall", "--verdict", typed, "--by", "ann", "--now", NOW)
    assert f"'{typed}' is not a verdict" in line and hint in line
    assert tracker.json("claims", "show", "rates-fall")["verdict"] is None


# --- free text and addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "where", "what"),
    [
        (("claims", "add", "--statement", "Kim \x1b[31m will"), "--statement", "U+001B"),
        (("claims", "add", "--quote", "nul\x00"), "--quote", "U+0000"),
        (("claims", "add", "--title", "two\nlines"), "--title", "U+000A, newline"),
        (("claims", "add", "--statement", "odd \ufffe"), "--statement", "U+FFFE"),
        (("reviewers", "add", "bo", "--name", "Bo\x01", "--email", "bo@example.org"), "--name", "U+0001"),
        (("sources", "add", "wire", "--name", "Wire", "--notes", "bell\x07"), "--notes", "U+0007"),
    ],
)
def test_control_characters_are_refused(
    tracker: Tracker, args: tuple[str, ...], where: str, what: str
) -> None:
    line = usage_error(tracker, *args)
    assert f"'{where}'" in line and f"control character ({what}" in line


def test_a_note_may_hold_tabs_and_newlines(tracker: Tracker) -> None:
    tracker.run(
        "resolve", "rates-fall", "--verdict", "annulled", "--note", "one\n\ttwo", "--by", "ann", "--now", NOW
    )
    [entry] = tracker.json("claims", "show", "rates-fall")["resolutions"]
    assert entry["note"] == "one\n\ttwo"


@pytest.mark.parametrize(
    ("args", "where", "limit"),
    [
        (("reviewers", "add", "bo", "--email", "bo@example.org", "--name", "B" * 301), "--name", "300"),
        (("sources", "add", "wire", "--name", "W" * 301), "--name", "300"),
        (("claims", "add", "--confidence", "very " * 41), "--confidence", "200"),
        (("claims", "add", "--title", "T" * 1001), "--title", "1,000"),
    ],
)
def test_text_longer_than_its_column_is_refused_on_every_backend(
    tracker: Tracker, args: tuple[str, ...], where: str, limit: str
) -> None:
    line = usage_error(tracker, *args)
    assert f"'{where}'" in line and f"the limit is {limit}" in line


@pytest.mark.parametrize("address", ["<script>x</script>@example.org", "bo@example", "bo@exämple.org"])
def test_false_addresses_are_refused(tracker: Tracker, address: str) -> None:
    line = usage_error(tracker, "reviewers", "add", "bo", "--name", "Bo", "--email", address)
    assert f"{address!r} is not" in line
    assert [r["handle"] for r in tracker.json("reviewers", "list")] == ["ann"]
