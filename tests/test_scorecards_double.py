"""Double review on the scorecards: pending reviews stay private and out of the scores;
resolved ones show both verdicts, the adjudication and the source's agreement tally."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from test_scorecards_site import NOW, WriteFile, build, import_site, scores_of, soup, text_of

from tracker import services
from tracker.config import ReviewSettings, Settings
from tracker.reports.changes import new_resolutions
from tracker.scorecards.lookups import recent_resolutions

TWO = ReviewSettings(verdicts_required=2)
EVIDENCE = ["https://example.org/evidence"]
SECRET = "ada-only reasoning 7f3a"

YAML = """
reviewers:
  - {handle: ada, name: Ada Byron, email: ada@example.org}
  - {handle: bob, name: Bob Moses, email: bob@example.org}
  - {handle: boss, name: The Boss, email: boss@example.org, role: admin}
sources:
  - {slug: seer, name: The Seer, kind: person}
claims:
""" + "".join(
    f"""
  - id: p{i}
    source: seer
    kind: prediction
    statement: Prediction {i} comes true.
    quote: prediction {i}
    made_on: 2020-01-01
    probability: {p}
    probability_basis: the source's own figure
    resolution: {{criteria: Reported., deadline: 2020-12-31}}"""
    for i, p in enumerate([0.9, 0.6, 0.2, 0.7], 1)
)


def _verdict(session: Session, key: str, verdict: str, by: str, note: str | None = None) -> None:
    services.resolve(session, key, verdict, EVIDENCE, note, by, None, NOW, review=TWO)


@pytest.fixture
def out(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, tmp_path: Path
) -> Path:
    """p1 and p2 double-reviewed and agreed (true, false); p3 disputed; p4 awaiting."""
    import_site(session_factory, settings, write_file, YAML)
    with session_factory.begin() as session:
        _verdict(session, "p1", "true", "ada")
        _verdict(session, "p1", "true", "bob")
        _verdict(session, "p2", "false", "bob")
        _verdict(session, "p2", "false", "ada")
        _verdict(session, "p3", "false", "ada", SECRET)
        _verdict(session, "p3", "true", "bob")
        _verdict(session, "p4", "true", "ada", SECRET)
    site = tmp_path / "site"
    build(session_factory, settings, site)
    return site


def test_pending_reviews_stay_out_of_the_scores_until_adjudicated(
    out: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    p = scores_of(session_factory, ["seer"]).predictions
    # Only p1 (0.9, true: a hit) and p2 (0.6, false: a miss): ((0.9-1)^2 + 0.6^2) / 2.
    assert (p.n_scored, p.brier, p.hit_rate) == (2, pytest.approx(0.185), 0.5)
    with session_factory.begin() as session:
        services.adjudicate(session, "p3", "true", EVIDENCE, "The record says yes.", "boss", None, NOW)
    p = scores_of(session_factory, ["seer"]).predictions
    # p3 (0.2, true) joins: (0.01 + 0.36 + 0.64) / 3; its side (no) missed.
    assert (p.n_scored, p.brier, p.hit_rate) == (3, pytest.approx(1.01 / 3), pytest.approx(1 / 3))


def test_a_pending_review_is_shown_open_without_its_verdicts(out: Path) -> None:
    html = (out / "sources/seer.html").read_text(encoding="utf-8")
    assert SECRET not in html
    page = soup(out, "sources/seer.html")
    awaiting = page.select_one("#open #claim-p4")
    disputed = page.select_one("#open #claim-p3")
    assert awaiting is not None and disputed is not None
    assert awaiting.select("ol.history li") == [] and disputed.select("ol.history li") == []
    assert "awaiting a second reviewer's verdict" in text_of(awaiting.select_one(".review-note"))
    assert "disagreed, and an admin has yet to adjudicate" in text_of(disputed.select_one(".review-note"))
    # Two resolved verdicts, both double-reviewed, both agreed.
    assert text_of(page.select_one(".double-review-tally")) == (
        "Double review: 2 of its 2 verdicts were double-reviewed; the reviewers agreed on 2 (100%)."
    )


def test_the_feed_and_the_report_leave_out_reviews_under_way(
    out: Path, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        keys = [e.claim_key for e in recent_resolutions(session)]
        report = new_resolutions(session, None, NOW + dt.timedelta(hours=1))
    assert sorted(keys) == ["p1", "p1", "p2", "p2"]
    assert (sorted(r.claim.key for r in report.items), report.total) == (["p1", "p1", "p2", "p2"], 4)
    assert SECRET not in str(report)


def test_an_adjudicated_claim_shows_both_verdicts_and_the_adjudication(
    out: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory.begin() as session:
        services.adjudicate(session, "p3", "true", EVIDENCE, "The record says yes.", "boss", None, NOW)
    build(session_factory, settings, out, now=NOW + dt.timedelta(minutes=1))
    page = soup(out, "sources/seer.html")
    entry = page.select_one("#record #claim-p3")
    assert entry is not None
    assert text_of(entry.select_one(".claim-meta .verdict")) == "Came true"
    labels = [text_of(li.select_one(".verdict")) for li in entry.select("ol.history li")]
    assert labels == [
        "Did not come true (first of two verdicts)",
        "Came true (second of two verdicts)",
        "Came true (adjudication)",
    ]
    assert text_of(entry.select_one(".review-note")) == (
        "Double-reviewed: the verdicts differed (Ada Byron: Did not come true; Bob Moses: Came true); "
        "The Boss adjudicated: Came true."
    )
    assert SECRET in text_of(entry)  # resolved: the first verdict's note is public now
    assert (
        text_of(page.select_one("#claim-p1 .review-note"))
        == "Double-reviewed: Ada Byron and Bob Moses agreed."
    )
    assert text_of(page.select_one(".double-review-tally")) == (
        "Double review: 3 of its 3 verdicts were double-reviewed; the reviewers agreed on 2 (67%)."
    )
