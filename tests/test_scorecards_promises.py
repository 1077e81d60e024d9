"""Promises on the scorecards: the meter and record per source, the index column, ClaimReview, the feed.

Promises are tallied, never scored: a site with them has the same prediction and fact
figures, and the same ranking, as the site without them.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session, sessionmaker
from support.claimreview import RATINGS, claim_review
from test_scorecards_site import NOW, WriteFile, build, import_site, index_slugs, soup, text_of

from tracker import services
from tracker.config import Settings
from tracker.scorecards import ORDERINGS
from tracker.scorecards.claimreview import ReviewWriter, script_json
from tracker.scorecards.data import iter_claims_by_source, load_sources

HEAD = """
reviewers:
  - {handle: ann, name: Ann Lee, email: ann@example.org}
sources:
  - {slug: gov, name: The Governor, kind: person}
  - {slug: seer, name: The Seer, kind: person}
claims:
"""

# Predictions on both sources, so that both have figures the promises must not move.
PREDICTIONS = "".join(
    f"""
  - id: {slug}-p{i}
    source: {slug}
    kind: prediction
    statement: {slug} prediction {i} comes true.
    quote: prediction {i}
    made_on: 2020-01-01
    probability: {p}
    probability_basis: the source's own figure
    resolution: {{criteria: Reported., deadline: 2020-12-31}}
    outcome: {{verdict: {verdict}, resolved_on: 2021-01-05, by: ann, evidence: ['https://example.org/{slug}/{i}']}}"""
    for slug, rows in (("gov", [(0.9, "true"), (0.6, "false")]), ("seer", [(0.7, "true"), (0.2, "true")]))
    for i, (p, verdict) in enumerate(rows, 1)
)

PROMISES = """
  - id: gov-kept
    source: gov
    kind: promise
    statement: The governor will open the bridge.
    quote: We will open the bridge.
    made_on: 2020-01-01
    resolution: {criteria: KEPT if the bridge opens., deadline: 2021-12-31}
    progress:
      - {status: in-the-works, rated_on: 2020-06-01, by: ann, evidence: ['https://example.org/bridge-1'], note: Funded.}
      - {status: stalled, rated_on: 2020-09-01, by: ann, evidence: ['https://example.org/bridge-2']}
    outcome: {verdict: kept, resolved_on: 2021-10-01, by: ann, evidence: ['https://example.org/bridge-3']}
  - id: gov-compromise
    source: gov
    kind: promise
    statement: The governor will cut the tax by half.
    quote: We will halve the tax.
    made_on: 2020-01-01
    resolution: {criteria: KEPT if halved; COMPROMISE if cut less., deadline: 2021-12-31}
    outcome: {verdict: compromise, resolved_on: 2021-06-01, by: ann, evidence: ['https://example.org/tax']}
  - id: gov-broken
    source: gov
    kind: promise
    statement: The governor will not raise fares.
    quote: We will not raise fares.
    made_on: 2020-01-01
    resolution: {criteria: BROKEN if fares rise., deadline: 2021-12-31}
    outcome: {verdict: broken, resolved_on: 2021-02-01, by: ann, evidence: ['https://example.org/fares']}
  - id: gov-works
    source: gov
    kind: promise
    statement: The governor will build a school.
    quote: We will build a school.
    made_on: 2026-01-01
    resolution: {criteria: KEPT if it opens., deadline: 2027-12-31}
    progress:
      - {status: in-the-works, rated_on: 2026-06-01, by: ann, evidence: ['https://example.org/school']}
  - id: gov-stalled
    source: gov
    kind: promise
    statement: The governor will plant trees.
    quote: We will plant trees.
    made_on: 2026-01-01
    resolution: {criteria: KEPT if planted., deadline: 2027-12-31}
    progress:
      - {status: stalled, rated_on: 2026-06-01, by: ann, evidence: ['https://example.org/trees']}
  - id: gov-unrated
    source: gov
    kind: promise
    statement: The governor will fix the roads.
    quote: We will fix the roads.
    made_on: 2026-01-01
    resolution: {criteria: KEPT if fixed., deadline: 2026-10-31}
"""

WITHOUT = HEAD + PREDICTIONS
WITH = WITHOUT + PROMISES


@pytest.fixture
def site(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, tmp_path: Path
) -> Path:
    import_site(session_factory, settings, write_file, WITH)
    out = tmp_path / "site"
    build(session_factory, settings, out)
    return out


def test_a_source_page_shows_the_promise_meter_and_record(site: Path) -> None:
    page = soup(site, "sources/gov.html")
    meter = {
        text_of(row.th): text_of(row.select_one("td.num"))
        for row in page.select("#promises table#promise-meter tbody tr")
    }
    assert meter == {
        "Promise kept": "1",
        "Compromise": "1",
        "Promise broken": "1",
        "In the works": "1",
        "Stalled": "1",
        "Not yet rated": "1",
    }
    assert "6 promises (1 kept, 1 compromise, 1 broken, 3 open)" in text_of(page.select_one(".tally"))
    record = [str(a["id"]) for a in page.select("#promises article.claim")]
    assert record == ["claim-gov-kept", "claim-gov-compromise", "claim-gov-broken"]  # latest verdict first
    # Open promises wait with the other open claims, each showing where it stands.
    opened = {
        str(a["id"]): text_of(a.select_one(".claim-meta .verdict")) for a in page.select("#open article")
    }
    assert opened == {
        "claim-gov-unrated": "Open",
        "claim-gov-works": "In the works",
        "claim-gov-stalled": "Stalled",
    }
    assert page.select_one("#open #claim-gov-unrated .flag-overdue") is not None
    # Never among the scored claims, never "not scored" as though they were predictions.
    assert not page.select("#record article[id^='claim-gov-'][id*='kept']")
    assert not page.select("#excluded article")


def test_a_promise_entry_shows_its_progress_in_its_history(site: Path) -> None:
    entry = soup(site, "sources/gov.html").select_one("#claim-gov-kept")
    assert entry is not None
    assert text_of(entry.select_one(".claim-meta .verdict")) == "Promise kept"
    assert text_of(entry.select_one(".claim-kind")) == "promise"
    assert entry.select_one(".claim-facts") is not None and "Probability" not in text_of(
        entry.select_one(".claim-facts")
    )
    history = [
        (text_of(li.select_one("time")), text_of(li.select_one(".verdict")))
        for li in entry.select("ol.history li")
    ]
    assert history == [
        ("1 Jun 2020", "In the works"),
        ("1 Sep 2020", "Stalled"),
        ("1 Oct 2021", "Promise kept"),
    ]
    assert "Funded." in text_of(entry.select_one("ol.history li"))


def test_the_index_row_shows_the_promise_tally(site: Path) -> None:
    rows = {
        str(row.select_one("th a")["href"]): row  # type: ignore[index]
        for row in soup(site, "index.html").select("table.sources tbody tr")
    }
    cell = rows["sources/gov.html"].select_one("td[data-label='Promises kept / compromise / broken']")
    assert text_of(cell) == "1 / 1 / 1"
    none = rows["sources/seer.html"].select_one("td[data-label='Promises kept / compromise / broken']")
    assert text_of(none) == "\u2014"
    # Open counts every open claim: three open promises, one of them overdue.
    assert text_of(rows["sources/gov.html"].select_one("td[data-label='Open']")) == "3 1 overdue"


def _reviews(page: BeautifulSoup) -> dict[str, dict[str, Any]]:
    found = {}
    for script in page.select("script[type='application/ld+json']"):
        article = script.find_parent("article")
        assert article is not None
        found[str(article["id"])] = json.loads(script.string or "")
    return found


def test_claimreview_rates_promises_on_the_meter_and_skips_open_ones(site: Path) -> None:
    found = _reviews(soup(site, "sources/gov.html"))
    promises = {k: v for k, v in found.items() if not k.startswith("claim-gov-p")}
    assert set(promises) == {"claim-gov-kept", "claim-gov-compromise", "claim-gov-broken"}
    ratings = {k: v["reviewRating"] for k, v in promises.items()}
    assert ratings["claim-gov-kept"] == {
        "@type": "Rating", "alternateName": "Promise kept", "ratingValue": 5, "bestRating": 5, "worstRating": 1,
    }  # fmt: skip
    assert ratings["claim-gov-compromise"]["ratingValue"] == RATINGS[("promise", "compromise")] == 3
    assert ratings["claim-gov-broken"]["alternateName"] == "Promise broken"
    assert ratings["claim-gov-broken"]["ratingValue"] == 1
    # Dated by the verdict, not by a later-recorded progress entry.
    assert promises["claim-gov-kept"]["datePublished"] == "2021-10-01"


def test_the_fast_writer_matches_the_oracle_for_promises(
    session_factory: sessionmaker[Session], site: Path
) -> None:
    with session_factory() as session:
        sources = {s.id: s for s in load_sources(session)}
        for source_id, claims in iter_claims_by_source(session, list(sources)):
            writer = ReviewWriter(sources[source_id])
            for claim in claims:
                anchor = f"claim-{claim.key}"
                reference = claim_review(
                    claim, sources[source_id], f"{sources[source_id].slug}.html#{anchor}"
                )
                assert writer(claim, anchor) == (None if reference is None else script_json(reference))


def test_promises_leave_every_score_and_the_ranking_unchanged(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, tmp_path: Path
) -> None:
    import_site(session_factory, settings, write_file, WITHOUT)
    before = tmp_path / "before"
    build(session_factory, settings, before)
    import_site(session_factory, settings, write_file, WITH)
    after = tmp_path / "after"
    build(session_factory, settings, after)

    def figures(out: Path, slug: str) -> dict[str, str]:
        page = soup(out, f"sources/{slug}.html")
        return {
            str(f["data-figure"]): str(f.get("data-value")) for f in page.select("#predictions [data-figure]")
        }

    for slug in ("gov", "seer"):
        assert figures(before, slug) and figures(after, slug) == figures(before, slug)
        chart = soup(after, f"sources/{slug}.html").select_one("#predictions .calibration-table")
        assert text_of(chart) == text_of(
            soup(before, f"sources/{slug}.html").select_one("#predictions .calibration-table")
        )
    assert index_slugs(after) == index_slugs(before)
    for ordering in ORDERINGS:
        assert index_slugs(after, ordering.file) == index_slugs(before, ordering.file)
    # The promises are on the page after, and only there.
    assert soup(after, "sources/gov.html").select_one("#promises") is not None
    assert soup(before, "sources/gov.html").select_one("#promises") is None


def test_the_feed_announces_progress_and_promise_verdicts(
    site: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory.begin() as session:
        services.record_progress(
            session,
            "gov-unrated",
            "in-the-works",
            ["https://example.org/roads"],
            "Crews out.",
            "ann",
            None,
            NOW,
        )
    build(session_factory, settings, site)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [
        e.findtext("a:title", namespaces=ns)
        for e in ET.parse(site / "feed.xml").getroot().findall("a:entry", ns)
    ]
    assert titles[0] == "In the works: The governor will fix the roads."
    assert "Promise broken: The governor will not raise fares." in titles
    page = soup(site, "sources/gov.html")
    assert text_of(page.select_one("#claim-gov-unrated .claim-meta .verdict")) == "In the works"


def test_un_resolving_a_promise_puts_it_back_in_the_open(
    site: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory.begin() as session:
        services.unresolve(session, "gov-kept", "ann", "the bridge closed again", NOW + dt.timedelta(hours=1))
    build(session_factory, settings, site)
    page = soup(site, "sources/gov.html")
    entry = page.select_one("#open #claim-gov-kept")
    assert entry is not None and entry.select_one("script") is None
    # Open again, it shows its latest progress; the history keeps everything in order.
    assert text_of(entry.select_one(".claim-meta .verdict")) == "Stalled"
    labels = [text_of(li.select_one(".verdict")) for li in entry.select("ol.history li")]
    assert labels == ["In the works", "Stalled", "Promise kept", "Re-opened"]
