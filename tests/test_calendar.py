"""`tracker calendar`: the .ics file parsed back with icalendar, on every database backend."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar, Event
from sqlalchemy.orm import Session, sessionmaker
from support.cli import Tracker

from tracker import __version__, services

NOW = "2026-11-23T12:00:00+00:00"
STAMP = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


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
def tracker(db_url: str, tmp_path: Path) -> Tracker:
    config = tmp_path / "tracker-test.toml"
    config.write_text("")  # keeps a developer's ./tracker.toml out of the test
    t = Tracker(db_url, config)
    t.run("sources", "add", "sino", "--name", "SinoInsider")
    t.run("sources", "add", "nyt", "--name", "The New York Times Editorial Board")
    t.run("reviewers", "add", "ann", "--name", "Ann Lee", "--email", "ann@example.org")
    t.run("reviewers", "add", "bo", "--name", "Bo Park", "--email", "bo@example.org")
    add_prediction(
        t, "kim-tones-down", "sino", "2027-01-31", "--confidence", "we believe", "--timezone", "Asia/Seoul",
        "--tag", "north-korea", "--tag", "china", "--reviewer", "ann",
        "--url", "https://sinoinsider.com/a", "--title", "Trump Hints at Xi's Motive",
    )  # fmt: skip
    add_prediction(
        t,
        "xi-meets-kim",
        "sino",
        "2026-12-31",
        "--probability",
        "0.3",
        "--probability-basis",
        "It said 30%.",
        "--reviewer",
        "bo",
    )
    add_prediction(t, "no-tests", "nyt", "2027-06-30", "--confidence", "might", "--reviewer", "ann")
    add_prediction(
        t,
        "already-settled",
        "nyt",
        "2026-11-30",
        "--probability",
        "0.9",
        "--probability-basis",
        "It said 90%.",
        "--reviewer",
        "ann",
    )
    t.run(
        "resolve", "already-settled", "--verdict", "true", "--by", "ann",
        "--evidence", "https://example.org/settled", "--now", NOW,
    )  # fmt: skip
    t.run(
        "claims", "add", "--id", "song-tao-visited", "--kind", "fact", "--source", "nyt",
        "--statement", "Song Tao visited Pyongyang in November 2017.", "--quote", "Song Tao went.",
        "--made-on", "2017-11-16", "--reviewer", "ann", "--now", NOW,
    )  # fmt: skip
    return t


def calendar(t: Tracker, out: Path, *args: str, now: str = NOW) -> Calendar:
    t.run("calendar", "--out", str(out), "--now", now, *args)
    return Calendar.from_ical(out.read_bytes())


def events(cal: Calendar) -> dict[str, Event]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def text(component: Any, name: str) -> str:
    return str(component[name])


def test_one_event_per_open_prediction(tracker: Tracker, tmp_path: Path) -> None:
    cal = calendar(tracker, tmp_path / "all.ics")
    # Soonest first; the resolved prediction and the fact are left out.
    assert [str(e["uid"]) for e in cal.walk("VEVENT")] == [
        "xi-meets-kim-deadline@tracker",
        "kim-tones-down-deadline@tracker",
        "no-tests-deadline@tracker",
    ]


def test_calendar_properties(tracker: Tracker, tmp_path: Path) -> None:
    cal = calendar(tracker, tmp_path / "all.ics")
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in (tmp_path / "all.ics").read_bytes()
    assert text(cal, "version") == "2.0"
    assert text(cal, "prodid") == f"-//tracker//tracker {__version__}//EN"
    assert text(cal, "calscale") == "GREGORIAN"
    assert text(cal, "method") == "PUBLISH"
    assert text(cal, "x-wr-calname") == "tracker deadlines"
    assert text(cal, "name") == "tracker deadlines"
    assert text(cal, "x-published-ttl") == "PT1H"


def test_every_field_of_an_event(tracker: Tracker, tmp_path: Path) -> None:
    event = events(calendar(tracker, tmp_path / "all.ics"))["kim-tones-down-deadline@tracker"]
    assert event["dtstamp"].dt == STAMP
    assert event["sequence"] == 0
    # An all-day event: DATE values, the end exclusive.
    assert event["dtstart"].dt == dt.date(2027, 1, 31)
    assert event["dtend"].dt == dt.date(2027, 2, 1)
    assert event["dtstart"].params.get("VALUE") in (None, "DATE")
    assert not isinstance(event["dtstart"].dt, dt.datetime)
    assert text(event, "summary") == "Due: kim-tones-down will happen. (kim-tones-down)"
    assert text(event, "url") == "https://sinoinsider.com/a"
    assert text(event, "transp") == "TRANSPARENT"
    assert [str(c) for c in event["categories"].cats] == ["china", "north-korea"]
    assert event["last-modified"].dt == STAMP
    assert text(event, "description") == "\n".join(
        [
            "kim-tones-down will happen.",
            "",
            "Resolution criteria (version 1): Reported by a major outlet that kim-tones-down happened.",
            # Midnight in Seoul (UTC+9) is 15:00 UTC the day before.
            "Deadline: the end of 2027-01-31 in Asia/Seoul, that is 2027-01-31 15:00 UTC.",
            'Source: SinoInsider, on 2017-11-16: "kim-tones-down, we believe."',
            "Forecast: we believe (68%)",
            "Article: Trump Hints at Xi's Motive <https://sinoinsider.com/a>",
            "Reviewers: ann",
            "Tags: china, north-korea",
            "",
            "Resolve it with:",
            "tracker resolve kim-tones-down --verdict VERDICT --evidence URL --by HANDLE",
            "where VERDICT is one of true, false, ambiguous, annulled (ambiguous and annulled need no URL).",
        ]
    )


def test_claims_without_a_timezone_or_article(tracker: Tracker, tmp_path: Path) -> None:
    found = events(calendar(tracker, tmp_path / "all.ics"))
    xi = found["xi-meets-kim-deadline@tracker"]
    assert "url" not in xi and "categories" not in xi
    description = text(xi, "description")
    assert "in UTC (tracker's default timezone), that is 2027-01-01 00:00 UTC." in description
    assert "Forecast: 30%\n" in description
    assert "Article:" not in description and "Tags:" not in description
    hedge = text(found["no-tests-deadline@tracker"], "description")
    assert "Forecast: might (a hedge with no probability: not scored)" in hedge


def test_uids_and_bytes_are_stable_across_runs(tracker: Tracker, tmp_path: Path) -> None:
    first = tmp_path / "first.ics"
    second = tmp_path / "second.ics"
    calendar(tracker, first)
    calendar(tracker, second)
    assert first.read_bytes() == second.read_bytes()
    later = calendar(tracker, tmp_path / "later.ics", now="2026-12-01T08:00:00+00:00")
    assert events(later).keys() == events(Calendar.from_ical(first.read_bytes())).keys()
    assert {e["dtstamp"].dt for e in later.walk("VEVENT")} == {dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)}


def test_a_moved_deadline_keeps_the_uid_and_bumps_the_sequence(tracker: Tracker, tmp_path: Path) -> None:
    tracker.run(
        "claims", "revise", "xi-meets-kim", "--deadline", "2027-03-31", "--now", "2026-11-24T09:00:00Z"
    )
    event = events(calendar(tracker, tmp_path / "moved.ics"))["xi-meets-kim-deadline@tracker"]
    assert event["sequence"] == 1
    assert event["dtstart"].dt == dt.date(2027, 3, 31)
    assert event["dtend"].dt == dt.date(2027, 4, 1)
    assert event["last-modified"].dt == dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)
    assert "Resolution criteria (version 2)" in text(event, "description")
    # Claims that were not revised are untouched.
    assert events(calendar(tracker, tmp_path / "again.ics"))["no-tests-deadline@tracker"]["sequence"] == 0


def test_sequence_follows_revise_criteria(
    tracker: Tracker, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with session_factory.begin() as session:
        claim = services.get_claim(session, "kim-tones-down")
        for n, deadline in enumerate([dt.date(2027, 2, 28), dt.date(2027, 5, 31)], start=2):
            services.revise_criteria(
                session, claim, f"Criteria, take {n}.", deadline, None, "Asia/Seoul", STAMP
            )
    event = events(calendar(tracker, tmp_path / "revised.ics"))["kim-tones-down-deadline@tracker"]
    assert event["sequence"] == 2
    assert event["dtstart"].dt == dt.date(2027, 5, 31)
    assert "Resolution criteria (version 3): Criteria, take 3." in text(event, "description")


def test_reviewer_filter(tracker: Tracker, tmp_path: Path) -> None:
    cal = calendar(tracker, tmp_path / "ann.ics", "--reviewer", "ann")
    assert list(events(cal)) == ["kim-tones-down-deadline@tracker", "no-tests-deadline@tracker"]
    assert text(cal, "x-wr-calname") == "tracker deadlines: ann"
    # The reviewer's own handle goes into the command to paste.
    for event in cal.walk("VEVENT"):
        assert "--verdict VERDICT --evidence URL --by ann\n" in text(event, "description")
    bo = calendar(tracker, tmp_path / "bo.ics", "--reviewer", "bo")
    assert list(events(bo)) == ["xi-meets-kim-deadline@tracker"]


def test_unknown_reviewer_suggests_a_handle(tracker: Tracker, tmp_path: Path) -> None:
    out = tmp_path / "annie.ics"
    result = tracker.run("calendar", "--reviewer", "annn", "--out", str(out), code=1)
    assert result.stderr == "tracker: error: no reviewer 'annn' (did you mean 'ann'?)\n"
    assert not out.exists()


def test_resolved_and_reopened(tracker: Tracker, tmp_path: Path) -> None:
    tracker.run(
        "resolve", "xi-meets-kim", "--verdict", "false", "--by", "bo",
        "--evidence", "https://example.org/no-meeting", "--now", NOW,
    )  # fmt: skip
    assert "xi-meets-kim-deadline@tracker" not in events(calendar(tracker, tmp_path / "a.ics"))
    tracker.run("unresolve", "xi-meets-kim", "--by", "bo", "--note", "Wrong claim.", "--now", NOW)
    back = events(calendar(tracker, tmp_path / "b.ics"))
    assert back["xi-meets-kim-deadline@tracker"]["sequence"] == 0


def test_a_claim_awaiting_its_second_verdict_stays_on_the_calendars_of_who_owes_it(
    tracker: Tracker, tmp_path: Path
) -> None:
    tracker.env["TRACKER_REVIEW_VERDICTS_REQUIRED"] = "2"
    tracker.run("assign", "no-tests", "bo")
    tracker.run(
        "resolve", "no-tests", "--verdict", "true", "--by", "ann",
        "--evidence", "https://example.org/first", "--note", "FIRST-NOTE", "--now", NOW,
    )  # fmt: skip
    uid = "no-tests-deadline@tracker"
    assert uid not in events(calendar(tracker, tmp_path / "ann.ics", "--reviewer", "ann"))
    bo = calendar(tracker, tmp_path / "bo.ics", "--reviewer", "bo")
    assert uid in events(bo)
    assert "FIRST-NOTE" not in bo.to_ical().decode() and "example.org/first" not in bo.to_ical().decode()
    assert uid in events(calendar(tracker, tmp_path / "all.ics"))
    tracker.run(
        "resolve", "no-tests", "--verdict", "false", "--by", "bo",
        "--evidence", "https://example.org/second", "--now", NOW,
    )  # fmt: skip
    # Disputed: an admin's to adjudicate, off the reviewers' calendars.
    assert uid not in events(calendar(tracker, tmp_path / "all2.ics"))


def test_empty_database_gives_an_empty_calendar(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    out = tmp_path / "empty.ics"
    result = Tracker(db_url, config).run("calendar", "--out", str(out), "--now", NOW)
    assert result.stderr == f"wrote 0 deadlines to {out}\n"
    cal = Calendar.from_ical(out.read_bytes())
    assert cal.walk("VEVENT") == []
    assert text(cal, "prodid").startswith("-//tracker//")


def test_output_message_and_json(tracker: Tracker, tmp_path: Path) -> None:
    out = tmp_path / "all.ics"
    result = tracker.run("calendar", "--out", str(out), "--now", NOW)
    assert (result.stdout, result.stderr) == ("", f"wrote 3 deadlines to {out}\n")
    result = tracker.run("calendar", "--out", str(out), "--reviewer", "bo", "--json")
    assert json.loads(result.stdout) == {"file": str(out), "reviewer": "bo", "events": 1}


def test_stdout(tracker: Tracker, tmp_path: Path) -> None:
    result = tracker.run("calendar", "--out", "-", "--now", NOW)
    assert result.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")
    calendar(tracker, tmp_path / "file.ics")
    assert result.stdout_bytes == (tmp_path / "file.ics").read_bytes()
    assert "--json describes the file" in tracker.run("calendar", "--out", "-", "--json", code=2).stderr


def test_written_atomically_over_an_existing_file(tracker: Tracker, tmp_path: Path) -> None:
    out = tmp_path / "feed" / "deadlines.ics"
    out.parent.mkdir()
    out.write_text("old")
    out.chmod(0o644)
    calendar(tracker, out)
    assert out.read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert out.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in out.parent.iterdir()] == ["deadlines.ics"]  # no temporary file left


def test_missing_folder_is_one_line(tracker: Tracker, tmp_path: Path) -> None:
    out = tmp_path / "nowhere" / "deadlines.ics"
    result = tracker.run("calendar", "--out", str(out), code=1)
    assert result.stderr == f"tracker: error: {out}: folder {out.parent} does not exist\n"


def test_an_open_promise_has_an_event_with_its_own_verdicts(tracker: Tracker, tmp_path: Path) -> None:
    tracker.run(
        "claims", "add", "--id", "no-freeze", "--kind", "promise", "--source", "sino",
        "--statement", "We will not accept a freeze-for-freeze agreement.", "--quote", "We would not accept it.",
        "--made-on", "2017-11-15", "--criteria", "BROKEN if drills stop.", "--deadline", "2027-03-31",
        "--reviewer", "ann", "--now", NOW,
    )  # fmt: skip
    event = events(calendar(tracker, tmp_path / "all.ics"))["no-freeze-deadline@tracker"]
    description = " ".join(text(event, "description").split())
    assert "Promise: kept, compromise or broken" in description and "Forecast" not in description
    assert "where VERDICT is one of kept, compromise, broken." in description
    predicted = events(calendar(tracker, tmp_path / "again.ics"))["kim-tones-down-deadline@tracker"]
    assert "one of true, false, ambiguous, annulled (ambiguous and annulled need no URL)." in " ".join(
        text(predicted, "description").split()
    )
