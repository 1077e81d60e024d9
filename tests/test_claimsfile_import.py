"""Importing and exporting claims files: validation, idempotency, versioning and round trips."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.claims import last_recorded, project_claims

from tracker.claimsfile import ImportReport, export_claims, import_claims
from tracker.config import Settings
from tracker.errors import InvalidInput
from tracker.models import Appearance, Claim, ClaimTag, CriteriaVersion, Resolution, Reviewer, Source

WriteFile = Callable[[str, str], Path]

HEAD = """
reviewers:
  - {handle: ann, name: Ann Lee, email: ann@example.org, timezone: Asia/Seoul, role: admin}
  - {handle: bo, name: Bo Park, email: bo@example.org}
sources:
  - {slug: sino, name: SinoInsider, kind: outlet, url: 'https://sinoinsider.com'}
  - {slug: analyst, name: An Analyst, kind: person, member_of: sino}
"""

CLAIMS = """
claims:
  - id: kim-tones-down
    source: sino
    kind: prediction
    statement: Kim Jong Un will visibly tone down provocations after Song Tao's visit.
    quote: We believe our analysis will be confirmed if Kim shows obeisance to Xi
    appeared_in: {url: 'https://sinoinsider.com/a', title: Trump Hints, published: 2017-11-16}
    made_on: 2017-11-16
    confidence: we believe
    resolution: {criteria: No ICBM test before the deadline., deadline: 2018-01-31, timezone: Asia/Seoul}
    reviewers: [ann]
    tags: [north-korea, china]
    outcome: {verdict: false, resolved_on: 2017-11-29, by: ann, evidence: ['https://bbc.com/x'], note: Hwasong-15.}
  - id: protege
    source: analyst
    kind: fact
    statement: Song Tao is a protege of Xi Jinping.
    quote: Song Tao may be a Xi protégé.
    appeared_in: {url: 'https://sinoinsider.com/a', title: Trump Hints, published: 2017-11-16}
    made_on: 2017-11-16
    confidence: may
    reviewers: [bo]
  - id: no-denuclearisation
    source: analyst
    kind: prediction
    statement: North Korea will not verifiably denuclearise by the end of 2027.
    quote: the Kim dynasty is not willing to yield
    made_on: 2017-11-16
    probability: 0.9
    probability_basis: the source's own figure
    resolution: {criteria: No IAEA verification of dismantlement by the deadline., deadline: 2027-12-31}
    reviewers: [ann, bo]
"""


def counts(session: Session) -> dict[str, int]:
    """Row counts of every table an import writes."""
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Source, Reviewer, Appearance, Claim, ClaimTag, CriteriaVersion, Resolution)
    }


@pytest.fixture
def run_import(
    session_factory: sessionmaker[Session], settings: Settings, now: dt.datetime
) -> Callable[[Path], ImportReport]:
    """Import a file in its own committed transaction, as `tracker import` does."""

    def run(path: Path) -> ImportReport:
        with session_factory.begin() as session:
            return import_claims(session, path, settings=settings, now=now, display_name="claims.yaml")

    return run


def problems_of(run: Callable[[Path], Any], path: Path) -> list[str]:
    with pytest.raises(InvalidInput) as excinfo:
        run(path)
    return [str(p) for p in excinfo.value.problems]


def test_import_creates_everything(run_import: Any, session_factory: Any, write_file: WriteFile) -> None:
    report = run_import(write_file("claims.yaml", HEAD + CLAIMS))
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert (report.sources_created, report.reviewers_created) == (2, 2)
    assert (report.new_criteria_versions, report.new_resolutions) == (2, 1)
    with session_factory() as session:
        assert counts(session) == {
            "sources": 2,
            "reviewers": 2,
            "appearances": 1,  # two claims, one article
            "claims": 3,
            "claim_tags": 2,
            "criteria_versions": 2,
            "resolutions": 1,
        }
        kim = session.scalars(select(Claim).where(Claim.key == "kim-tones-down")).one()
        assert kim.probability == pytest.approx(0.675)  # "we believe" -> likely -> midpoint
        assert kim.confidence == "we believe"
        assert (kim.status, kim.verdict) == ("resolved", "false")
        assert kim.timezone == "Asia/Seoul"
        assert kim.tag_names == ["china", "north-korea"]
        assert [r.handle for r in kim.reviewers] == ["ann"]
        assert kim.resolutions[0].evidence == ["https://bbc.com/x"]
        assert kim.resolutions[0].reviewer is not None and kim.resolutions[0].reviewer.handle == "ann"
        protege = session.scalars(select(Claim).where(Claim.key == "protege")).one()
        assert protege.probability is None and protege.confidence == "may"  # a hedge: unscored
        assert protege.as_of == dt.date(2017, 11, 16)  # facts default to "as of when it was said"
        assert protege.source.parent is not None and protege.source.parent.slug == "sino"


def test_import_is_idempotent(run_import: Any, session_factory: Any, write_file: WriteFile) -> None:
    path = write_file("claims.yaml", HEAD + CLAIMS)
    run_import(path)
    with session_factory() as session:
        before = counts(session)
        stamps = dict(session.execute(select(Claim.key, Claim.updated_at)).all())
    report = run_import(path)
    assert not report.changed
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    with session_factory() as session:
        assert counts(session) == before
        assert dict(session.execute(select(Claim.key, Claim.updated_at)).all()) == stamps


def test_changed_fields_update_in_place(run_import: Any, session_factory: Any, write_file: WriteFile) -> None:
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    edited = (
        (HEAD + CLAIMS)
        .replace("Song Tao is a protege", "Song Tao is a protégé")
        .replace("tags: [north-korea, china]", "tags: [north-korea, xi]")
        .replace("reviewers: [ann, bo]", "reviewers: [bo]")
    )
    report = run_import(write_file("claims.yaml", edited))
    assert (report.created, report.updated, report.unchanged) == (0, 3, 0)
    assert report.new_criteria_versions == 0 and report.new_resolutions == 0
    with session_factory() as session:
        claims = {c.key: c for c in session.scalars(select(Claim))}
        assert claims["protege"].statement == "Song Tao is a protégé of Xi Jinping."
        assert claims["kim-tones-down"].tag_names == ["north-korea", "xi"]
        assert [r.handle for r in claims["no-denuclearisation"].reviewers] == ["bo"]


def test_changed_criteria_make_a_new_version(
    run_import: Any, session_factory: Any, write_file: WriteFile
) -> None:
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    moved = (HEAD + CLAIMS).replace("deadline: 2027-12-31", "deadline: 2028-06-30")
    report = run_import(write_file("claims.yaml", moved))
    assert report.new_criteria_versions == 1 and report.updated == 1
    with session_factory() as session:
        claim = session.scalars(select(Claim).where(Claim.key == "no-denuclearisation")).one()
        assert claim.deadline == dt.date(2028, 6, 30)
        versions = [(v.version, v.deadline) for v in claim.criteria_versions]
        assert versions == [(1, dt.date(2027, 12, 31)), (2, dt.date(2028, 6, 30))]
    # Going back is another version, not a rewrite: the history only grows.
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    with session_factory() as session:
        claim = session.scalars(select(Claim).where(Claim.key == "no-denuclearisation")).one()
        assert [v.version for v in claim.criteria_versions] == [1, 2, 3]
        assert claim.deadline == dt.date(2027, 12, 31)


def test_changed_outcome_appends_a_resolution(
    run_import: Any, session_factory: Any, write_file: WriteFile
) -> None:
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    text = (HEAD + CLAIMS).replace(
        "verdict: false, resolved_on: 2017-11-29", "verdict: ambiguous, resolved_on: 2018-02-01"
    )
    report = run_import(write_file("claims.yaml", text))
    assert report.new_resolutions == 1
    with session_factory() as session:
        claim = session.scalars(select(Claim).where(Claim.key == "kim-tones-down")).one()
        assert [r.verdict for r in claim.resolutions] == ["false", "ambiguous"]
        assert claim.verdict == "ambiguous"
    # An outcome for an open claim resolves it.
    text = (HEAD + CLAIMS).replace(
        "    reviewers: [ann, bo]\n",
        "    reviewers: [ann, bo]\n    outcome: {verdict: annulled, resolved_on: 2020-01-01, by: bo}\n",
    )
    run_import(write_file("claims.yaml", text))
    with session_factory() as session:
        claim = session.scalars(select(Claim).where(Claim.key == "no-denuclearisation")).one()
        assert (claim.status, claim.verdict) == ("resolved", "annulled")


def test_missing_claims_are_reported_not_deleted(
    run_import: Any, session_factory: Any, write_file: WriteFile
) -> None:
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    shorter = (HEAD + CLAIMS).split("  - id: no-denuclearisation")[0]
    report = run_import(write_file("claims.yaml", shorter))
    assert report.missing == ["no-denuclearisation"]
    with session_factory() as session:
        assert counts(session)["claims"] == 3


def test_claims_before_sources_are_fine(run_import: Any, write_file: WriteFile) -> None:
    report = run_import(write_file("claims.yaml", CLAIMS + HEAD))
    assert report.created == 3


def test_empty_sections(run_import: Any, write_file: WriteFile) -> None:
    report = run_import(write_file("claims.yaml", "reviewers: []\nsources:\nclaims: []\n"))
    assert report.created == 0 and not report.changed


BAD = """
reviewers:
  - {handle: ann, name: Ann Lee, email: ann@example.org}
  - {handle: ann, name: Ann Again, email: not-an-email}
sources:
  - {slug: sino, name: SinoInsider, kind: outlet, url: 'sinoinsider.com'}
claimz: []
claims:
  - id: one
    source: sinoo
    kind: prediction
    statment: typo in the key
    quote: q, we beleive
    made_on: 2017-11-16
    confidence: we beleive
    resolution: {criteria: c, deadline: 2017-01-31}
    reviewers: [annn]
  - id: one
    source: sino
    kind: prediction
    statement: s
    quote: q
    made_on: 2017-11-16
    probability: 1.5
    resolution: {criteria: c, deadline: 2018-01-31}
  - id: two
    source: sino
    kind: fact
    statement: s
    quote: q
    made_on: 2017-11-16
    outcome: {verdict: annulled, resolved_on: 2017-11-20, evidence: ['ftp://x']}
  - id: three
    source: sino
    kind: prediction
    statement: s
    quote: q
    made_on: 2017-11-16
    probability: 0.5
    probability_basis: the source's own figure
    resolution: {criteria: c, deadline: 2018-01-31}
    outcome: {verdict: mostly-true, resolved_on: 2030-01-01, by: zed}
  - id: Four Score
    source: sino
    kind: guess
"""


def test_every_problem_is_reported_at_once(
    run_import: Any, session_factory: Any, write_file: WriteFile
) -> None:
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    with session_factory() as session:
        before = counts(session)
    problems = problems_of(run_import, write_file("claims.yaml", BAD))
    text = "\n".join(problems)
    for expected in [
        "claims.yaml:3: reviewers[1].email: 'not-an-email' is not an e-mail address",
        "claims.yaml:3: reviewers[1].handle: duplicate handle; first given on line 2",
        "claims.yaml:5: sources[0].url: 'sinoinsider.com' is not an absolute http(s) URL",
        "claims.yaml:6: claimz: unknown top-level key; did you mean 'claims'?",
        "claims.yaml:8: claims[0].statement: required field is missing",
        "claims.yaml:9: claims[0].source: source 'sinoo' is not defined; did you mean 'sino'?",
        "claims.yaml:11: claims[0].statment: unknown key; did you mean 'statement'?",
        "claims.yaml:14: claims[0].confidence: 'we beleive' is not on the estimative scale; did you mean 'we believe'?",
        "claims.yaml:15: claims[0].resolution.deadline: 2017-01-31 is before made_on 2017-11-16",
        "claims.yaml:16: claims[0].reviewers[0]: reviewer 'annn' is not defined; did you mean 'ann'?",
        "claims.yaml:17: claims[1].id: duplicate id; first used on line 8",
        "claims.yaml:23: claims[1].probability: probability 1.5 is outside [0, 1]",
        "claims.yaml:31: claims[2].outcome.evidence[0]: 'ftp://x' is not an absolute http(s) URL",
        "claims.yaml:41: claims[3].outcome.by: reviewer 'zed' is not defined",
        "claims.yaml:41: claims[3].outcome.resolved_on: resolved_on 2030-01-01 is in the future",
        "claims.yaml:41: claims[3].outcome.verdict: verdict 'mostly-true' is not on the prediction scale: "
        "true, false, ambiguous, annulled",
        "claims.yaml:42: claims[4].id: id 'Four Score' may hold only lowercase letters",
        "claims.yaml:44: claims[4].kind: 'guess' is not one of: 'prediction', 'fact' or 'promise'",
        "claims.yaml:42: claims[4].statement: required field is missing",
    ]:
        assert expected in text, f"missing {expected!r} in:\n{text}"
    # Sorted by line, so the user reads them top to bottom.
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines)
    with session_factory() as session:
        assert counts(session) == before


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            "made_on: 2017-11-16T10:00:00",
            "claims[0].made_on: expected a date like 2017-11-16, not a timestamp",
        ),
        ("made_on: '16/11/2017'", "claims[0].made_on: '16/11/2017' is not a valid date; expected YYYY-MM-DD"),
        ("made_on: 2017-02-30", "claims[0].made_on: '2017-02-30' is not a valid date"),
        (
            "tags: [North Korea]",
            "claims[0].tags[0]: tag 'North Korea' may hold only lowercase letters, digits and '-'",
        ),
        ("tags: north-korea", "claims[0].tags: expected a list"),
        ("as_of: 2017-11-16", "claims[0].as_of: as_of is for facts"),
        ("statement: ''", "claims[0].statement: must not be empty"),
        ("statement: 42", "claims[0].statement: expected text, got 42"),
        (
            "probability: high",
            "claims[0].probability: expected a number from 0 to 1, or unstated, got 'high'",
        ),
        ("appeared_in: 'https://example.org'", "claims[0].appeared_in: expected a mapping"),
    ],
)
def test_field_problems(run_import: Any, write_file: WriteFile, snippet: str, expected: str) -> None:
    base = """
    claims:
      - id: one
        source: sino
        kind: prediction
        statement: s
        quote: q
        made_on: 2017-11-16
        probability: 0.5
        probability_basis: the source's own figure
        resolution: {criteria: c, deadline: 2018-01-31}
    """
    text = textwrap.dedent(base)
    key = snippet.split(":")[0]
    lines = [line for line in text.splitlines() if not line.strip().startswith(f"{key}:")]
    lines.append(f"    {snippet}")
    problems = problems_of(run_import, write_file("claims.yaml", HEAD + "\n".join(lines) + "\n"))
    assert any(expected in p for p in problems), problems


def test_prediction_rules(run_import: Any, write_file: WriteFile) -> None:
    text = (
        HEAD
        + """
claims:
  - {id: a, source: sino, kind: prediction, statement: s, quote: q, made_on: 2017-11-16}
  - {id: b, source: sino, kind: prediction, statement: s, quote: q, made_on: 2017-11-16, probability: 0.5,
     confidence: likely, resolution: {criteria: c, deadline: 2018-01-01, window_start: 2019-01-01}}
  - {id: c, source: sino, kind: fact, statement: s, quote: q, made_on: 2017-11-16,
     resolution: {criteria: c, deadline: 2018-01-01}}
  - {id: d, source: sino, kind: fact, statement: s, quote: q, made_on: 2017-11-16,
     outcome: {verdict: true, resolved_on: 2017-11-20}}
  - {id: e, source: sino, kind: prediction, statement: s, quote: q, made_on: 2017-11-16, probability: 0.5,
     resolution: {criteria: c, deadline: 2017-01-01, window_start: 2017-06-01}}
"""
    )
    problems = "\n".join(problems_of(run_import, write_file("claims.yaml", text)))
    # Both date problems of one claim at once, each on its own field.
    assert "claims[4].resolution.deadline: 2017-01-01 is before made_on 2017-11-16" in problems
    assert "claims[4].resolution.window_start: 2017-06-01 is after the deadline 2017-01-01" in problems
    assert "claims[0].resolution: a prediction needs resolution: {criteria, deadline}" in problems
    assert (
        "claims[0].probability: a prediction needs probability (0..1), confidence (the source's words) or probability: unstated"
        in problems
    )
    assert "claims[1].confidence: give probability or confidence, not both" in problems
    assert "claims[1].resolution.window_start: 2019-01-01 is after the deadline" in problems
    assert "claims[2].resolution: resolution criteria are for predictions; a fact has as_of" in problems
    assert "claims[3].outcome.evidence: verdict 'true' needs evidence: at least one URL" in problems


def test_one_article_one_description(run_import: Any, write_file: WriteFile) -> None:
    text = (
        HEAD
        + """
claims:
  - {id: a, source: sino, kind: fact, statement: s, quote: q, made_on: 2017-11-16,
     appeared_in: {url: 'https://example.org/a', title: One}}
  - {id: b, source: sino, kind: fact, statement: s, quote: q, made_on: 2017-11-16,
     appeared_in: {url: 'https://example.org/a', title: Two}}
"""
    )
    problems = problems_of(run_import, write_file("claims.yaml", text))
    assert problems == [
        "claims.yaml:12: claims[1].appeared_in: describes https://example.org/a differently "
        "from the claim on line 9"
    ]


def test_file_problems_change_nothing(run_import: Any, session_factory: Any, tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    # Valid entries first, then a syntax error: the entries before it must not be written either.
    path.write_text(HEAD + CLAIMS + "  - {id: broken\n")
    problems = problems_of(run_import, path)
    assert len(problems) == 1 and "invalid YAML" in problems[0]
    with session_factory() as session:
        assert counts(session)["claims"] == 0 and counts(session)["sources"] == 0


def test_export_round_trips(run_import: Any, session_factory: Any, write_file: WriteFile) -> None:
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    with session_factory() as session:
        exported = export_claims(session)
        before = counts(session)
    report = run_import(write_file("exported.yaml", exported))
    assert not report.changed and report.unchanged == 3 and report.missing == []
    with session_factory() as session:
        assert counts(session) == before
        assert export_claims(session) == exported
    assert "confidence: we believe" in exported and "probability: 0.675" not in exported


def test_export_imports_into_an_empty_database(
    run_import: Any, session_factory: Any, write_file: WriteFile, tmp_path: Path, settings: Settings, now: Any
) -> None:
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    with session_factory.begin() as session:
        exported = export_claims(session)
        # Empty the database by hand, then rebuild it from the export alone.
        for model in (Resolution, CriteriaVersion, ClaimTag, Claim, Appearance, Source, Reviewer):
            session.execute(model.__table__.delete())
    run_import(write_file("exported.yaml", exported))
    with session_factory() as session:
        assert export_claims(session) == exported


def test_the_project_claims_file_is_valid(
    session_factory: Any, settings: Settings, now: dt.datetime, repo_root: Path
) -> None:
    data = project_claims(repo_root)
    # The file holds verdicts up to the day it was last edited, which may be after the
    # suite's frozen clock: import it as of that day.
    at = max(now, dt.datetime.combine(last_recorded(data), dt.time(12), tzinfo=dt.UTC))
    with session_factory.begin() as session:
        report = import_claims(session, repo_root / "claims.yaml", settings=settings, now=at)
    assert report.created == len(data["claims"]) >= 15
    with session_factory() as session:
        kinds = dict(session.execute(select(Claim.kind, func.count()).group_by(Claim.kind)).all())
        assert kinds.get("prediction", 0) > 0 and kinds.get("fact", 0) > 0
        # Trump's "we would not accept a so-called freeze-for-freeze agreement" is a promise, broken.
        promise = session.scalars(select(Claim).where(Claim.kind == "promise")).one()
        assert (promise.key, promise.verdict, promise.probability, promise.scored) == (
            "us-will-not-accept-freeze-for-freeze", "broken", None, False,
        )  # fmt: skip
        assert promise.criteria is not None and promise.criteria.startswith("BROKEN if")
        assert "KEPT otherwise" in promise.criteria and "COMPROMISE if" in promise.criteria
        open_predictions = session.scalars(
            select(Claim).where(Claim.status == "open", Claim.kind == "prediction")
        ).all()
        assert {c.key for c in open_predictions} == {
            c["id"] for c in data["claims"] if c["kind"] == "prediction" and "outcome" not in c
        }
        assert all(c.reviewers for c in open_predictions)


def test_import_marks_only_changed_sources_stale(
    run_import: Any, session_factory: Any, write_file: WriteFile
) -> None:
    def revisions() -> dict[str, int]:
        with session_factory() as session:
            return dict(session.execute(select(Source.slug, Source.revision)).all())

    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    first = revisions()
    assert first["sino"] > 0 and first["analyst"] > 0
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    assert revisions() == first  # nothing changed, nothing to rebuild
    run_import(
        write_file("claims.yaml", (HEAD + CLAIMS).replace("deadline: 2027-12-31", "deadline: 2028-01-31"))
    )
    assert revisions() == {**first, "analyst": first["analyst"] + 1}
    # An article's new title shows on every scorecard that cites it.
    run_import(write_file("claims.yaml", (HEAD + CLAIMS).replace("title: Trump Hints", "title: Trump hints")))
    after = revisions()
    assert after["sino"] == first["sino"] + 1 and after["analyst"] == first["analyst"] + 2


UNSTATED = """
claims:
  - id: test-of-analysis
    source: sino
    kind: prediction
    statement: Kim will defer to Xi after the visit.
    quote: Our analysis will be confirmed if Kim shows obeisance to Xi.
    made_on: 2017-11-16
    recorded_after_outcome: true
    probability: unstated
    resolution: {criteria: Kim receives Song Tao., deadline: 2017-12-31}
    reviewers: [ann]
    outcome: {verdict: false, resolved_on: 2018-01-02, by: ann, evidence: ['https://bbc.com/x']}
  - id: open-commitment
    source: sino
    kind: prediction
    statement: The talks will resume.
    quote: The talks resume in spring.
    made_on: 2026-11-01
    probability: unstated
    resolution: {criteria: Talks are reported to have resumed., deadline: 2027-06-30}
    reviewers: [bo]
"""


def test_a_prediction_with_no_stated_probability_is_recorded_and_round_trips(
    run_import: Any, session_factory: Any, write_file: WriteFile
) -> None:
    run_import(write_file("claims.yaml", HEAD + UNSTATED))
    with session_factory() as session:
        late, open_one = (session.scalars(select(Claim).where(Claim.key == k)).one() for k in UNSTATED_KEYS)
        assert (late.probability, late.confidence, late.scored, late.verdict) == (None, None, False, "false")
        assert late.recorded_after_outcome and late.recorded_late
        assert (open_one.status, open_one.probability, open_one.recorded_after_outcome) == (
            "open",
            None,
            False,
        )
        # Its deadline is after the import: its criteria were set in advance.
        assert not open_one.recorded_late
        exported = export_claims(session)
    assert exported.count("probability: unstated") == 2
    assert exported.count("recorded_after_outcome: true") == 1
    report = run_import(write_file("exported.yaml", exported))
    assert not report.changed and report.unchanged == 2


UNSTATED_KEYS = ("test-of-analysis", "open-commitment")


def test_the_words_must_be_the_sources_and_a_number_needs_its_basis(
    run_import: Any, write_file: WriteFile
) -> None:
    text = (
        HEAD
        + """
claims:
  - id: a
    source: sino
    kind: prediction
    statement: s
    quote: Kim will surely tone it down.
    made_on: 2017-11-16
    confidence: we believe
    resolution: {criteria: c, deadline: 2018-01-31}
  - id: b
    source: sino
    kind: prediction
    statement: s
    quote: q
    made_on: 2017-11-16
    probability: 0.8
    resolution: {criteria: c, deadline: 2018-01-31}
  - id: c
    source: sino
    kind: fact
    statement: s
    quote: q
    made_on: 2017-11-16
    probability: unstated
  - id: d
    source: sino
    kind: prediction
    statement: s
    quote: It is “Likely”,  we hear.
    made_on: 2017-11-16
    confidence: likely
    probability_basis: our reading
    resolution: {criteria: c, deadline: 2018-01-31}
"""
    )
    problems = problems_of(run_import, write_file("claims.yaml", text))
    assert problems == [
        "claims.yaml:15: claims[0].confidence: 'we believe' does not occur in the quote; "
        "the words must be the source's",
        "claims.yaml:23: claims[1].probability_basis: a bare probability needs probability_basis: "
        "where the number comes from",
        "claims.yaml:31: claims[2].probability: probability: unstated is for predictions; "
        "a fact is never scored",
        "claims.yaml:39: claims[3].probability_basis: probability_basis is for a bare probability (a number)",
    ]


PROMISES = """
claims:
  - id: no-freeze
    source: sino
    kind: promise
    statement: The US will not accept a freeze-for-freeze agreement.
    quote: We would not accept a so-called freeze-for-freeze agreement.
    made_on: 2017-11-15
    resolution: {criteria: BROKEN if drills stop for a test freeze; KEPT otherwise., deadline: 2021-01-20}
    reviewers: [ann]
    progress:
      - {status: in-the-works, rated_on: 2018-03-01, by: ann, evidence: ['https://example.org/talks'], note: Talks.}
      - {status: stalled, rated_on: 2018-05-01, by: bo, evidence: ['https://example.org/stall']}
  - id: kept-one
    source: analyst
    kind: promise
    statement: I will publish the data.
    quote: I will publish the data.
    made_on: 2017-11-16
    resolution: {criteria: KEPT if published., deadline: 2018-12-31}
    progress:
      - {status: in-the-works, rated_on: 2018-02-01, evidence: ['https://example.org/draft']}
    outcome: {verdict: Kept, resolved_on: 2018-06-01, by: bo, evidence: ['https://example.org/data']}
"""


def _history(session: Session, key: str) -> list[tuple[str | None, str | None, str]]:
    claim = session.scalars(select(Claim).where(Claim.key == key)).one()
    return [(r.verdict, r.progress, r.resolved_on.isoformat()) for r in claim.resolutions]


def test_promises_import_with_their_progress_and_round_trip(
    run_import: Any, session_factory: Any, write_file: WriteFile
) -> None:
    report = run_import(write_file("claims.yaml", HEAD + PROMISES))
    assert (report.created, report.new_resolutions) == (2, 4)
    with session_factory() as session:
        open_one = session.scalars(select(Claim).where(Claim.key == "no-freeze")).one()
        assert (open_one.kind, open_one.status, open_one.verdict, open_one.progress) == (
            "promise", "open", None, "stalled",
        )  # fmt: skip
        assert (open_one.probability, open_one.scored, open_one.criteria_versions[0].version) == (
            None,
            False,
            1,
        )
        assert _history(session, "no-freeze") == [
            (None, "in-the-works", "2018-03-01"), (None, "stalled", "2018-05-01"),
        ]  # fmt: skip
        # Progress came first, while it was open; the verdict (any case on input) last.
        assert _history(session, "kept-one") == [
            (None, "in-the-works", "2018-02-01"),
            ("kept", None, "2018-06-01"),
        ]
        exported = export_claims(session)
    assert "kind: promise" in exported and "probability" not in exported
    assert exported.count("status: in-the-works") == 2 and "rated_on: 2018-05-01" in exported
    again = run_import(write_file("exported.yaml", exported))
    assert not again.changed and again.unchanged == 2
    with session_factory() as session:
        assert export_claims(session) == exported


def test_a_new_progress_entry_in_the_file_is_appended_once(
    run_import: Any, session_factory: Any, write_file: WriteFile
) -> None:
    run_import(write_file("claims.yaml", HEAD + PROMISES))
    more = (HEAD + PROMISES).replace(
        "      - {status: stalled, rated_on: 2018-05-01, by: bo, evidence: ['https://example.org/stall']}\n",
        "      - {status: stalled, rated_on: 2018-05-01, by: bo, evidence: ['https://example.org/stall']}\n"
        "      - {status: in-the-works, rated_on: 2018-09-01, by: bo, evidence: ['https://example.org/resumed']}\n",
    )
    report = run_import(write_file("claims.yaml", more))
    assert (report.updated, report.unchanged, report.new_resolutions) == (1, 1, 1)
    assert not run_import(write_file("claims.yaml", more)).changed
    with session_factory() as session:
        assert session.scalars(select(Claim.progress).where(Claim.key == "no-freeze")).one() == "in-the-works"
        assert [h[1] for h in _history(session, "no-freeze")] == ["in-the-works", "stalled", "in-the-works"]
    # An entry left out of the file is history all the same: nothing is deleted.
    run_import(write_file("claims.yaml", HEAD + PROMISES))
    with session_factory() as session:
        assert len(_history(session, "no-freeze")) == 3


def test_promise_rules_are_reported_at_their_lines(run_import: Any, write_file: WriteFile) -> None:
    text = (
        HEAD
        + """
claims:
  - id: a
    source: sino
    kind: promise
    statement: s
    quote: We will surely do it.
    made_on: 2017-11-16
    probability: 0.9
    confidence: surely
    resolution: {criteria: c, deadline: 2018-01-31}
    progress:
      - {status: done, rated_on: 2017-12-01, evidence: ['https://example.org/a']}
      - {status: stalled, rated_on: 2017-12-01}
      - {status: stalled, rated_on: 2018-03-01, by: zed, evidence: ['https://example.org/b']}
    outcome: {verdict: 'true', resolved_on: 2018-02-01, evidence: ['https://example.org/c']}
  - id: b
    source: sino
    kind: prediction
    statement: s
    quote: q
    made_on: 2017-11-16
    probability: unstated
    resolution: {criteria: c, deadline: 2018-01-31}
    progress:
      - {status: stalled, rated_on: 2017-12-01, evidence: ['https://example.org/d']}
  - id: c
    source: sino
    kind: promise
    statement: s
    quote: q
    made_on: 2017-11-16
    as_of: 2017-11-16
"""
    )
    assert problems_of(run_import, write_file("claims.yaml", text)) == [
        "claims.yaml:15: claims[0].probability: a promise has no probability: it is kept, compromise or broken, never scored",
        "claims.yaml:16: claims[0].confidence: a promise has no confidence: it is kept, compromise or broken, never scored",
        "claims.yaml:19: claims[0].progress[0].status: progress 'done' is not one of in-the-works, stalled",
        "claims.yaml:20: claims[0].progress[1].evidence: progress 'stalled' needs evidence: at least one URL",
        "claims.yaml:21: claims[0].progress[2].by: reviewer 'zed' is not defined; define it under reviewers:",
        "claims.yaml:21: claims[0].progress[2].rated_on: 2018-03-01 is after the outcome (2018-02-01): progress is for an open promise",
        "claims.yaml:22: claims[0].outcome.verdict: verdict 'true' is not on the promise scale: kept, compromise, broken",
        "claims.yaml:32: claims[1].progress[0].status: progress is for promises; a prediction has none",
        "claims.yaml:33: claims[2].resolution: a promise needs resolution: {criteria, deadline}",
        "claims.yaml:39: claims[2].as_of: as_of is for facts; a promise has resolution.deadline",
    ]
