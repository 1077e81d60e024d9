"""tracker.textrules: the checks every input passes, and what renderers do with text stored before them."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import build_claim, build_reviewer, build_source
from icalendar import Calendar
from sqlalchemy.orm import Session, sessionmaker

from tracker import ical
from tracker.config import Settings
from tracker.models import Claim, Resolution, Reviewer, Source
from tracker.scorecards import build_site
from tracker.textrules import check_characters, check_email, check_length, check_text, max_length, printable

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


# --- the checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ch", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ufffe", "\uffff", "\udcff", "\r"])
def test_control_characters_are_refused_everywhere(ch: str) -> None:
    assert check_characters(f"a{ch}b", multiline=True) is not None
    assert check_characters(f"a{ch}b") is not None


def test_tab_and_newline_only_in_multiline_text() -> None:
    assert check_characters("one\n\ttwo", multiline=True) is None
    assert check_characters("one\ntwo") == (
        "contains a control character (U+000A, newline) at position 4; this field takes one line, no tab"
    )
    assert check_characters("Ann\tLee") is not None


def test_everything_else_unicode_is_text() -> None:
    assert check_text("김정은 — “Xi” 🙂 é\u200b", Reviewer.name) is None


def test_limits_come_from_the_columns() -> None:
    assert max_length(Reviewer.name) == 300
    assert max_length(Source.slug) == 100
    assert max_length(Claim.statement) is None
    assert check_length("a" * 300, 300) is None
    assert check_length("a" * 301, 300) == "is 301 characters long; the limit is 300"
    assert check_text("a" * 301, Reviewer.name) == "is 301 characters long; the limit is 300"


@pytest.mark.parametrize(
    "address", ["ann@example.org", "ann.lee+tracker@mail.example.co.uk", "o'brien@example.org"]
)
def test_real_addresses_pass(address: str) -> None:
    assert check_email(address) is None


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("<script>x</script>@example.org", "There can't be anything after the email address"),
        ("ann@example", "It should have a period"),
        ("ann@@example.org", "is not an e-mail address"),
        ("ann@exämple.org", "is not an ASCII e-mail address"),
        ("ann@example.org\x00", "control character"),
    ],
)
def test_false_addresses_fail_with_the_reason(address: str, why: str) -> None:
    problem = check_email(address)
    assert problem is not None and why in problem


def test_printable_drops_only_what_xml_forbids() -> None:
    assert printable("a\x00b\x1bc\ufffed\x85e\tf\ng") == "abcde\tf\ng"
    text = "plain"
    assert printable(text) is text


# --- rendering text stored before the checks --------------------------------------------------------

# PostgreSQL never stored NUL; SQLite did.
HOSTILE = {"sqlite": "Kim\x00 \x1b[31mwill\x01 \ufffe go", "postgresql": "Kim \x1b[31mwill\x01 \ufffe go"}
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@pytest.fixture
def old_data(session_factory: sessionmaker[Session], backend: str) -> str:
    """A resolved claim and an open one whose statement and note hold control characters."""
    text = HOSTILE[backend]
    with session_factory.begin() as session:
        source = build_source(session, name=f"Sino{text}")
        reviewer = build_reviewer(session, name=f"Ann{text}")
        resolved = build_claim(session, source=source, statement=text, status="resolved", verdict="false")
        session.add(
            Resolution(
                claim_id=resolved.id,
                verdict="false",
                evidence=["https://bbc.com/x"],
                note=f"note {text}",
                reviewer_id=reviewer.id,
                resolved_on=dt.date(2026, 11, 10),
            )
        )
        build_claim(session, source=source, statement=text, criteria=f"criteria {text}", quote=text)
    return text


def test_the_atom_feed_stays_xml(
    old_data: str, session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    with session_factory.begin() as session:
        build_site(session, tmp_path / "site", settings=settings, now=NOW)
    feed = (tmp_path / "site" / "feed.xml").read_text(encoding="utf-8")
    assert not XML_FORBIDDEN.search(feed)
    root = ET.fromstring(feed.encode("utf-8"))  # expat refuses any character XML forbids
    ns = {"a": "http://www.w3.org/2005/Atom"}
    [entry] = root.findall("a:entry", ns)
    assert "Kim [31mwill  go" in "".join(entry.itertext())


def test_the_calendar_holds_no_control_characters(
    old_data: str, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        deadlines = ical.open_deadlines(session)
    data = ical.build_calendar(deadlines, now=NOW)
    # iCalendar forbids every control character but tab in a value; lines end in CRLF.
    assert not re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", data.replace(b"\r\n", b""))
    assert "\ufffe" not in data.decode("utf-8")
    [event] = Calendar.from_ical(data).walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("Due: Kim [31mwill  go")
