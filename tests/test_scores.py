"""Per-source figures (tracker.scorecards.summary) and `tracker scores` / `tracker score SLUG`.

The expected figures are computed here by calling tracker.scoring directly on records
written out by hand from the YAML below, so the loader, the family grouping and the
JSON are all checked against the pure core.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.cli import Tracker

from tracker import services
from tracker.claimsfile import import_claims
from tracker.cli.output import WIDTH, text_width
from tracker.config import Settings
from tracker.scorecards.summary import summarise_source, summarise_sources, summary_json
from tracker.scoring import ScoredFact, ScoredPrediction, SourceScores, TalliedPromise, rank_key, score_source

IMPORTED_AT = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
NOW = "2026-11-23T12:00:00+00:00"
TODAY = dt.date(2026, 11, 23)

CLAIMS = """
reviewers:
  - {handle: jkim, name: Ji-woo Kim, email: jkim@example.org}
sources:
  - {slug: sino, name: SinoInsider, kind: outlet}
  - {slug: analyst, name: An Analyst, kind: person, member_of: sino}
  - {slug: pundit, name: A Pundit, kind: person}
claims:
  - id: p1
    source: sino
    kind: prediction
    statement: P1 happens.
    quote: P1 will happen.
    made_on: 2026-01-05
    probability: 0.8
    probability_basis: the source's own figure
    resolution: {criteria: Reported., deadline: 2026-06-30}
    outcome: {verdict: 'true', resolved_on: 2026-07-01, by: jkim, evidence: ['https://example.org/p1']}
  - id: p2
    source: sino
    kind: prediction
    statement: P2 happens.
    quote: We believe P2 will happen.
    made_on: 2026-01-05
    confidence: we believe
    resolution: {criteria: Reported., deadline: 2026-06-30}
    outcome: {verdict: 'false', resolved_on: 2026-07-01, by: jkim, evidence: ['https://example.org/p2']}
  - id: p3
    source: analyst
    kind: prediction
    statement: P3 happens.
    quote: P3 probably not.
    made_on: 2026-02-01
    probability: 0.3
    probability_basis: the source's own figure
    resolution: {criteria: Reported., deadline: 2026-08-31}
    outcome: {verdict: 'false', resolved_on: 2026-09-01, by: jkim, evidence: ['https://example.org/p3']}
  - id: p4
    source: analyst
    kind: prediction
    statement: P4 happens.
    quote: P4 may happen.
    made_on: 2026-02-01
    confidence: may
    resolution: {criteria: Reported., deadline: 2027-01-31}
  - id: p5
    source: pundit
    kind: prediction
    statement: P5 happens.
    quote: P5, surely.
    made_on: 2026-03-01
    probability: 0.9
    probability_basis: the source's own figure
    resolution: {criteria: Reported., deadline: 2026-09-30}
    outcome: {verdict: ambiguous, resolved_on: 2026-10-01, by: jkim}
  - id: p6
    source: pundit
    kind: prediction
    statement: P6 happens.
    quote: P6 should happen.
    made_on: 2026-03-01
    probability: 0.6
    probability_basis: the source's own figure
    resolution: {criteria: Reported., deadline: 2026-11-10}
  - id: f1
    source: sino
    kind: fact
    statement: F1 is so.
    quote: F1.
    made_on: 2026-01-05
    outcome: {verdict: mostly-true, resolved_on: 2026-01-10, by: jkim, evidence: ['https://example.org/f1']}
  - id: f2
    source: analyst
    kind: fact
    statement: F2 is so.
    quote: F2.
    made_on: 2026-02-01
    outcome: {verdict: unverifiable, resolved_on: 2026-02-10, by: jkim}
  - id: f3
    source: pundit
    kind: fact
    statement: F3 is so.
    quote: F3.
    made_on: 2026-03-01
  - id: m1
    source: sino
    kind: promise
    statement: We will publish M1.
    quote: We will publish M1.
    made_on: 2026-01-05
    resolution: {criteria: KEPT if published., deadline: 2026-06-30}
    progress:
      - {status: in-the-works, rated_on: 2026-03-01, by: jkim, evidence: ['https://example.org/m1a']}
    outcome: {verdict: kept, resolved_on: 2026-07-01, by: jkim, evidence: ['https://example.org/m1']}
  - id: m2
    source: analyst
    kind: promise
    statement: I will publish M2.
    quote: I will publish M2.
    made_on: 2026-02-01
    resolution: {criteria: KEPT if published., deadline: 2027-06-30}
    progress:
      - {status: in-the-works, rated_on: 2026-03-01, by: jkim, evidence: ['https://example.org/m2a']}
      - {status: stalled, rated_on: 2026-05-01, by: jkim, evidence: ['https://example.org/m2b']}
  - id: m3
    source: pundit
    kind: promise
    statement: I will publish M3.
    quote: I will publish M3.
    made_on: 2026-03-01
    resolution: {criteria: KEPT if published., deadline: 2026-10-31}
  - id: m4
    source: pundit
    kind: promise
    statement: I will publish M4.
    quote: I will publish M4.
    made_on: 2026-03-01
    resolution: {criteria: KEPT if published., deadline: 2026-10-31}
    outcome: {verdict: broken, resolved_on: 2026-11-01, by: jkim, evidence: ['https://example.org/m4']}
"""

d = dt.date
# Imported on 23 Nov 2026: every deadline but p4's had passed, so those were recorded late.
SINO_P = [
    ScoredPrediction("p1", 0.8, "true", d(2026, 1, 5), d(2026, 6, 30), d(2026, 7, 1), recorded_late=True),
    ScoredPrediction("p2", 0.675, "false", d(2026, 1, 5), d(2026, 6, 30), d(2026, 7, 1), recorded_late=True),
]
SINO_F = [ScoredFact("f1", "mostly-true", d(2026, 1, 5))]
ANALYST_P = [
    ScoredPrediction("p3", 0.3, "false", d(2026, 2, 1), d(2026, 8, 31), d(2026, 9, 1), recorded_late=True),
    ScoredPrediction("p4", None, None, d(2026, 2, 1), d(2027, 1, 31)),
]
ANALYST_F = [ScoredFact("f2", "unverifiable", d(2026, 2, 1))]
PUNDIT_P = [
    ScoredPrediction(
        "p5", 0.9, "ambiguous", d(2026, 3, 1), d(2026, 9, 30), d(2026, 10, 1), recorded_late=True
    ),
    ScoredPrediction("p6", 0.6, None, d(2026, 3, 1), d(2026, 11, 10), recorded_late=True),
]
PUNDIT_F = [ScoredFact("f3", None, d(2026, 3, 1))]
# The promises: tallied, never scored. m3 is open and overdue; m2 stalled (its latest progress).
SINO_M = [TalliedPromise("m1", "kept", "in-the-works", d(2026, 1, 5), d(2026, 6, 30))]
ANALYST_M = [TalliedPromise("m2", None, "stalled", d(2026, 2, 1), d(2027, 6, 30))]
PUNDIT_M = [
    TalliedPromise("m3", None, None, d(2026, 3, 1), d(2026, 10, 31)),
    TalliedPromise("m4", "broken", None, d(2026, 3, 1), d(2026, 10, 31)),
]


def expected_figures(scores: SourceScores) -> dict[str, Any]:
    """The JSON figures, taken field by field from the pure dataclasses (not from summary.py)."""
    p, f = scores.predictions, scores.facts
    counts = dataclasses.asdict(p.counts)
    counts["true"], counts["false"] = counts.pop("resolved_true"), counts.pop("resolved_false")
    facts = {k: v for k, v in dataclasses.asdict(f).items() if k != "min_sample"}
    facts["distribution"] = list(facts["distribution"])  # asdict keeps tuples; JSON has lists
    return {
        "n_scored": p.n_scored,
        "brier": p.brier,
        "skill_vs_chance": p.skill_vs_chance,
        "skill_vs_base_rate": p.skill_vs_base_rate,
        "base_rate": p.base_rate,
        "log_score": p.log_score,
        "hit_rate": p.hit_rate,
        "overconfidence": p.overconfidence,
        "binning": p.binning,
        "calibration": [dataclasses.asdict(b) for b in p.calibration],
        "decomposition": dataclasses.asdict(p.decomposition) if p.decomposition else None,
        "status": counts,
        "facts": facts,
        "promises": dataclasses.asdict(scores.promises),
        "min_sample": p.min_sample,
        "predictions_too_few": p.too_few,
        "too_few": scores.too_few,
    }


def pure(
    predictions: list[ScoredPrediction],
    facts: list[ScoredFact],
    promises: list[TalliedPromise] | None = None,
    **options: Any,
) -> dict[str, Any]:
    return expected_figures(score_source(predictions, facts, promises or [], today=TODAY, **options))


def fits(text: str) -> None:
    for line in text.splitlines():
        assert "://" in line or text_width(line) <= WIDTH, f"{text_width(line)} columns: {line!r}"


@pytest.fixture
def seeded(
    session_factory: sessionmaker[Session], settings: Settings, write_file: Callable[[str, str], Path]
) -> sessionmaker[Session]:
    """The database holding CLAIMS, committed, for the CLI and for fresh sessions."""
    path = write_file("claims.yaml", CLAIMS)
    with session_factory.begin() as session:
        import_claims(session, path, settings=settings, now=IMPORTED_AT)
    return session_factory


@pytest.fixture
def tracker(seeded: sessionmaker[Session], db_url: str, settings: Settings, tmp_path: Path) -> Tracker:
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    return Tracker(db_url, config)


def by_slug(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["slug"]: item for item in items}


# --- the summaries ------------------------------------------------------------------------------------


def test_summaries_equal_the_pure_scores(seeded: sessionmaker[Session]) -> None:
    with seeded() as session:
        found = {s.source.slug: s for s in summarise_sources(session, today=TODAY)}
    assert list(found) == ["analyst", "pundit", "sino"]
    assert found["sino"].scores == score_source(SINO_P, SINO_F, SINO_M, today=TODAY)
    assert found["analyst"].scores == score_source(ANALYST_P, ANALYST_F, ANALYST_M, today=TODAY)
    assert found["pundit"].scores == score_source(PUNDIT_P, PUNDIT_F, PUNDIT_M, today=TODAY)


def test_an_outlet_is_aggregated_with_its_members(seeded: sessionmaker[Session]) -> None:
    with seeded() as session:
        found = {s.source.slug: s for s in summarise_sources(session, today=TODAY)}
    sino = found["sino"]
    assert sino.members == ("analyst",)
    assert sino.including_members == score_source(
        SINO_P + ANALYST_P, SINO_F + ANALYST_F, SINO_M + ANALYST_M, today=TODAY
    )
    assert found["analyst"].member_of == "sino" and found["analyst"].including_members is None
    assert found["pundit"].member_of is None and found["pundit"].including_members is None


def test_one_source_with_its_members(seeded: sessionmaker[Session]) -> None:
    with seeded() as session:
        sino = summarise_source(session, "sino", today=TODAY, min_sample=1)
        analyst = summarise_source(session, "analyst", today=TODAY)
    assert sino.scores == score_source(SINO_P, SINO_F, SINO_M, today=TODAY, min_sample=1)
    assert sino.including_members == score_source(
        SINO_P + ANALYST_P, SINO_F + ANALYST_F, SINO_M + ANALYST_M, today=TODAY, min_sample=1
    )
    assert analyst.member_of == "sino" and analyst.members == ()


def test_families_are_kept_together_across_chunks(
    seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One source per chunk: the outlet's total must still wait for its member's records.
    from tracker.scorecards import summary

    real = summary.iter_claims_by_source
    monkeypatch.setattr(summary, "iter_claims_by_source", lambda s, ids: real(s, ids, chunk=1))
    with seeded() as session:
        found = {s.source.slug: s for s in summarise_sources(session, today=TODAY)}
    assert found["sino"].including_members == score_source(
        SINO_P + ANALYST_P, SINO_F + ANALYST_F, SINO_M + ANALYST_M, today=TODAY
    )


def test_summaries_of_an_empty_database(session: Session) -> None:
    assert summarise_sources(session, today=TODAY) == []


# --- tracker scores / score ---------------------------------------------------------------------------


def test_scores_json_equals_the_pure_functions(tracker: Tracker) -> None:
    found = tracker.json("scores", "--now", NOW)
    assert [s["slug"] for s in found] == ["analyst", "pundit", "sino"]
    got = by_slug(found)
    assert got["sino"] == {
        "slug": "sino",
        "name": "SinoInsider",
        "kind": "outlet",
        "member_of": None,
        "members": ["analyst"],
        **pure(SINO_P, SINO_F, SINO_M),
        "including_members": pure(SINO_P + ANALYST_P, SINO_F + ANALYST_F, SINO_M + ANALYST_M),
    }
    assert got["analyst"] == {
        "slug": "analyst",
        "name": "An Analyst",
        "kind": "person",
        "member_of": "sino",
        "members": [],
        **pure(ANALYST_P, ANALYST_F, ANALYST_M),
    }
    assert got["pundit"] == {
        "slug": "pundit",
        "name": "A Pundit",
        "kind": "person",
        "member_of": None,
        "members": [],
        **pure(PUNDIT_P, PUNDIT_F, PUNDIT_M),
    }


def test_scores_json_spot_checks(tracker: Tracker) -> None:
    """A few figures by hand, so that a bug shared by the core and the test cannot hide."""
    got = by_slug(tracker.json("scores", "--now", NOW))
    sino = got["sino"]
    assert sino["n_scored"] == 2
    assert sino["brier"] == pytest.approx((0.2**2 + 0.675**2) / 2)
    assert sino["hit_rate"] == 0.5
    assert [(b["lower"], b["n"], b["observed"]) for b in sino["calibration"]] == [
        (0.675, 1, 0.0),
        (0.8, 1, 1.0),
    ]
    assert sino["facts"]["accuracy"] == 0.75
    assert sino["including_members"]["n_scored"] == 3
    assert sino["including_members"]["status"]["hedges"] == 1
    assert sino["including_members"]["facts"]["unverifiable"] == 1
    pundit = got["pundit"]
    assert pundit["status"] == {
        "total": 2, "open": 1, "overdue": 1, "true": 0, "false": 0,
        "ambiguous": 1, "annulled": 0, "hedges": 0, "scored": 0,
        "unscored_decided": 0, "unscored_true": 0, "scored_recorded_late": 0,
    }  # fmt: skip
    assert pundit["brier"] is None and pundit["calibration"] == [] and pundit["decomposition"] is None


def test_promises_are_tallied_and_never_change_a_score(tracker: Tracker) -> None:
    """The database holds promises; every figure but the tally is what the core makes without them."""
    got = by_slug(tracker.json("scores", "--now", NOW))
    records = {
        "sino": (SINO_P, SINO_F, SINO_M),
        "analyst": (ANALYST_P, ANALYST_F, ANALYST_M),
        "pundit": (PUNDIT_P, PUNDIT_F, PUNDIT_M),
    }
    for slug, (predictions, facts, promises) in records.items():
        figures = {k: v for k, v in got[slug].items() if k in pure([], [])}
        without = pure(predictions, facts)  # no promises at all
        assert {k: v for k, v in figures.items() if k != "promises"} == {
            k: v for k, v in without.items() if k != "promises"
        }
        assert got[slug]["promises"]["total"] == len(promises) > 0
    assert got["pundit"]["promises"] == {
        "total": 2, "kept": 0, "compromise": 0, "broken": 1,
        "in_the_works": 0, "stalled": 0, "not_yet_rated": 1, "overdue": 1,
    }  # fmt: skip
    # An outlet's tally counts its people's promises, as its other figures do.
    assert got["sino"]["including_members"]["promises"]["stalled"] == 1
    assert got["sino"]["promises"]["kept"] == 1 and got["sino"]["promises"]["stalled"] == 0


def test_score_text_shows_the_promise_tally(tracker: Tracker) -> None:
    text = tracker.run("score", "pundit", "--now", NOW).stdout
    assert "Promises (tallied, never scored): 2: kept 0, compromise 0, broken 1" in " ".join(text.split())


def test_scores_options_reach_the_core(tracker: Tracker) -> None:
    got = by_slug(tracker.json("scores", "--now", NOW, "--min-sample", "2", "--binning", "decile"))
    assert got["sino"] == {**got["sino"], **pure(SINO_P, SINO_F, SINO_M, min_sample=2, binning="decile")}
    assert got["sino"]["predictions_too_few"] is False
    assert [b["lower"] for b in got["sino"]["calibration"]] == [0.6, 0.8]
    # Overdue is counted at --now: before P6's deadline it is merely open.
    early = by_slug(tracker.json("scores", "--now", "2026-11-01T00:00:00+00:00"))
    assert early["pundit"]["status"]["overdue"] == 0


def test_score_one_source(tracker: Tracker) -> None:
    one = tracker.json("score", "sino", "--now", NOW)
    assert one == by_slug(tracker.json("scores", "--now", NOW))["sino"]
    assert tracker.json("score", "analyst", "--now", NOW)["member_of"] == "sino"


def test_score_unknown_source_is_one_line(tracker: Tracker) -> None:
    assert (
        tracker.error("score", "sinno", "--json")
        == "tracker: error: no source 'sinno' (did you mean 'sino'?)"
    )
    assert tracker.error("score", "nobody") == "tracker: error: no source 'nobody'"


def test_unresolving_recomputes_the_figures(tracker: Tracker, seeded: sessionmaker[Session]) -> None:
    before = tracker.json("score", "sino", "--now", NOW)
    with seeded.begin() as session:
        services.unresolve(
            session, "p1", "jkim", "evidence retracted", dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
        )
    after = tracker.json("score", "sino", "--now", NOW)
    reopened = [dataclasses.replace(SINO_P[0], verdict=None, resolved_on=None), SINO_P[1]]
    assert after == {**after, **pure(reopened, SINO_F, SINO_M)}
    assert after["including_members"] == pure(reopened + ANALYST_P, SINO_F + ANALYST_F, SINO_M + ANALYST_M)
    assert (before["n_scored"], after["n_scored"]) == (2, 1)
    assert after["brier"] == 0.675**2 and after["status"]["open"] == 1


def test_scores_table_is_ranked_and_fits(tracker: Tracker, seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        services.add_source(
            session,
            slug="a-very-long-source-slug-that-would-not-fit-in-any-column",
            name="Long",
            kind="outlet",
        )
    out = tracker.run("scores", "--now", NOW, "--min-sample", "1").stdout
    fits(out)
    rows = [line.split() for line in out.splitlines()[1:5]]
    # Sampled sources by Brier (analyst 0.09, then sino), then the rest, unranked.
    assert [r[1] for r in rows[:2]] == ["analyst", "sino"]
    assert [r[0] for r in rows] == ["1", "2", "\u2014", "\u2014"]  # unranked: the one "none"
    assert "Claims were selected by reviewers" in out


def test_scores_table_order_is_rank_key(seeded: sessionmaker[Session]) -> None:
    from tracker.cli.scores import ranked

    with seeded() as session:
        found = summarise_sources(session, today=TODAY, min_sample=1)
    keys = [rank_key(s.scores) for s in ranked(found)]
    assert keys == sorted(keys)


def test_score_text_fits_and_names_the_members(tracker: Tracker) -> None:
    out = tracker.run("score", "sino", "--now", NOW).stdout
    fits(out)
    assert "members:" in out and "analyst" in out
    assert "Including its members (1):" in out
    assert "Too few to judge" in out
    assert "Calibration" in out


def test_scores_on_an_empty_database(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    t = Tracker(db_url, config)
    assert t.run("scores").stdout == "no sources\n"
    assert t.json("scores") == []


def test_summary_json_is_json(seeded: sessionmaker[Session]) -> None:
    with seeded() as session:
        for summary in summarise_sources(session, today=TODAY):
            data = summary_json(summary)
            assert json.loads(json.dumps(data, allow_nan=False)) == data
