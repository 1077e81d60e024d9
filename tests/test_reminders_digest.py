"""Digest messages: the data they carry, the plain text, and the HTML (checked with selectors)."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.reminders.digest import Digest, digest_claim, render, resolve_link, subject_line
from tracker.templating import environment, filters

TEMPLATES = environment()

NOW = dt.datetime(2027, 2, 3, 9, 0, tzinfo=dt.UTC)


def claim(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "key": "rates-fall",
        "statement": "Rates fall by March.",
        "criteria": "Policy rate on 2027-01-31 lower than on 2026-11-01.",
        "deadline": dt.date(2027, 1, 31),
        "claim_timezone": "America/New_York",
        "reviewer_handle": "ann",
        "reviewer_timezone": "Asia/Seoul",
        "source": "The Daily",
        "article_url": "https://example.org/rates",
        "article_title": "Rates & markets",
        "kind": "overdue-1",
        "assigned": ["ann"],
        "resolve_url": None,
        "now": NOW,
    }
    fields.update(overrides)
    return digest_claim(**fields)


def digest(*claims: Any) -> Digest:
    return Digest("ann", "Ann Lee", "ann@example.org", "Asia/Seoul", tuple(claims))


def test_the_deadline_is_shown_in_the_reviewers_timezone() -> None:
    c = claim()
    # 2027-01-31 ends at midnight in New York: 14:00 on 02-01 in Seoul.
    assert c.ends_at == dt.datetime(2027, 2, 1, 5, 0, tzinfo=dt.UTC)
    assert c.ends_at.strftime("%Y-%m-%d %H:%M %Z") == "2027-02-01 14:00 KST"
    text = render(TEMPLATES, digest(c), "<id@tracker>").text
    assert "Deadline: 31 Jan 2027 (America/New_York), which ends 1 Feb 2027 14:00 KST" in text


@pytest.mark.parametrize(
    ("deadline", "when"),
    [
        (dt.date(2027, 2, 10), "7 days left"),
        (dt.date(2027, 2, 4), "1 day left"),
        (dt.date(2027, 2, 3), "due today"),
        (dt.date(2027, 2, 2), "overdue by 1 day"),
        (dt.date(2027, 1, 20), "overdue by 14 days"),
    ],
)
def test_days_left_and_overdue(deadline: dt.date, when: str) -> None:
    assert claim(deadline=deadline, claim_timezone="UTC").when == when


def test_subjects() -> None:
    assert subject_line(1, 0) == "tracker: 1 claim to resolve"
    assert subject_line(3, 1) == "tracker: 3 claims to resolve (1 overdue)"
    assert render(
        TEMPLATES, digest(claim(), claim(key="b", deadline=dt.date(2027, 3, 1))), "<x@t>"
    ).subject == ("tracker: 2 claims to resolve (1 overdue)")


def test_the_text_part_says_how_to_resolve() -> None:
    message = render(TEMPLATES, digest(claim()), "<digest-1.ann@tracker>", (("X-Tracker-Reminders", "7"),))
    assert (message.message_id, message.to_address, message.to_name) == (
        "<digest-1.ann@tracker>",
        "ann@example.org",
        "Ann Lee",
    )
    assert message.headers == (("X-Tracker-Reminders", "7"),)
    text = message.text
    for expected in (
        "1. rates-fall: OVERDUE BY 3 DAYS",
        "Rates fall by March.",
        "Criteria: Policy rate on 2027-01-31 lower than on 2026-11-01.",
        "Source:   The Daily",
        "Article:  https://example.org/rates",
        "Resolve:  tracker resolve rates-fall --verdict VERDICT --evidence URL --by ann",
        "Replace VERDICT with true or false;",
    ):
        assert expected in text
    assert "Or here:" not in text
    assert (
        max(len(line) for line in text.splitlines() if "://" not in line and "tracker resolve" not in line)
        <= 80
    )


def test_a_resolve_link_when_the_web_app_is_configured() -> None:
    assert resolve_link(None, "k", "ann") is None
    assert resolve_link("https://review.example.org/", "a b", "ann") == (
        "https://review.example.org/claims/a%20b/resolve?by=ann"
    )
    c = claim(resolve_url="https://review.example.org")
    message = render(TEMPLATES, digest(c), "<x@t>")
    assert "Or here:  https://review.example.org/claims/rates-fall/resolve?by=ann" in message.text
    assert message.html is not None
    soup = BeautifulSoup(message.html, "html.parser")
    assert (
        soup.select_one("a.resolve")["href"] == "https://review.example.org/claims/rates-fall/resolve?by=ann"
    )  # type: ignore[index]


def test_the_html_part_lists_each_claim_escaped() -> None:
    nasty = claim(key="x-1", statement="<script>alert('x')</script> & more", kind="before-7d")
    escalated = claim(key="x-2", kind="escalation-1", assigned=[], deadline=dt.date(2027, 1, 1))
    html = render(TEMPLATES, digest(escalated, nasty), "<x@t>").html
    assert html is not None
    soup = BeautifulSoup(html, "html.parser")
    items = soup.select("ol.claims > li.claim")
    assert [li["id"] for li in items] == ["claim-x-2", "claim-x-1"]
    assert soup.find("script") is None
    assert items[1].select_one(".statement").get_text() == "<script>alert('x')</script> & more"  # type: ignore[union-attr]
    assert "escalated" in items[0]["class"] and "overdue" in items[0]["class"]
    assert (
        items[0]
        .select_one(".assigned")
        .get_text(strip=True)
        .startswith("Sent to you as an admin: nobody is assigned")
    )  # type: ignore[union-attr]
    assert items[1].select_one("a.article")["href"] == "https://example.org/rates"  # type: ignore[index]
    assert items[1].select_one("a.article").get_text() == "Rates & markets"  # type: ignore[union-attr]
    assert items[1].select_one("code.command").get_text().endswith("--by ann")  # type: ignore[union-attr]
    assert items[1].select_one("time")["datetime"] == "2027-02-01T14:00:00+09:00"  # type: ignore[index]


def test_the_text_part_is_not_html_escaped() -> None:
    text = render(TEMPLATES, digest(claim(statement="A < B & C")), "<x@t>").text
    assert "A < B & C" in text


def textwrap_fill(text: str, width: int, first: str, rest: str) -> str:
    """What the digest's wrapping filters must give: textwrap's own result."""
    flat = " ".join(text.split())
    return textwrap.fill(flat, width, initial_indent=first, subsequent_indent=rest, break_long_words=False)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Short.",
        "x" * 73,  # fills the line exactly
        "x" * 74,
        "A statement that is long enough to need a second line, and then a third one, to see how lines break.",
        "A statement with hyphen-breaks, self-evident ones, long enough to need a second line of its own.",
        "See https://example.org/" + "a" * 90 + " for the long-URL case, which must stand alone.",
        "Tabs\tand\nnewlines  and   runs of spaces, non-breaking\xa0ones, and 김정은 too.",
    ],
)
def test_the_wrap_filters_give_what_textwrap_gives(text: str) -> None:
    """The filters' own filling must not change a character of the digest."""
    assert filters.indent_wrap(text) == textwrap_fill(text, 76, "   ", "   ")
    head = "   Criteria: "
    assert filters.field(text, "Criteria") == textwrap_fill(text, 78, head, " " * len(head))


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)),
    width=st.integers(min_value=20, max_value=90),
)
def test_filling_matches_textwrap_on_any_text(words: list[str], width: int) -> None:
    text = " ".join(words)
    assert filters.fill(text, width, "   ", "  ") == textwrap_fill(text, width, "   ", "  ")


def test_a_promise_is_explained_on_its_own_meter() -> None:
    only_promises = render(TEMPLATES, digest(claim(claim_kind="promise")), "<digest-2.ann@tracker>")
    for part in (only_promises.text, BeautifulSoup(only_promises.html, "html.parser").get_text()):
        flat = " ".join(part.split())
        assert "VERDICT is kept, compromise or broken" in flat
        assert "tracker progress ID in-the-works" in flat
        assert "Replace VERDICT with true or false" not in flat
    both = render(TEMPLATES, digest(claim(), claim(key="no-freeze", claim_kind="promise")), "<d@tracker>")
    assert "Replace VERDICT with true or false" in both.text and "kept, compromise or broken" in both.text
