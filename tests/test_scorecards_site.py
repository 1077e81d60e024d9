"""The scorecard site: pages built from a small imported database, read back with BeautifulSoup.

The database comes through the real import path (`import_claims` on inline YAML). Every
figure on a page is compared with what `tracker.scoring` computes from the same records.
The helpers at the top are shared with the incremental and browser tests.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import statistics
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker
from support.claimreview import claim_review

from tracker import services
from tracker.claimsfile import import_claims
from tracker.cli import cli
from tracker.config import Settings
from tracker.errors import NotFound
from tracker.models import Reviewer
from tracker.scorecards import CLAIMREVIEW_RATINGS, ORDERINGS, BuildResult, build_site
from tracker.scorecards.claimreview import ReviewWriter, script_json
from tracker.scorecards.data import iter_claims_by_source, load_sources, split_scored
from tracker.scorecards.figures import mean_interval
from tracker.scoring import SELECTION_NOTE, Z_95, score_source

WriteFile = Callable[[str, str], Path]
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
XSS_STATEMENT = 'Kim will <script>alert("statement")</script> & back down.'
XSS_QUOTE = 'We believe he said "</script><script>alert(1)</script>" to <b>us</b>.'

# Oracle: 12 scored predictions. Lucky: 2 near-certain hits, a better Brier on far too few.
ORACLE = [(0.9, "true"), (0.8, "true"), (0.8, "false"), (0.7, "true"), (0.7, "true"), (0.3, "false")]
ORACLE += [(0.2, "false"), (0.2, "true"), (0.1, "false"), (0.6, "true"), (0.4, "false"), (0.9, "true")]
LUCKY = [(0.97, "true"), (0.97, "true")]
FACTS = ["true", "mostly-true", "half-true", "true", "false", "mostly-false", "true", "true", "half-true"]
FACTS += ["true", "unverifiable"]

HEAD = """
reviewers:
  - {handle: ann, name: Ann Lee, email: ann@example.org, timezone: Asia/Seoul}
  - {handle: bo, name: Bo Park, email: bo@example.org}
sources:
  - {slug: sino, name: SinoInsider, kind: outlet, url: 'https://sinoinsider.com/'}
  - {slug: analyst, name: An Analyst, kind: person, member_of: sino}
  - {slug: oracle, name: The Oracle, kind: outlet}
  - {slug: lucky, name: Lucky Guess, kind: person}
  - {slug: checker, name: Zeta Checked, kind: organisation}
claims:
"""

SINO = f"""
  - id: sino-xss
    source: sino
    kind: prediction
    statement: '{XSS_STATEMENT}'
    quote: '{XSS_QUOTE}'
    appeared_in: {{url: 'https://sinoinsider.com/a', title: 'Trump <i>Hints</i>', author: Staff, published: 2017-11-16}}
    made_on: 2017-11-16
    confidence: we believe
    resolution: {{criteria: Reported by two major outlets., deadline: 2018-01-31, timezone: Asia/Seoul}}
    reviewers: [ann]
    tags: [north-korea]
    outcome: {{verdict: false, resolved_on: 2017-11-29, by: ann, evidence: ['https://bbc.com/x'], note: Hwasong-15.}}
  - id: sino-ambiguous
    source: sino
    kind: prediction
    statement: Relations will warm.
    quote: relations will probably warm
    made_on: 2017-11-16
    probability: 0.7
    probability_basis: the source's own figure
    resolution: {{criteria: Reviewers agree that relations warmed., deadline: 2018-06-30}}
    outcome: {{verdict: ambiguous, resolved_on: 2018-07-02, by: bo, note: Cannot be told.}}
  - id: sino-annulled
    source: sino
    kind: prediction
    statement: If Xi visits, Kim will attend the banquet.
    quote: if Xi goes, Kim will surely attend
    made_on: 2017-11-16
    probability: 0.9
    probability_basis: the source's own figure
    resolution: {{criteria: Kim attends a banquet during a Xi visit., deadline: 2018-06-30}}
    outcome: {{verdict: annulled, resolved_on: 2018-07-02, by: bo, note: Xi did not visit.}}
  - id: sino-hedge
    source: sino
    kind: prediction
    statement: Song Tao may meet Kim Jong Un.
    quote: Song may well meet Kim
    made_on: 2017-11-16
    confidence: may
    resolution: {{criteria: A meeting is reported., deadline: 2017-12-31}}
    outcome: {{verdict: false, resolved_on: 2017-12-01, by: ann, evidence: ['https://example.org/no-meeting']}}
  - id: sino-open
    source: sino
    kind: prediction
    statement: Xi will visit Pyongyang again.
    quote: Xi will likely return
    made_on: 2026-01-10
    probability: 0.6
    probability_basis: the source's own figure
    resolution: {{criteria: A visit is announced by KCNA., deadline: 2027-01-31}}
  - id: sino-overdue
    source: sino
    kind: prediction
    statement: Kim will visit Beijing.
    quote: Kim will go to Beijing
    made_on: 2026-01-10
    probability: 0.8
    probability_basis: the source's own figure
    resolution: {{criteria: A visit is reported., deadline: 2026-10-01}}
  - id: sino-fact
    source: sino
    kind: fact
    statement: Song Tao heads the International Department.
    quote: Song, head of the ILD
    made_on: 2017-11-16
    outcome: {{verdict: true, resolved_on: 2017-11-20, by: bo, evidence: ['https://example.org/ild']}}
  - id: sino-unverifiable
    source: sino
    kind: fact
    statement: Song and Xi are close friends.
    quote: Song is close to Xi
    made_on: 2017-11-16
    outcome: {{verdict: unverifiable, resolved_on: 2017-11-20, by: bo, note: No record either way.}}
  - id: analyst-1
    source: analyst
    kind: prediction
    statement: There will be a summit in 2018.
    quote: a summit is likely
    made_on: 2017-11-16
    probability: 0.7
    probability_basis: the source's own figure
    resolution: {{criteria: A summit is held., deadline: 2018-12-31}}
    outcome: {{verdict: true, resolved_on: 2018-06-12, by: ann, evidence: ['https://example.org/summit']}}
  - id: analyst-2
    source: analyst
    kind: prediction
    statement: Sanctions will be lifted in 2018.
    quote: sanctions will probably go
    made_on: 2017-11-16
    probability: 0.6
    probability_basis: the source's own figure
    resolution: {{criteria: UN sanctions are lifted., deadline: 2018-12-31}}
    outcome: {{verdict: false, resolved_on: 2019-01-02, by: ann, evidence: ['https://example.org/sanctions']}}
"""


def _predictions(slug: str, rows: list[tuple[float, str]]) -> str:
    out = []
    for i, (p, verdict) in enumerate(rows, 1):
        out.append(f"""
  - id: {slug}-{i}
    source: {slug}
    kind: prediction
    statement: {slug} prediction {i} comes true.
    quote: prediction {i}, said with confidence
    made_on: 2017-0{1 + i % 9}-01
    probability: {p}
    probability_basis: the source's own figure
    resolution: {{criteria: Prediction {i} is reported to have come true., deadline: 2018-12-31}}
    outcome: {{verdict: {verdict}, resolved_on: 2019-0{1 + i % 9}-15, by: bo, evidence: ['https://example.org/{slug}/{i}']}}""")
    return "".join(out)


def _facts() -> str:
    out = []
    for i, verdict in enumerate(FACTS, 1):
        evidence = "" if verdict == "unverifiable" else f", evidence: ['https://example.org/fact/{i}']"
        out.append(f"""
  - id: fact-{i}
    source: checker
    kind: fact
    statement: Fact number {i} holds.
    quote: fact {i}
    made_on: 2018-03-0{1 + i % 9}
    outcome: {{verdict: {verdict}, resolved_on: 2018-04-01, by: ann{evidence}}}""")
    return "".join(out)


SITE_YAML = HEAD + SINO + _predictions("oracle", ORACLE) + _predictions("lucky", LUCKY) + _facts()


def import_site(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, text: str = SITE_YAML
) -> None:
    """Import `text` as claims.yaml into the test database, committed."""
    path = write_file("claims.yaml", text)
    with session_factory.begin() as session:
        import_claims(session, path, settings=settings, now=NOW)


def build(
    session_factory: sessionmaker[Session],
    settings: Settings,
    out: Path,
    now: dt.datetime = NOW,
    **options: Any,
) -> BuildResult:
    """Build the site from the committed database, as `tracker scorecards` does."""
    with session_factory() as session:
        return build_site(session, out, settings=settings, now=now, **options)


def soup(out: Path, page: str) -> BeautifulSoup:
    """A built page, parsed."""
    return BeautifulSoup((out / page).read_text(encoding="utf-8"), "html.parser")


def scores_of(session_factory: sessionmaker[Session], slugs: list[str]) -> Any:
    """tracker.scoring's figures for these sources' claims taken together, read through the loader."""
    with session_factory() as session:
        ids = [s.id for s in load_sources(session) if s.slug in slugs]
        claims = [c for _, found in iter_claims_by_source(session, ids) for c in found]
    return score_source(*split_scored(claims), today=NOW.date())


@pytest.fixture
def site(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, tmp_path: Path
) -> Path:
    """The site built from SITE_YAML."""
    import_site(session_factory, settings, write_file)
    out = tmp_path / "site"
    build(session_factory, settings, out)
    return out


def figure(page: BeautifulSoup, section: str, key: str) -> Tag:
    found = page.select_one(f"#{section} [data-figure='{key}']")
    assert isinstance(found, Tag), key
    return found


def text_of(node: Tag | None) -> str:
    assert node is not None
    return " ".join(node.get_text(" ").split())


# --- the index -------------------------------------------------------------------------------------


def index_slugs(out: Path, page: str = "index.html") -> list[str]:
    rows = soup(out, page).select("table.sources tbody tr")
    return [
        str(row.select_one("th a")["href"]).removeprefix("sources/").removesuffix(".html") for row in rows
    ]  # type: ignore[index]


def test_the_index_never_ranks_a_thin_record_above_a_sampled_one(site: Path) -> None:
    assert index_slugs(site)[:2] == ["oracle", "lucky"]
    rows = {
        slug: row
        for slug, row in zip(index_slugs(site), soup(site, "index.html").select("tbody tr"), strict=True)
    }
    oracle, lucky = rows["oracle"], rows["lucky"]
    assert text_of(oracle.select_one(".rank")) == "1"
    # Lucky's Brier is far better, but on two predictions: marked, and unranked.
    assert text_of(lucky.select_one(".rank")) == "\u2014"  # the one "none" (tracker.formatting.NONE)
    assert lucky.select_one(".too-few") is not None and oracle.select_one(".too-few") is None
    assert "12" in text_of(oracle.select_one("[data-label='Scored predictions']"))
    brier = text_of(oracle.select_one("[data-label='Brier score']"))
    assert re.search(r"0\.\d{3} 0\.\d{3}\u20130\.\d{3}", brier), brier  # the figure and its 95% interval


def test_every_column_heading_links_to_a_prerendered_ordering(site: Path) -> None:
    for ordering in ORDERINGS:
        page = soup(site, ordering.file)
        links = {str(a["href"]) for a in page.select("table.sources thead a")}
        assert links == {o.file for o in ORDERINGS}
        active = page.select("th[aria-sort]")
        assert len(active) == 1 and active[0]["aria-sort"] == ordering.direction
        assert page.select("script") == []  # sorting needs no JavaScript
    by_name = index_slugs(site, "index-by-name.html")
    assert by_name == ["analyst", "lucky", "sino", "oracle", "checker"]  # An, Lucky, Sino, The, Zeta
    assert index_slugs(site, "index-by-n.html")[0] == "oracle"
    assert index_slugs(site, "index-by-facts.html")[0] == "checker"


def test_the_index_states_the_selection_and_the_convention(site: Path) -> None:
    text = text_of(soup(site, "index.html").body)
    assert SELECTION_NOTE in text
    assert "0 to 2" in text and "double" in text


# --- a source's page -------------------------------------------------------------------------------


def test_headline_figures_are_tracker_scorings_figures(
    site: Path, session_factory: sessionmaker[Session]
) -> None:
    page = soup(site, "sources/oracle.html")
    p = scores_of(session_factory, ["oracle"]).predictions
    expected = {
        "brier": p.brier,
        "skill-chance": p.skill_vs_chance,
        "skill-base-rate": p.skill_vs_base_rate,
        "log-score": p.log_score,
        "hit-rate": p.hit_rate,
        "overconfidence": p.overconfidence,
    }
    for key, value in expected.items():
        assert value is not None
        assert float(str(figure(page, "predictions", key)["data-value"])) == value, key
    assert text_of(figure(page, "predictions", "brier").select_one(".figure-value")) == f"{p.brier:.3f}"
    assert p.n_scored == 12 and not p.too_few
    # The conventions are stated where the figures are.
    text = text_of(page.select_one("#predictions"))
    assert "0 to 2" in text and "clipped to 1%\u201399%" in text and "50% or more" in text
    # Calibration: one row per bin, with n and the Wilson interval, and the chart draws each.
    rows = page.select("table.calibration-table tbody tr")
    assert [int(text_of(r.select("td")[0])) for r in rows] == [b.n for b in p.calibration]
    assert len(page.select("svg.chart g.bin")) == len(p.calibration)
    assert [text_of(t) for t in page.select("svg.chart g.bin text.n")] == [f"n={b.n}" for b in p.calibration]


def test_facts_show_the_accuracy_index_and_the_verdict_distribution(
    site: Path, session_factory: sessionmaker[Session]
) -> None:
    page = soup(site, "sources/checker.html")
    f = scores_of(session_factory, ["checker"]).facts
    assert float(str(figure(page, "facts", "accuracy")["data-value"])) == f.accuracy
    assert "mostly true 75%" in text_of(page.select_one("#facts"))
    counts = {text_of(r.th): int(text_of(r.select("td")[0])) for r in page.select("#fact-verdicts tbody tr")}
    assert counts["True"] == 5 and counts["Unverifiable"] == 1 and counts["Not yet checked"] == 0
    assert page.select_one("#predictions") is None  # no predictions, no empty section


def test_excluded_items_are_counted_and_shown_but_not_scored(
    site: Path, session_factory: sessionmaker[Session]
) -> None:
    page = soup(site, "sources/sino.html")
    p = scores_of(session_factory, ["sino"]).predictions
    assert p.n_scored == 1  # only sino-xss: the rest are open, ambiguous, annulled or a hedge
    assert float(str(figure(page, "predictions", "brier")["data-value"])) == p.brier
    tally = text_of(page.select_one(".excluded-tally"))
    assert "1 ambiguous prediction" in tally and "1 annulled prediction" in tally
    assert "1 hedge that names no probability" in tally and "1 unverifiable fact" in tally
    excluded = {
        str(a["id"]): text_of(a.select_one(".excluded-why")) for a in page.select("#excluded article")
    }
    assert set(excluded) == {
        "claim-sino-ambiguous",
        "claim-sino-annulled",
        "claim-sino-hedge",
        "claim-sino-unverifiable",
    }
    assert "hedge" in excluded["claim-sino-hedge"] and "annulled" in excluded["claim-sino-annulled"]
    record = [str(a["id"]) for a in page.select("#record article")]
    assert record == ["claim-sino-xss", "claim-sino-fact"]


def test_thin_pages_warn_and_every_page_states_how_claims_were_chosen(site: Path) -> None:
    lucky = soup(site, "sources/lucky.html")
    assert "Too few to judge" in text_of(lucky.select_one(".note-thin"))
    assert SELECTION_NOTE in text_of(lucky.select_one(".note-selection"))
    oracle = soup(site, "sources/oracle.html")
    assert oracle.select_one(".note-thin") is None
    assert SELECTION_NOTE in text_of(oracle.select_one(".note-selection"))


def test_open_predictions_show_days_left_and_flag_the_overdue(site: Path) -> None:
    page = soup(site, "sources/sino.html")
    open_ = page.select("#open article")
    assert [str(a["id"]) for a in open_] == ["claim-sino-overdue", "claim-sino-open"]  # soonest first
    overdue, due = open_
    assert "is-overdue" in overdue["class"] and "Overdue" in text_of(overdue.select_one(".claim-meta"))
    assert text_of(overdue.select_one(".days-left")) == "overdue by 53 days"  # 1 Oct to 23 Nov
    assert text_of(due.select_one(".days-left")) == "69 days left"  # to 31 Jan 2027
    assert "is-overdue" not in due["class"]


def test_a_resolved_claim_shows_its_whole_record(site: Path) -> None:
    claim = soup(site, "sources/sino.html").select_one("#claim-sino-xss")
    assert claim is not None
    assert text_of(claim.select_one(".quote")) == XSS_QUOTE
    link = claim.select_one(".appeared a")
    assert link is not None and link["href"] == "https://sinoinsider.com/a"
    assert "Reported by two major outlets." in text_of(claim.select_one("ol.criteria"))
    history = claim.select("ol.history li")
    assert len(history) == 1
    entry = text_of(history[0])
    assert (
        "29 Nov 2017" in entry
        and "Did not come true" in entry
        and "Ann Lee" in entry
        and "Hwasong-15." in entry
    )
    assert [str(a["href"]) for a in history[0].select(".evidence a")] == ["https://bbc.com/x"]
    # Evidence shows the site's name; the link keeps the whole address.
    assert [text_of(a) for a in history[0].select(".evidence a")] == ["bbc.com"]
    assert "A miss" in text_of(claim.select_one(".outcome"))  # said 67.5% yes; it did not happen


def test_an_outlet_page_adds_up_its_people(site: Path, session_factory: sessionmaker[Session]) -> None:
    page = soup(site, "sources/sino.html")
    together = scores_of(session_factory, ["sino", "analyst"]).predictions
    alone = scores_of(session_factory, ["sino"]).predictions
    rows = {text_of(r.th): [text_of(td) for td in r.select("td")] for r in page.select("#together tbody tr")}
    assert rows["Scored predictions"] == [str(alone.n_scored), str(together.n_scored)]
    assert rows["Brier score"] == [f"{alone.brier:.3f}", f"{together.brier:.3f}"]
    assert [str(a["href"]) for a in page.select(".members a")] == ["analyst.html"]
    person = soup(site, "sources/analyst.html")
    parent = person.select_one(".eyebrow a")
    assert parent is not None and parent["href"] == "sino.html"


def test_unresolving_recomputes_the_page(
    site: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory.begin() as session:
        services.unresolve(session, "oracle-1", "bo", "evidence retracted", NOW)
    build(session_factory, settings, site)
    page = soup(site, "sources/oracle.html")
    p = scores_of(session_factory, ["oracle"]).predictions
    assert p.n_scored == 11
    assert float(str(figure(page, "predictions", "brier")["data-value"])) == p.brier
    claim = page.select_one("#open #claim-oracle-1")
    assert claim is not None and claim.select_one("script") is None  # open: no ClaimReview
    labels = [text_of(li.select_one(".verdict")) for li in claim.select("ol.history li")]
    assert labels == ["Came true", "Re-opened"]


def test_superseded_criteria_stay_visible(
    site: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory.begin() as session:
        claim = services.get_claim(session, "sino-open")
        assert claim.criteria is not None and claim.deadline is not None
        editor = Reviewer(handle="eve", name="Eve Editor", email="eve@example.org", role="editor")
        services.revise_criteria(
            session,
            claim,
            "A visit is announced.",
            dt.date(2027, 6, 30),
            None,
            None,
            NOW,
            reason="KCNA no longer <i>publishes</i> these.",
            by=editor,
        )
    build(session_factory, settings, site)
    versions = soup(site, "sources/sino.html").select("#claim-sino-open ol.criteria li")
    # The new version says what it changed, word by word, and who changed it, when and why.
    change = versions[1].select_one(".criteria-change")
    assert change is not None
    assert [d.get_text() for d in change.select("del")] == [
        "[removed] announced by KCNA.",
        "[removed] 31 Jan 2027",
    ]
    assert [i.get_text() for i in change.select("ins")] == ["[added] announced.", "[added] 30 Jun 2027"]
    meta = change.select_one(".change-meta").get_text()
    assert "by Eve Editor" in meta and "KCNA no longer <i>publishes</i> these." in meta
    assert [v["class"] for v in versions] == [["is-superseded"], ["is-current"]]
    assert "superseded" in text_of(versions[0]) and "A visit is announced by KCNA." in text_of(versions[0])
    assert "in force" in text_of(versions[1]) and "30 Jun 2027" in text_of(versions[1])
    # Marked without striking the text through, which would hide the hyphens in its dates.
    assert "line-through" not in (site / "style.css").read_text(encoding="utf-8")


# --- ClaimReview, the feed, escaping, offline ------------------------------------------------------


def reviews(page: BeautifulSoup) -> dict[str, dict[str, Any]]:
    """The ClaimReview JSON-LD of each claim on a page, by claim anchor."""
    found = {}
    for script in page.select("script[type='application/ld+json']"):
        article = script.find_parent("article")
        assert article is not None
        found[str(article["id"])] = json.loads(script.string or "")
    return found


def test_resolved_claims_carry_claimreview_field_by_field(site: Path) -> None:
    found = reviews(soup(site, "sources/sino.html"))
    # Every resolved claim, excluded ones too; open ones none.
    assert set(found) == {
        "claim-sino-xss", "claim-sino-ambiguous", "claim-sino-annulled", "claim-sino-hedge",
        "claim-sino-fact", "claim-sino-unverifiable",
    }  # fmt: skip
    review = found["claim-sino-xss"]
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert review["url"] == "sino.html#claim-sino-xss"
    assert review["claimReviewed"] == XSS_STATEMENT
    assert review["datePublished"] == "2017-11-29"
    assert review["author"] == {"@type": "Organization", "name": "tracker"}
    item = review["itemReviewed"]
    assert item["@type"] == "Claim" and item["datePublished"] == "2017-11-16"
    assert item["author"] == {
        "@type": "Organization",
        "name": "SinoInsider",
        "url": "https://sinoinsider.com/",
    }
    work = {"@type": "CreativeWork", "url": "https://sinoinsider.com/a", "headline": "Trump <i>Hints</i>"}
    work["datePublished"] = "2017-11-16"
    assert item["appearance"] == work and item["firstAppearance"] == work
    assert review["reviewRating"] == {
        "@type": "Rating", "alternateName": "Did not come true", "ratingValue": 1, "bestRating": 5, "worstRating": 1,
    }  # fmt: skip
    assert (
        found["claim-sino-fact"]["reviewRating"]["ratingValue"] == CLAIMREVIEW_RATINGS[("fact", "true")] == 5
    )
    for no_rating in ("claim-sino-ambiguous", "claim-sino-annulled", "claim-sino-unverifiable"):
        assert set(found[no_rating]["reviewRating"]) == {"@type", "alternateName"}
    person = reviews(soup(site, "sources/analyst.html"))["claim-analyst-1"]["itemReviewed"]
    assert person["author"] == {"@type": "Person", "name": "An Analyst"} and "appearance" not in person


def test_the_fast_claimreview_writer_matches_the_reference(
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
                expected = None if reference is None else script_json(reference)
                assert writer(claim, anchor) == expected


def test_the_atom_feed_lists_recent_resolutions(site: Path) -> None:
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.parse(site / "feed.xml").getroot()
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    for field in ("a:id", "a:title", "a:updated", "a:author/a:name"):
        assert (feed.findtext(field, namespaces=ns) or "").strip(), field
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 8 + len(ORACLE) + len(LUCKY) + len(FACTS) - 0  # every history entry so far
    ids = [e.findtext("a:id", namespaces=ns) for e in entries]
    assert len(set(ids)) == len(ids) and all(i and i.startswith("urn:uuid:") for i in ids)
    for entry in entries:
        updated = entry.findtext("a:updated", namespaces=ns) or ""
        assert dt.datetime.fromisoformat(updated.replace("Z", "+00:00")).tzinfo is not None
        href = str(entry.find("a:link[@rel='alternate']", ns).get("href"))  # type: ignore[union-attr]
        page, anchor = href.split("#")
        assert soup(site, page).find(id=anchor) is not None, href
    xss = next(e for e in entries if XSS_STATEMENT in (e.findtext("a:title", namespaces=ns) or ""))
    assert xss.findtext("a:title", namespaces=ns) == f"Did not come true: {XSS_STATEMENT}"


def test_user_text_is_escaped_everywhere_even_inside_json_ld(site: Path) -> None:
    html = (site / "sources/sino.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<b>us</b>" not in html and "<i>Hints</i>" not in html
    assert "&lt;script&gt;alert(&#34;statement&#34;)&lt;/script&gt;" in html
    page = BeautifulSoup(html, "html.parser")
    scripts = page.select("script")
    assert all(s.get("type") == "application/ld+json" for s in scripts)  # nothing executable
    for script in scripts:
        body = script.string or ""
        assert "</" not in body and "<" not in body, body
    assert reviews(page)["claim-sino-xss"]["claimReviewed"] == XSS_STATEMENT
    assert text_of(page.select_one("#claim-sino-xss .statement")) == XSS_STATEMENT
    # The feed is XML: escaped there too, and it still parses.
    assert "<script>" not in (site / "feed.xml").read_text(encoding="utf-8")


def test_pages_load_nothing_from_elsewhere(site: Path) -> None:
    for path in site.rglob("*.html"):
        page = soup(site, str(path.relative_to(site)))
        assert page.html is not None and page.html["lang"] == "en"
        for tag, attribute in (("link", "href"), ("script", "src"), ("img", "src"), ("iframe", "src")):
            for node in page.find_all(tag):
                value = node.get(attribute)
                if value is None:
                    continue
                assert not re.match(r"^(https?:)?//", str(value)), f"{path}: {tag} {value}"
        stylesheet = page.select_one("link[rel='stylesheet']")
        assert stylesheet is not None and (path.parent / str(stylesheet["href"])).resolve().is_file()
    css = (site / "style.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css and "@media print" in css


# --- the command -----------------------------------------------------------------------------------


def test_the_scorecards_command(
    db_url: str,
    session_factory: sessionmaker[Session],
    settings: Settings,
    write_file: WriteFile,
    tmp_path: Path,
) -> None:
    import_site(session_factory, settings, write_file)
    config = write_file("tracker-test.toml", "")
    out = tmp_path / "out"
    base = ["--config", str(config), "--database-url", db_url, "scorecards", "--out", str(out)]
    result = CliRunner().invoke(cli, [*base, "--now", NOW.isoformat(), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sources"] == 5 and data["claims"] == 10 + len(ORACLE) + len(LUCKY) + len(FACTS)
    assert "sources/sino.html" in data["written"] and data["unchanged"] == 0 and data["deleted"] == []
    again = CliRunner().invoke(cli, [*base, "--now", NOW.isoformat()], catch_exceptions=False)
    assert again.exit_code == 0
    assert again.stdout.startswith("wrote 6 files (0 source pages; 5 unchanged) for 5 sources")
    unknown = CliRunner().invoke(cli, [*base, "--source", "sinoo"], catch_exceptions=False)
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "tracker: error: no source 'sinoo' (did you mean 'sino'?)"


def test_an_unknown_source_is_not_found(
    site: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with pytest.raises(NotFound):
        build(session_factory, settings, site, source="nobody")


def test_the_interval_of_a_mean_is_the_normal_approximation() -> None:
    values = [0.01, 0.04, 0.64, 0.09, 0.25]
    mean = statistics.fmean(values)
    half = Z_95 * statistics.stdev(values) / math.sqrt(len(values))
    assert mean_interval(values) == pytest.approx((max(0.0, mean - half), mean + half))
    assert mean_interval([1.0, 0.0]) == pytest.approx((0.0, 1.0))  # clipped to the figure's range
    assert mean_interval([0.2]) is None


def test_families_are_read_together_members_first() -> None:
    from tracker.scorecards.data import SourceRecord
    from tracker.scorecards.family import Family

    def source(i: int, slug: str, parent: int | None = None) -> SourceRecord:
        return SourceRecord(i, slug, slug, "person" if parent else "outlet", None, None, parent, 0)

    # Slugs interleave the families, as src1, src10, src2 ... would; a cycle has no top.
    sources = [
        source(1, "a-outlet"),
        source(2, "b-person", 4),
        source(3, "c-person", 1),
        source(4, "d-outlet"),
        source(5, "e-person", 1),
        source(6, "f-loop", 7),
        source(7, "g-loop", 6),
    ]
    family = Family(sorted(sources, key=lambda s: s.slug))
    order = family.children_first([s.id for s in sources])
    assert order == [3, 5, 1, 2, 4, 7, 6]
    # Only what was asked for, and a member whose outlet is not asked for stands alone.
    assert family.children_first([2, 3]) == [2, 3]
    # Units never split a family: the first family (3, 5, 1) stays whole though the size is 2.
    assert family.units([s.id for s in sources], 2) == [[3, 5, 1], [2, 4], [7, 6]]
