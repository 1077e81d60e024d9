"""The `tracker` command, end to end on a real database: output, JSON, exit codes and errors."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from support.cli import Tracker

from tracker import services
from tracker.cli import cli, main
from tracker.cli.files import DelayedProgress
from tracker.cli.output import WIDTH, Column, table, text_width, truncate
from tracker.migrations import head_revision

NOW = "2026-11-23T12:00:00+00:00"
WriteFile = Callable[[str, str], Path]


def fits(text: str) -> None:
    """Every line fits an 80-column terminal (URLs, which must stay whole, excepted)."""
    for line in text.splitlines():
        assert "://" in line or text_width(line) <= WIDTH, f"{text_width(line)} columns: {line!r}"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    # An empty config file keeps a developer's ./tracker.toml out of the tests.
    path = tmp_path / "tracker-test.toml"
    path.write_text("")
    return path


@pytest.fixture
def tracker(db_url: str, config: Path) -> Tracker:
    return Tracker(db_url, config)


@pytest.fixture
def fresh(empty_db_url: str, config: Path) -> Tracker:
    """A tracker whose database has no schema."""
    return Tracker(empty_db_url, config)


LONG = (
    "North Korea will conduct no nuclear test, no ICBM test and no satellite launch for the whole of "
    "the period between the envoy's visit and the end of the following June"
)
KOREAN = "김정은 위원장은 시진핑 주석의 특사가 방문한 뒤에 미국에 대한 발언의 수위를 낮출 것이다" * 2


def add_prediction(t: Tracker, key: str, source: str, deadline: str, *extra: str) -> None:
    # The source's words must be in its quote (the claims file's rule, which `claims add` applies).
    words = extra[extra.index("--confidence") + 1] if "--confidence" in extra else "we believe"
    quote = f"{key}, we believe." if words == "we believe" else f"{key}, we believe: it {words} happen."
    t.run(
        "claims", "add", "--id", key, "--kind", "prediction", "--source", source,
        "--statement", f"{key} will happen.", "--quote", quote,
        "--made-on", "2017-11-16", "--criteria", f"Reported by a major outlet that {key} happened.",
        "--deadline", deadline, "--now", NOW, *extra,
    )  # fmt: skip


@pytest.fixture
def seeded(tracker: Tracker) -> Tracker:
    """Sources, reviewers and claims that the filters can tell apart, added through the CLI."""
    t = tracker
    t.run("sources", "add", "sino", "--name", "SinoInsider", "--url", "https://sinoinsider.com")
    t.run("sources", "add", "analyst", "--name", "An Analyst", "--kind", "person", "--member-of", "sino")
    t.run("sources", "add", "nyt", "--name", "The New York Times Editorial Board")
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
    t.run("reviewers", "add", "bo", "--name", "Bo Park", "--email", "bo@example.org", "--role", "admin")
    add_prediction(
        t, "kim-tones-down", "sino", "2018-01-31", "--confidence", "we believe", "--timezone", "Asia/Seoul",
        "--tag", "north-korea", "--tag", "china", "--reviewer", "ann",
        "--url", "https://sinoinsider.com/a", "--title", "Trump Hints at Xi's Motive",
    )  # fmt: skip
    add_prediction(
        t,
        "xi-meets-kim",
        "analyst",
        "2026-12-31",
        "--probability",
        "0.3",
        "--probability-basis",
        "It said 30%.",
        "--tag",
        "china",
    )
    add_prediction(t, "no-tests-till-june", "nyt", "2027-06-30", "--confidence", "might", "--statement", LONG)
    add_prediction(
        t, "kim-tones-down-ko", "nyt", "2027-06-30", "--confidence", "likely", "--statement", KOREAN
    )
    t.run(
        "claims", "add", "--id", "song-tao-visited", "--kind", "fact", "--source", "nyt",
        "--statement", "Song Tao visited Pyongyang in November 2017.", "--quote", "Song Tao went to Pyongyang.",
        "--made-on", "2017-11-16", "--now", NOW,
    )  # fmt: skip
    return t


def listed(t: Tracker, *filters: str) -> list[str]:
    return [c["key"] for c in t.json("claims", "list", "--now", NOW, *filters)]


# --- help, version, usage -------------------------------------------------------------------------


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_help_everywhere_fits_80_columns() -> None:
    paths = list(_command_paths(cli))
    assert len(paths) >= 20
    for path in paths:
        result = CliRunner().invoke(cli, [*path, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, path
        assert "Usage: tracker" in result.stdout
        fits(result.stdout)


def test_every_data_command_takes_json() -> None:
    without = {
        ("export",),
        ("assign",),
        ("unassign",),
        ("db",),
        ("sources",),
        ("reviewers",),
        ("claims",),
        ("reminders",),
        # Servers that run until stopped, and a password prompt: no data to print.
        ("up",),
        ("serve",),
        ("reviewers", "set-password"),
        (),
    }
    for path in _command_paths(cli):
        if path in without:
            continue
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert "--json" in result.stdout, path


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "tracker" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["claims", "lst"],
        ["claims", "list", "--status", "closed"],
        ["claims", "list", "--due-before", "next week"],
        ["claims", "list", "--now", "noon"],
        ["resolve", "some-claim", "--verdict", "true"],
        ["reviewers", "add", "x", "--name", "X", "--email", "x@example.org", "--role", "boss"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2_with_one_line(tracker: Tracker, args: list[str]) -> None:
    line = tracker.error(*args, code=2)
    assert "--help" in line


def test_main_exits_with_the_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["tracker", "--help"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 0
    monkeypatch.setattr("sys.argv", ["tracker", "claims", "list", "--kind", "rumour"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("tracker: error: Invalid value for '--kind'")


# --- init and db ----------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["claims", "list"], ["sources", "list"], ["reviewers", "list"], ["export"]])
def test_an_uninitialised_database_says_to_run_init(fresh: Tracker, args: list[str]) -> None:
    assert "run `tracker init`" in fresh.error(*args)


def test_init_creates_the_schema_and_is_idempotent(fresh: Tracker) -> None:
    assert "has no schema" in fresh.run("db", "current").stdout
    assert fresh.json("db", "current")["revision"] is None
    assert fresh.run("init").stdout.startswith("initialised database ")
    assert "is already at" in fresh.run("init").stdout
    status = fresh.json("init")
    assert (status["revision"], status["previous"], status["is_head"]) == (
        head_revision(),
        head_revision(),
        True,
    )
    assert fresh.run("db", "current").stdout.strip() == f"{head_revision()} (head)"
    assert fresh.run("claims", "list").stdout.strip() == "no claims match"


def test_init_refuses_a_sqlite_file_in_a_missing_folder(tmp_path: Path, config: Path) -> None:
    path = tmp_path / "deep" / "er" / "tracker.db"
    t = Tracker(f"sqlite:///{path}", config)
    t.error("claims", "list")
    t.run("db", "current")
    assert not path.parent.exists(), "reading must not create the database"
    # A typo in the path must not become a tree of new folders: the first missing one is named.
    assert t.error("init").endswith(f"folder {tmp_path / 'deep'} does not exist; create it, or fix the path")
    assert not (tmp_path / "deep").exists()
    (tmp_path / "deep" / "er").mkdir(parents=True)
    t.run("init")
    assert path.is_file()


def test_downgrade_needs_confirmation_then_upgrade_restores(tracker: Tracker) -> None:
    assert "--yes" in tracker.error("db", "downgrade")
    tracker.run("db", "downgrade", "base", "--yes")
    assert tracker.json("db", "current")["revision"] is None
    assert "has no schema" in tracker.error("claims", "list")
    assert "no schema to downgrade" in tracker.error("db", "downgrade", "--yes")
    result = tracker.json("db", "upgrade")
    assert (result["previous"], result["revision"]) == (None, head_revision())
    assert "stays at" in tracker.run("db", "upgrade").stdout
    assert "cannot upgrade to 'nope'" in tracker.error("db", "upgrade", "nope")


# --- reviewers and sources ------------------------------------------------------------------------


def test_reviewers_add_and_list(tracker: Tracker) -> None:
    tracker.run(
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
    added = tracker.json(
        "reviewers", "add", "bo", "--name", "Bo Park", "--email", "bo@example.org", "--role", "admin"
    )
    assert added == {
        "handle": "bo",
        "name": "Bo Park",
        "email": "bo@example.org",
        "timezone": "UTC",
        "role": "admin",
        "subscribed": False,
    }
    assert [r["handle"] for r in tracker.json("reviewers", "list")] == ["ann", "bo"]
    text = tracker.run("reviewers", "list").stdout
    assert text.splitlines()[0].split() == ["HANDLE", "ROLE", "TIMEZONE", "EMAIL", "NAME"]
    fits(text)
    assert "already exists" in tracker.error(
        "reviewers", "add", "ann", "--name", "A", "--email", "a@example.org"
    )
    assert "unknown timezone" in tracker.error(
        "reviewers", "add", "cy", "--name", "Cy", "--email", "cy@example.org", "--timezone", "Asia/Seol"
    )


def test_sources_add_and_list(seeded: Tracker) -> None:
    sources = {s["slug"]: s for s in seeded.json("sources", "list")}
    assert sources["analyst"]["member_of"] == "sino"
    assert (sources["sino"]["claims"], sources["nyt"]["claims"]) == (1, 3)
    text = seeded.run("sources", "list").stdout
    fits(text)
    assert "The New York Times Editorial Board" in text
    assert "did you mean 'sino'" in seeded.error("sources", "add", "x", "--name", "X", "--member-of", "sin")


def test_empty_lists_say_so(tracker: Tracker) -> None:
    assert "no sources yet" in tracker.run("sources", "list").stdout
    assert "no reviewers yet" in tracker.run("reviewers", "list").stdout
    assert tracker.json("claims", "list") == []


# --- claims add -----------------------------------------------------------------------------------


def test_claims_add_prints_the_claim(seeded: Tracker) -> None:
    added = seeded.json(
        "claims", "add", "--id", "xi-visits", "--kind", "prediction", "--source", "sino",
        "--statement", "Xi will visit Pyongyang in 2018.", "--quote", "Xi will go.", "--made-on", "2017-11-16",
        "--criteria", "Xinhua reports Xi in Pyongyang.", "--deadline", "2018-12-31", "--confidence", "will",
        "--tag", "china", "--reviewer", "bo", "--reviewer", "ann", "--now", NOW,
    )  # fmt: skip
    assert added["probability"] == 0.97
    assert (added["confidence"], added["reviewers"], added["tags"]) == ("will", ["ann", "bo"], ["china"])
    assert seeded.run(
        "claims", "add", "--id", "f2", "--kind", "fact", "--source", "nyt", "--statement", "S.",
        "--quote", "Q.", "--made-on", "2017-11-16", "--now", NOW,
    ).stdout == "added fact f2\n"  # fmt: skip


def test_claims_add_applies_the_claims_files_rules_on_likelihood(seeded: Tracker) -> None:
    """Unstated is said, a bare number says where it comes from, and the words are the quote's."""
    base = (
        "claims", "add", "--kind", "prediction", "--source", "sino", "--statement", "Xi will go.",
        "--made-on", "2017-11-16", "--criteria", "Xinhua reports it.", "--deadline", "2018-12-31", "--now", NOW,
    )  # fmt: skip
    test = seeded.json(*base, "--id", "test-of-analysis", "--quote", "Kim will bow to Xi.", "--unstated")
    assert (test["probability"], seeded.json("claims", "show", "test-of-analysis")["scored"]) == (None, False)
    line = seeded.error(*base, "--id", "bare", "--quote", "Xi will go.", "--probability", "0.8")
    assert "a bare probability needs probability_basis" in line
    basis = "A 4-in-5 chance, in the article's table."
    bare = seeded.json(
        *base, "--id", "bare", "--quote", "Xi will go.", "--probability", "0.8", "--probability-basis", basis
    )
    assert (bare["probability"], seeded.json("claims", "show", "bare")["probability_basis"]) == (0.8, basis)
    line = seeded.error(*base, "--id", "borrowed", "--quote", "Xi will go.", "--confidence", "likely")
    assert "'likely' does not occur in the quote; the words must be the source's" in line


def test_claims_add_without_a_terminal_lists_the_missing_flags(seeded: Tracker) -> None:
    line = seeded.error("claims", "add", "--id", "x", code=2)
    assert "missing --kind, --source, --statement, --quote, --made-on, --criteria, --deadline" in line
    assert "--probability, --confidence or --unstated" in line
    line = seeded.error("claims", "add", "--id", "x", "--kind", "fact", code=2)
    assert "--criteria" not in line and "--source" in line


def test_claims_add_rejections_are_one_line(seeded: Tracker) -> None:
    line = seeded.error(
        "claims", "add", "--id", "kim-tones-down", "--kind", "prediction", "--source", "sion",
        "--statement", "S.", "--quote", "Q.", "--made-on", "2017-11-16", "--criteria", "C.",
        "--deadline", "2017-01-01", "--probability", "1.5", "--now", NOW,
    )  # fmt: skip
    for part in ("already exists", "(did you mean 'sino'?)", "before made_on", "outside [0, 1]"):
        assert part in line
    line = seeded.error(
        "claims", "add", "--id", "f2", "--kind", "fact", "--source", "nyt", "--statement", "S.",
        "--quote", "Q.", "--made-on", "2017-11-16", "--title", "Orphan title", code=2,
    )  # fmt: skip
    assert "give its --url too" in line


def test_claims_add_prompts_for_what_is_missing(seeded: Tracker) -> None:
    answers = [
        "xi-visits",
        "prediction",
        "sino",
        "Xi will visit Pyongyang in 2018.",
        "Xi will very likely go.",
        "not a date",  # asked again
        "2017-11-16",
        "Xinhua reports Xi in Pyongyang.",
        "2018-12-31",
        "very likely",
        "",  # no article
        "",  # no tags
        "",  # no reviewers
    ]
    result = seeded.run("claims", "add", "--interactive", "--now", NOW, input="\n".join(answers) + "\n")
    assert "Deadline (YYYY-MM-DD)" in result.stdout
    assert "is not a date" in result.output
    claim = seeded.json("claims", "show", "xi-visits")
    assert (claim["confidence"], claim["probability"], claim["deadline"]) == (
        "very likely",
        0.875,
        "2018-12-31",
    )


def test_claims_add_prompts_only_for_a_facts_fields(seeded: Tracker) -> None:
    answers = ["fact", "nyt", "Song Tao met Choe Ryong Hae.", "Song met Choe.", "", "", ""]
    result = seeded.run(
        "claims", "add", "--id", "song-met-choe", "--made-on", "2017-11-17", "--interactive", "--now", NOW,
        input="\n".join(answers) + "\n",
    )  # fmt: skip
    assert "Deadline" not in result.stdout and "Probability" not in result.stdout
    assert seeded.json("claims", "show", "song-met-choe")["as_of"] == "2017-11-17"


def test_claims_add_checks_each_answer_as_it_is_typed(seeded: Tracker) -> None:
    answers = [
        "kim-tones-down",  # taken
        "Xi Visits",  # not an id
        "xi-visits",
        "guess",
        "prediction",
        "sinoo",  # a typo: the nearest slug is suggested
        "sino",
        "Xi will \x1b visit.",  # a control character
        "Xi will visit Pyongyang in 2018.",
        "  ",  # required: asked again
        "Xi will very likely go.",
        "2071-11-16",  # in the future
        "2017-11-16",
        "Xinhua reports Xi in Pyongyang.",
        "2017-01-01",  # before made_on
        "2018-12-31",
        "1.5",
        "very likley",
        "probably",  # on the scale, but not the source's words
        "very likely",
        "sinoinsider.com/xi",  # not an absolute URL
        "https://sinoinsider.com/xi",
        "Xi to Pyongyang",
        "",  # no author
        "16/11/2017",
        "2017-11-16",
        "North Korea",  # not a tag
        "north-korea, china",
        "ann, zed",  # zed is no reviewer
        "ann bo",
    ]
    result = seeded.run("claims", "add", "--interactive", "--now", NOW, input="\n".join(answers) + "\n")
    for problem in (
        "Error: claim 'kim-tones-down' already exists",
        "Error: id 'Xi Visits' may hold only lowercase letters",
        "Error: 'guess' is not one of 'prediction', 'fact', 'promise'.",
        "(did you mean 'sino'?)",
        "Error: contains a control character (U+001B) at position 9",
        "Error: an answer is required",
        "Error: made_on 2071-11-16 is in the future",
        "Error: deadline 2017-01-01 is before made_on 2017-11-16",
        "Error: probability 1.5 is outside [0, 1]",
        "did you mean 'very likely'?",
        "Error: 'probably' does not occur in the quote",
        "Error: 'sinoinsider.com/xi' is not an absolute http(s) URL",
        "Error: '16/11/2017' is not a date",
        "Error: tag 'North Korea' may hold only",
        "reviewer 'zed'",
    ):
        assert problem in result.output, problem
    assert "unexpected" not in result.output
    claim = seeded.json("claims", "show", "xi-visits")
    assert claim["statement"] == "Xi will visit Pyongyang in 2018."
    assert claim["appearance"] == {
        "url": "https://sinoinsider.com/xi",
        "title": "Xi to Pyongyang",
        "author": None,
        "published": "2017-11-16",
    }
    assert sorted(claim["tags"]) == ["china", "north-korea"]
    assert claim["reviewers"] == ["ann", "bo"]
    assert "no reviewer" not in result.stderr


def test_claims_add_warns_when_no_one_reviews_the_claim(seeded: Tracker) -> None:
    result = seeded.run(
        "claims", "add", "--id", "f3", "--kind", "fact", "--source", "nyt", "--statement", "S.",
        "--quote", "Q.", "--made-on", "2017-11-16", "--now", NOW,
    )  # fmt: skip
    assert result.stdout == "added fact f3\n"
    assert result.stderr == (
        "warning: claim f3 has no reviewer, so no one will be reminded of it; "
        "assign one with `tracker assign f3 HANDLE`\n"
    )
    answers = ["fact", "nyt", "S.", "Q.", "", "", ""]
    result = seeded.run(
        "claims", "add", "--id", "f4", "--made-on", "2017-11-17", "--interactive", "--now", NOW,
        input="\n".join(answers) + "\n",
    )  # fmt: skip
    assert "warning: claim f4 has no reviewer" in result.stderr


def test_claims_add_asks_only_what_the_flags_left_out(seeded: Tracker) -> None:
    result = seeded.run(
        "claims", "add", "--id", "f5", "--kind", "fact", "--source", "nyt", "--statement", "S.",
        "--quote", "Q.", "--made-on", "2017-11-16", "--url", "https://nyt.com/x", "--tag", "media",
        "--reviewer", "ann", "--interactive", "--now", NOW, input="",
    )  # fmt: skip
    assert result.stdout == "added fact f5\n"


# --- claims list and show -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            [],
            ["kim-tones-down", "xi-meets-kim", "kim-tones-down-ko", "no-tests-till-june", "song-tao-visited"],
        ),
        (["--source", "sino"], ["kim-tones-down", "xi-meets-kim"]),
        (["--source", "analyst"], ["xi-meets-kim"]),
        (["--kind", "fact"], ["song-tao-visited"]),
        (["--status", "overdue"], ["kim-tones-down"]),
        (["--status", "resolved"], []),
        (["--due-before", "2027-01-01"], ["kim-tones-down", "xi-meets-kim"]),
        (["--tag", "china"], ["kim-tones-down", "xi-meets-kim"]),
        (
            ["--tag", "china", "--status", "open", "--kind", "prediction", "--source", "analyst"],
            ["xi-meets-kim"],
        ),
    ],
)
def test_claims_list_filters(seeded: Tracker, filters: list[str], expected: list[str]) -> None:
    assert listed(seeded, *filters) == expected


def test_overdue_depends_on_now(seeded: Tracker) -> None:
    assert listed(seeded, "--status", "overdue", "--now", "2027-01-01T00:00:00Z") == [
        "kim-tones-down",
        "xi-meets-kim",
    ]
    # Ann's claim is read in Seoul: its 2018-01-31 ended at 15:00 UTC that day.
    assert listed(seeded, "--status", "overdue", "--now", "2018-01-31T14:59:00+00:00") == []
    assert listed(seeded, "--status", "overdue", "--now", "2018-01-31T15:00:00+00:00") == ["kim-tones-down"]


def test_claims_list_json_has_the_current_verdict(seeded: Tracker) -> None:
    claims = {c["key"]: c for c in seeded.json("claims", "list")}
    assert set(claims["kim-tones-down"]) >= {
        "key", "kind", "source", "statement", "probability", "confidence",
        "deadline", "status", "verdict", "tags", "reviewers",
    }  # fmt: skip
    assert claims["kim-tones-down"]["tags"] == ["china", "north-korea"]
    assert claims["no-tests-till-june"]["probability"] is None
    seeded.run(
        "resolve", "kim-tones-down", "--verdict", "false", "--by", "ann",
        "--evidence", "https://www.bbc.com/news/world-asia-42170365", "--now", NOW,
    )  # fmt: skip
    claim = {c["key"]: c for c in seeded.json("claims", "list")}["kim-tones-down"]
    assert (claim["status"], claim["verdict"]) == ("resolved", "false")


def test_claims_list_is_an_aligned_table_within_80_columns(seeded: Tracker) -> None:
    text = seeded.run("claims", "list", "--now", NOW).stdout
    fits(text)
    lines = text.splitlines()
    assert lines[0].split() == ["ID", "KIND", "DUE", "P", "STATUS"]
    row = lines.index(next(line for line in lines if line.startswith("kim-tones-down ")))
    assert lines[row].split() == ["kim-tones-down", "pred", "2018-01-31", "0.675", "overdue"]
    assert lines[row].index("2018-01-31") == lines[0].index("DUE")
    assert lines[row + 1] == "  sino: kim-tones-down will happen."
    long_row = next(line for line in lines if line.startswith("  nyt: North Korea will"))
    assert WIDTH - 2 <= text_width(long_row) <= WIDTH and long_row.endswith("…")
    korean_row = next(line for line in lines if line.startswith("  nyt: 김정은"))
    assert WIDTH - 2 <= text_width(korean_row) <= WIDTH and korean_row.endswith("…")


def test_ids_too_long_for_the_column_get_a_line_of_their_own(seeded: Tracker) -> None:
    key = "a-very-long-claim-id-that-could-never-fit-beside-the-other-columns"
    add_prediction(
        seeded, key, "nyt", "2027-01-31", "--probability", "0.5", "--probability-basis", "It said even odds."
    )
    lines = seeded.run("claims", "list").stdout.splitlines()
    fits("\n".join(lines))
    at = lines.index(key)
    assert lines[at + 1].split() == ["pred", "2027-01-31", "0.5", "open"]


def test_claims_show_says_why_the_criteria_changed_and_who_changed_them(seeded: Tracker) -> None:
    from sqlalchemy.orm import Session

    from tracker.db import make_engine

    engine = make_engine(seeded.db_url)
    try:
        with Session(engine) as session, session.begin():
            claim = services.get_claim(session, "kim-tones-down")
            assert claim.criteria is not None and claim.deadline is not None
            services.revise_criteria(
                session,
                claim,
                claim.criteria,
                claim.deadline + dt.timedelta(days=30),
                None,
                claim.timezone,
                dt.datetime.fromisoformat(NOW),
                reason="The source gave a month more.",
                by=services.get_reviewer(session, "ann"),
            )
    finally:
        engine.dispose()
    detail = seeded.json("claims", "show", "kim-tones-down", "--now", NOW)
    first, second = detail["criteria_versions"]
    assert (first["reason"], first["recorded_by"]) == (None, None)
    assert (second["reason"], second["recorded_by"]) == ("The source gave a month more.", "ann")
    assert "Why (ann): The source gave a month more." in seeded.run("claims", "show", "kim-tones-down").stdout


def test_unknown_filters_are_user_errors(seeded: Tracker) -> None:
    assert "(did you mean 'sino'?)" in seeded.error("claims", "list", "--source", "sinno")


def test_claims_show(seeded: Tracker) -> None:
    text = seeded.run("claims", "show", "kim-tones-down", "--now", NOW).stdout
    fits(text)
    assert "Probability: 0.675 from “we believe”" in text
    assert "Deadline:    31 Jan 2018 (Asia/Seoul)" in text  # dates as the pages write them
    assert "(prediction, overdue)" in text
    detail = seeded.json("claims", "show", "kim-tones-down", "--now", NOW)
    assert detail["appearance"]["url"] == "https://sinoinsider.com/a"
    assert (detail["overdue"], detail["scored"], detail["resolutions"]) == (True, True, [])
    assert [v["version"] for v in detail["criteria_versions"]] == [1]
    fits(seeded.run("claims", "show", "kim-tones-down-ko").stdout)
    fact = seeded.json("claims", "show", "song-tao-visited")
    assert (fact["as_of"], fact["criteria"], fact["overdue"]) == ("2017-11-16", None, False)
    assert "(did you mean 'kim-tones-down'?)" in seeded.error("claims", "show", "kim-tone-down")


def test_claims_revise_keeps_the_old_criteria_visible(seeded: Tracker) -> None:
    result = seeded.run(
        "claims", "revise", "xi-meets-kim", "--criteria", "Both leaders shake hands.", "--now", NOW
    )
    assert "version 2" in result.stdout
    assert (
        "unchanged"
        in seeded.run("claims", "revise", "xi-meets-kim", "--criteria", "Both leaders shake hands.").stderr
    )
    assert seeded.json("claims", "revise", "xi-meets-kim", "--deadline", "2027-12-31")["version"] == 3
    detail = seeded.json("claims", "show", "xi-meets-kim")
    versions = detail["criteria_versions"]
    assert versions[0]["criteria"] == "Reported by a major outlet that xi-meets-kim happened."
    assert [(v["version"], v["deadline"]) for v in versions] == [
        (1, "2026-12-31"),
        (2, "2026-12-31"),
        (3, "2027-12-31"),
    ]
    assert (detail["criteria"], detail["deadline"]) == ("Both leaders shake hands.", "2027-12-31")
    text = seeded.run("claims", "show", "xi-meets-kim").stdout
    assert "Criteria history" in text and "v1" in text
    fits(text)
    assert "only predictions" in seeded.error("claims", "revise", "song-tao-visited", "--criteria", "x")


# --- assign, resolve, unresolve -------------------------------------------------------------------


def test_assign_and_unassign(seeded: Tracker) -> None:
    assert seeded.run("assign", "xi-meets-kim", "bo").stdout == "assigned bo to xi-meets-kim\n"
    again = seeded.run("assign", "xi-meets-kim", "bo")
    assert again.stdout == "" and "already assigned" in again.stderr
    assert seeded.json("claims", "show", "xi-meets-kim")["reviewers"] == ["bo"]
    assert seeded.run("unassign", "xi-meets-kim", "bo").stdout == "unassigned bo from xi-meets-kim\n"
    assert "was not assigned" in seeded.run("unassign", "xi-meets-kim", "bo").stderr
    assert "(did you mean 'bo'?)" in seeded.error("assign", "xi-meets-kim", "boo")


EVIDENCE = "https://www.bbc.com/news/world-asia-42170365"


def test_resolve_then_unresolve_keeps_the_history(seeded: Tracker) -> None:
    resolved = seeded.json(
        "resolve", "kim-tones-down", "--verdict", "false", "--evidence", EVIDENCE,
        "--evidence", "https://www.reuters.com/article/x", "--note", "Hwasong-15 launched on 29 November.",
        "--by", "ann", "--on", "2017-11-29", "--now", NOW,
    )  # fmt: skip
    assert (resolved["verdict"], resolved["by"], resolved["resolved_on"]) == ("false", "ann", "2017-11-29")
    seeded.run("unresolve", "kim-tones-down", "--by", "bo", "--note", "Check the launch date.", "--now", NOW)
    seeded.run(
        "resolve", "kim-tones-down", "--verdict", "false", "--evidence", EVIDENCE, "--by", "bo", "--now", NOW
    )
    detail = seeded.json("claims", "show", "kim-tones-down", "--now", NOW)
    history = detail["resolutions"]
    assert [(r["verdict"], r["by"]) for r in history] == [("false", "ann"), (None, "bo"), ("false", "bo")]
    assert history[0]["evidence"] == [EVIDENCE, "https://www.reuters.com/article/x"]
    assert history[1]["note"] == "Check the launch date."
    assert history[2]["resolved_on"] == "2026-11-23"
    assert all(r["recorded_at"] == NOW for r in history)
    assert (detail["status"], detail["verdict"], detail["overdue"]) == ("resolved", "false", False)
    text = seeded.run("claims", "show", "kim-tones-down").stdout
    assert "Verdict history" in text and "un-resolved  by bo" in text


def test_unresolve_reopens(seeded: Tracker) -> None:
    seeded.run(
        "resolve", "song-tao-visited", "--verdict", "true", "--evidence", EVIDENCE, "--by", "bo", "--now", NOW
    )
    assert listed(seeded, "--status", "resolved") == ["song-tao-visited"]
    assert seeded.run(
        "unresolve", "song-tao-visited", "--by", "bo", "--note", "Wrong date."
    ).stdout.startswith("re-opened")
    assert listed(seeded, "--status", "resolved") == []
    assert "is not resolved" in seeded.error("unresolve", "song-tao-visited", "--by", "bo", "--note", "x")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--verdict", "mostly-true", "--evidence", EVIDENCE], "not on the prediction scale"),
        (["--verdict", "true"], "needs evidence"),
        (["--verdict", "true", "--evidence", "www.bbc.com"], "not an absolute http(s) URL"),
        (["--verdict", "true", "--evidence", EVIDENCE, "--on", "2017-01-01"], "before made_on"),
        (["--verdict", "true", "--evidence", EVIDENCE, "--on", "2026-12-25"], "in the future"),
    ],
)
def test_resolve_rejections(seeded: Tracker, args: list[str], expected: str) -> None:
    assert expected in seeded.error("resolve", "kim-tones-down", *args, "--by", "ann", "--now", NOW)
    assert seeded.json("claims", "show", "kim-tones-down")["resolutions"] == []


# --- promises ---------------------------------------------------------------------------------------


def add_promise(t: Tracker, key: str = "no-freeze", *extra: str) -> None:
    t.run(
        "claims", "add", "--id", key, "--kind", "promise", "--source", "sino",
        "--statement", "The US will not accept a freeze-for-freeze agreement.",
        "--quote", "We would not accept a so-called freeze-for-freeze agreement.",
        "--made-on", "2017-11-15", "--criteria", "BROKEN if drills stop for a test freeze; KEPT otherwise.",
        "--deadline", "2021-01-20", "--reviewer", "ann", "--now", NOW, *extra,
    )  # fmt: skip


def test_claims_add_prompts_a_promise_for_criteria_but_never_a_probability(seeded: Tracker) -> None:
    answers = ["promise", "sino", "We will publish.", "We will publish.", "KEPT if published.", "2018-12-31"]
    result = seeded.run(
        "claims", "add", "--id", "publish", "--made-on", "2017-11-17", "--interactive", "--now", NOW,
        input="\n".join([*answers, "", "", ""]) + "\n",
    )  # fmt: skip
    assert "Deadline" in result.stdout and "Probability" not in result.stdout
    claim = seeded.json("claims", "show", "publish")
    assert (claim["kind"], claim["probability"], claim["scored"], claim["deadline"]) == (
        "promise", None, False, "2018-12-31",
    )  # fmt: skip
    error = seeded.error(
        "claims", "add", "--id", "p2", "--kind", "promise", "--source", "sino", "--statement", "s",
        "--quote", "q", "--made-on", "2017-11-17", "--criteria", "c", "--deadline", "2018-01-01",
        "--probability", "0.9", "--now", NOW,
    )  # fmt: skip
    assert error.endswith("a promise has no probability: it is kept, compromise or broken, never scored")


def test_a_promise_is_listed_shown_and_progresses_until_its_verdict(seeded: Tracker) -> None:
    add_promise(seeded)
    assert listed(seeded, "--kind", "promise") == ["no-freeze"]
    out = seeded.run(
        "progress", "no-freeze", "In The Works", "--evidence", EVIDENCE, "--note", "Talks.",
        "--by", "ann", "--on", "2018-03-01", "--now", NOW,
    ).stdout  # fmt: skip
    assert out == "recorded progress on no-freeze: in-the-works\n"
    entry = seeded.json(
        "progress",
        "no-freeze",
        "stalled",
        "--evidence",
        EVIDENCE,
        "--by",
        "bo",
        "--on",
        "2018-05-01",
        "--now",
        NOW,
    )
    assert (entry["verdict"], entry["progress"], entry["by"]) == (None, "stalled", "bo")
    table = seeded.run("claims", "list", "--kind", "promise", "--now", NOW).stdout
    assert "prom" in table and "overdue, stalled" in table
    assert seeded.json("claims", "list", "--kind", "promise", "--now", NOW)[0]["progress"] == "stalled"
    resolved = seeded.json(
        "resolve", "no-freeze", "--verdict", "Broken", "--evidence", EVIDENCE, "--by", "ann", "--now", NOW
    )
    assert resolved["verdict"] == "broken"
    detail = seeded.json("claims", "show", "no-freeze", "--now", NOW)
    assert [(r["verdict"], r["progress"]) for r in detail["resolutions"]] == [
        (None, "in-the-works"), (None, "stalled"), ("broken", None),
    ]  # fmt: skip
    assert (detail["status"], detail["overdue"], detail["scored"]) == ("resolved", False, False)
    text = seeded.run("claims", "show", "no-freeze").stdout
    assert "in-the-works  by ann" in text and "stalled  by bo" in text and "broken  by ann" in text
    assert "Criteria v1" in text and "Probability" not in text
    assert "is for an open promise" in seeded.error(
        "progress", "no-freeze", "stalled", "--evidence", EVIDENCE, "--by", "ann", "--now", NOW
    )
    seeded.run("unresolve", "no-freeze", "--by", "bo", "--note", "Wrong article.", "--now", NOW)
    assert seeded.json("claims", "show", "no-freeze")["verdict"] is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["resolve", "no-freeze", "--verdict", "kep"], "'kep' is not a verdict (did you mean 'kept'?)"),
        (["resolve", "no-freeze", "--verdict", "true", "--evidence", EVIDENCE], "not on the promise scale"),
        (["resolve", "no-freeze", "--verdict", "compromise"], "verdict 'compromise' needs evidence"),
        (["progress", "no-freeze", "stalld"], "'stalld' is not a progress status (did you mean 'stalled'?)"),
        (["progress", "no-freeze", "stalled"], "progress 'stalled' needs evidence"),
        (["progress", "kim-tones-down", "stalled", "--evidence", EVIDENCE], "progress is for promises"),
    ],
)
def test_promise_rejections(seeded: Tracker, args: list[str], expected: str) -> None:
    add_promise(seeded)
    code = 2 if "is not a" in expected else 1
    assert expected in seeded.error(*args, "--by", "ann", "--now", NOW, code=code)
    assert seeded.json("claims", "show", "no-freeze")["resolutions"] == []


# --- scale ----------------------------------------------------------------------------------------


def test_scale(tracker: Tracker) -> None:
    data = tracker.json("scale")
    assert data["bands"][0]["band"] == "almost no chance"
    phrases = {p["phrase"]: p for p in data["phrases"]}
    assert (phrases["we believe"]["band"], phrases["we believe"]["probability"]) == ("likely", 0.675)
    assert (phrases["may"]["scored"], phrases["may"]["probability"]) == (False, None)
    text = tracker.run("scale").stdout
    fits(text)
    assert "roughly even chance" in text and "45%-55%" in text


def test_scale_includes_configured_phrases(tracker: Tracker, tmp_path: Path) -> None:
    tracker.config.write_text('[estimative_phrases]\n"sure thing" = "almost certain"\n')
    phrases = {p["phrase"]: p for p in tracker.json("scale")["phrases"]}
    assert phrases["sure thing"]["probability"] == 0.97


# --- import and export ----------------------------------------------------------------------------

CLAIMS_FILE = """
reviewers:
  - {handle: ann, name: Ann Lee, email: ann@example.org, timezone: Asia/Seoul}
sources:
  - {slug: sino, name: SinoInsider, kind: outlet, url: 'https://sinoinsider.com'}
claims:
  - id: kim-tones-down
    source: sino
    kind: prediction
    statement: Kim Jong Un will visibly tone down provocations after Song Tao's visit.
    quote: We believe our analysis will be confirmed if Kim shows obeisance to Xi
    made_on: 2017-11-16
    confidence: we believe
    resolution: {criteria: No ICBM test before the deadline., deadline: 2018-01-31, timezone: Asia/Seoul}
    reviewers: [ann]
    tags: [north-korea]
    outcome: {verdict: false, resolved_on: 2017-11-29, by: ann, evidence: ['https://bbc.com/x']}
  - id: song-tao-visited
    source: sino
    kind: fact
    statement: Song Tao visited Pyongyang.
    quote: Song Tao went.
    made_on: 2017-11-16
"""


def test_import_reports_and_is_idempotent(tracker: Tracker, write_file: WriteFile) -> None:
    path = write_file("claims.yaml", CLAIMS_FILE)
    text = tracker.run("import", str(path), "--now", NOW).stdout
    assert "claims:    2 created, 0 updated, 0 unchanged" in text
    assert "verdicts:  1 new resolution" in text
    fits(text)
    again = tracker.json("import", str(path), "--now", NOW)
    assert (again["created"], again["unchanged"], again["new_resolutions"], again["missing"]) == (0, 2, 0, [])
    claims = {c["key"]: c for c in tracker.json("claims", "list")}
    assert (claims["kim-tones-down"]["verdict"], claims["kim-tones-down"]["probability"]) == ("false", 0.675)


def test_import_dry_run_writes_nothing(tracker: Tracker, write_file: WriteFile) -> None:
    path = write_file("claims.yaml", CLAIMS_FILE)
    report = tracker.json("import", str(path), "--dry-run", "--now", NOW)
    assert (report["dry_run"], report["created"]) == (True, 2)
    assert "dry run, nothing written" in tracker.run("import", str(path), "--dry-run", "--now", NOW).stdout
    assert tracker.json("claims", "list") == []
    assert tracker.json("reviewers", "list") == []


def test_import_warns_about_claims_missing_from_the_file(tracker: Tracker, write_file: WriteFile) -> None:
    tracker.run("import", str(write_file("claims.yaml", CLAIMS_FILE)), "--now", NOW)
    shorter = CLAIMS_FILE[: CLAIMS_FILE.index("  - id: song-tao-visited")]
    result = tracker.run("import", str(write_file("claims.yaml", shorter)), "--now", NOW)
    assert result.stderr == "warning: song-tao-visited: in the database but not in claims.yaml; kept\n"
    assert "song-tao-visited" in listed(tracker)


def test_a_bad_file_prints_every_problem_and_writes_nothing(tracker: Tracker, write_file: WriteFile) -> None:
    bad = CLAIMS_FILE.replace("deadline: 2018-01-31", "deadline: 2017-01-31").replace(
        "source: sino\n    kind: fact", "source: sin\n    kind: fact"
    )
    path = write_file("claims.yaml", bad)
    result = tracker.run("import", str(path), "--now", NOW, code=1)
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}:13: claims[0].resolution.deadline: ")
    assert lines[1].startswith(f"{path}:18: claims[1].source: ")
    assert lines[2] == "tracker: error: 2 problems found; nothing was written"
    assert result.stdout == ""
    assert tracker.json("sources", "list") == []


def test_import_of_a_missing_file(tracker: Tracker, tmp_path: Path) -> None:
    assert "no such file" in tracker.error("import", str(tmp_path / "nope.yaml"))


def test_export_round_trips(tracker: Tracker, write_file: WriteFile, tmp_path: Path) -> None:
    tracker.run("import", str(write_file("claims.yaml", CLAIMS_FILE)), "--now", NOW)
    exported = tracker.run("export").stdout
    data = yaml.safe_load(exported)
    assert [c["id"] for c in data["claims"]] == ["kim-tones-down", "song-tao-visited"]
    target = tmp_path / "out" / "exported.yaml"
    target.parent.mkdir()
    result = tracker.run("export", str(target))
    assert result.stdout == "" and "wrote 2 claims" in result.stderr
    assert target.read_text(encoding="utf-8") == exported
    report = tracker.json("import", str(target), "--now", NOW)
    assert (report["unchanged"], report["created"], report["updated"], report["new_resolutions"]) == (
        2,
        0,
        0,
        0,
    )
    assert [p.name for p in target.parent.iterdir()] == ["exported.yaml"], "no temporary file left behind"


def test_progress_appears_only_after_a_second() -> None:
    clock = iter([0.0, 0.5, 1.5, 2.0, 3.0])
    out = io.StringIO()
    with DelayedProgress("importing", clock=lambda: next(clock), file=out) as progress:
        progress(10, 100)
        assert progress.bar is None and out.getvalue() == ""
        progress(50, 100)
        assert progress.bar is not None and progress.shown == 50
        progress(100, 100)
    assert "importing" in out.getvalue()


# --- failures never show a traceback --------------------------------------------------------------


def test_an_unreachable_database_is_one_line_without_the_password(config: Path) -> None:
    t = Tracker("postgresql://tracker:s3cret-pw@127.0.0.1:1/nowhere", config)
    line = t.error("claims", "list")
    assert "s3cret-pw" not in line
    assert line.startswith("tracker: error: database postgresql://tracker:***@127.0.0.1:1/nowhere: ")


def test_a_database_that_cannot_be_opened(tmp_path: Path, config: Path) -> None:
    line = Tracker(f"sqlite:///{tmp_path}", config).error("claims", "list")
    assert "unable to open database file" in line


def test_a_bad_config_file(tracker: Tracker) -> None:
    tracker.config.write_text("timezone = \n")
    assert "invalid TOML" in tracker.error("claims", "list")
    tracker.config.write_text('timezone = "Mars/Base"\n')
    assert "unknown timezone" in tracker.error("claims", "list")


def test_unexpected_errors_are_one_line_unless_debugging(
    seeded: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(services, "list_claims", broken)
    line = seeded.error("claims", "list")
    assert (
        line
        == "tracker: error: unexpected RuntimeError: disk on fire (set TRACKER_DEBUG=1 for the traceback)"
    )
    result = seeded.run("claims", "list", code=1, env={"TRACKER_DEBUG": "1"}, traceback=True)
    assert result.stderr.splitlines()[-1] == "tracker: error: unexpected RuntimeError: disk on fire"


# --- output helpers -------------------------------------------------------------------------------


@given(st.text(), st.integers(min_value=0, max_value=100))
def test_truncate_never_exceeds_the_width(text: str, width: int) -> None:
    cut = truncate(text, width)
    assert text_width(cut) <= width
    assert cut == text or cut.endswith("…") or width == 0


@given(st.lists(st.tuples(st.text(min_size=1, max_size=60), st.text(max_size=200)), max_size=5))
def test_tables_fit_when_columns_may_shrink(rows: list[tuple[str, str]]) -> None:
    text = table([Column("ID", min_width=16), Column("STATEMENT", min_width=0)], rows)
    assert all(text_width(line) <= WIDTH for line in text.splitlines())


def test_now_without_an_offset_is_utc(seeded: Tracker) -> None:
    seeded.run(
        "resolve", "xi-meets-kim", "--verdict", "ambiguous", "--by", "bo", "--now", "2026-11-23T23:30:00"
    )
    entry = seeded.json("claims", "show", "xi-meets-kim")["resolutions"][0]
    assert entry["recorded_at"] == dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC).isoformat()


@pytest.mark.parametrize(
    ("relative", "absolute"),
    [
        ("today", "2026-12-10"),
        ("tomorrow", "2026-12-11"),
        ("yesterday", "2026-12-09"),
        ("+400d", "2028-01-14"),
        ("-3300d", "2017-10-03"),
    ],
)
def test_due_before_accepts_days_relative_to_now(seeded: Tracker, relative: str, absolute: str) -> None:
    now = "2026-12-10T12:00:00+00:00"
    by_words = listed(seeded, "--due-before", relative, "--now", now)
    assert by_words == listed(seeded, "--due-before", absolute)
    assert by_words == listed(seeded, "--due-before", relative.upper(), "--now", now)
