"""Domain rules of tracker.services, on a migrated database inside a rolled-back session."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import services
from tracker.errors import InvalidInput, NotFound, TrackerError
from tracker.estimative import EstimativeScale
from tracker.models import Appearance, Claim, ClaimTag, CriteriaVersion, Resolution, Reviewer, Source
from tracker.rules import check_not_future, latest_date

MakeClaim = Callable[..., Claim]
MakeSource = Callable[..., Source]
MakeReviewer = Callable[..., Reviewer]

SCALE = EstimativeScale()
MADE_ON = dt.date(2017, 11, 16)
DEADLINE = dt.date(2018, 1, 31)


def add(session: Session, now: dt.datetime, **overrides: Any) -> Claim:
    """A prediction by the source "outlet" unless told otherwise."""
    fields: dict[str, Any] = {
        "key": "kim-tones-down",
        "kind": "prediction",
        "source_slug": "outlet",
        "statement": "Kim will tone down his rhetoric after Song Tao's visit.",
        "quote": "We believe Kim will tone it down.",
        "made_on": MADE_ON,
        "confidence": "we believe",
        "criteria": "No North Korean missile test between 2017-11-17 and 2018-01-31.",
        "deadline": DEADLINE,
    }
    fields.update(overrides)
    return services.add_claim(session, scale=SCALE, now=now, **fields)


def fact(session: Session, now: dt.datetime, **overrides: Any) -> Claim:
    fields: dict[str, Any] = {
        "key": "song-tao-visited",
        "kind": "fact",
        "confidence": None,
        "criteria": None,
        "deadline": None,
        "statement": "Song Tao visited Pyongyang on 17 November 2017.",
        "quote": "Song Tao arrives in Pyongyang.",
    }
    fields.update(overrides)
    return add(session, now, **fields)


@pytest.fixture
def outlet(make_source: MakeSource) -> Source:
    return make_source(slug="outlet", name="The Outlet")


@pytest.fixture
def alice(session: Session) -> Reviewer:
    return services.add_reviewer(session, "alice", "Alice Kim", "alice@example.org", "Asia/Seoul")


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def one_line(exc: pytest.ExceptionInfo[TrackerError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


# --- reviewers and sources ------------------------------------------------------------------------


def test_add_reviewer_and_list_them_by_handle(session: Session) -> None:
    services.add_reviewer(session, "zoe", "Zoe", "zoe@example.org")
    services.add_reviewer(session, "bob", "Bob", "bob@example.org", timezone="Europe/Paris", role="admin")
    reviewers = services.list_reviewers(session)
    assert [r.handle for r in reviewers] == ["bob", "zoe"]
    assert (reviewers[0].timezone, reviewers[0].role) == ("Europe/Paris", "admin")
    assert reviewers[1].timezone == "UTC"


def test_add_reviewer_reports_every_problem_in_one_line(session: Session) -> None:
    with pytest.raises(TrackerError) as exc:
        services.add_reviewer(session, "Bad Handle", "", "not-an-email", "Mars/Base", "boss")
    message = one_line(exc)
    for part in ("handle", "name is required", "not an e-mail", "unknown timezone", "role 'boss'"):
        assert part in message
    assert isinstance(exc.value, InvalidInput)
    assert [p.field for p in exc.value.problems] == ["email", "handle", "name", "role", "timezone"]


def test_add_reviewer_refuses_a_taken_handle(session: Session, alice: Reviewer) -> None:
    with pytest.raises(TrackerError, match="already exists"):
        services.add_reviewer(session, "alice", "Another Alice", "a2@example.org")


def test_get_reviewer_suggests_a_near_miss(session: Session, alice: Reviewer) -> None:
    assert services.get_reviewer(session, "alice") is alice
    with pytest.raises(NotFound, match=r"no reviewer 'alcie' \(did you mean 'alice'\?\)"):
        services.get_reviewer(session, "alcie")
    with pytest.raises(NotFound) as exc:
        services.get_reviewer(session, "zzzzzz")
    assert "did you mean" not in str(exc.value)


def test_add_source_as_member_of_an_outlet(session: Session, outlet: Source) -> None:
    person = services.add_source(session, "analyst", "An Analyst", "person", member_of="outlet")
    assert person.parent is outlet
    assert outlet.members == [person]
    assert [s.slug for s in services.list_sources(session)] == ["analyst", "outlet"]


def test_add_source_rejections(session: Session, outlet: Source) -> None:
    with pytest.raises(InvalidInput, match=r"did you mean 'outlet'") as member:
        services.add_source(session, "analyst", "An Analyst", "person", member_of="outlte")
    assert [p.field for p in member.value.problems] == ["member_of"]
    services.add_source(session, "pundit", "A Pundit", "person")
    with pytest.raises(TrackerError, match="which is a person"):
        services.add_source(session, "aide", "An Aide", "person", member_of="pundit")
    with pytest.raises(TrackerError, match="already exists"):
        services.add_source(session, "outlet", "Again", "outlet")
    with pytest.raises(TrackerError) as exc:
        services.add_source(session, "blog", "A Blog", "blog", url="www.example.org")
    assert "source kind 'blog'" in str(exc.value)
    assert "not an absolute http(s) URL" in str(exc.value)


def test_claim_counts_per_source(session: Session, outlet: Source, make_claim: MakeClaim) -> None:
    make_claim(source=outlet)
    make_claim(source=outlet)
    assert services.claim_counts(session) == {outlet.id: 2}


# --- adding claims --------------------------------------------------------------------------------


def test_prediction_from_words_gets_the_band_midpoint_and_criteria_version_1(
    session: Session, now: dt.datetime, outlet: Source, alice: Reviewer
) -> None:
    claim = add(
        session,
        now,
        tags=["north-korea", "china", "north-korea"],
        reviewer_handles=["alice"],
        timezone="Asia/Seoul",
        window_start=dt.date(2017, 11, 17),
        appearance={"url": "https://example.org/a", "title": "Envoy", "published": MADE_ON},
    )
    assert (claim.probability, claim.confidence, claim.status, claim.verdict) == (
        0.675,
        "we believe",
        "open",
        None,
    )
    assert claim.tag_names == ["china", "north-korea"]
    assert claim.reviewers == [alice]
    assert claim.appearance is not None and claim.appearance.title == "Envoy"
    assert claim.created_at == now
    [version] = claim.criteria_versions
    assert (version.version, version.criteria, version.deadline, version.window_start, version.timezone) == (
        1,
        claim.criteria,
        DEADLINE,
        dt.date(2017, 11, 17),
        "Asia/Seoul",
    )
    assert version.recorded_at == now


def test_prediction_with_a_stated_probability(session: Session, now: dt.datetime, outlet: Source) -> None:
    claim = add(session, now, confidence=None, probability=0.9)
    assert (claim.probability, claim.confidence, claim.scored) == (0.9, None, True)


def test_a_hedge_is_recorded_but_unscored(session: Session, now: dt.datetime, outlet: Source) -> None:
    claim = add(session, now, confidence="might")
    assert (claim.probability, claim.confidence, claim.scored) == (None, "might", False)


def test_a_fact_is_judged_as_of_made_on_by_default(
    session: Session, now: dt.datetime, outlet: Source
) -> None:
    claim = fact(session, now)
    assert (claim.as_of, claim.criteria, claim.criteria_versions) == (MADE_ON, None, [])
    later = fact(session, now, key="later", as_of=dt.date(2017, 12, 1))
    assert later.as_of == dt.date(2017, 12, 1)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"criteria": None}, "criteria is required"),
        ({"criteria": "   "}, "criteria is required"),
        ({"deadline": None}, "deadline is required"),
        ({"deadline": dt.date(2017, 11, 15)}, "deadline 2017-11-15 is before made_on 2017-11-16"),
        ({"window_start": dt.date(2018, 2, 1)}, "window_start 2018-02-01 is after the deadline"),
        ({"window_start": dt.date(2017, 1, 1)}, "window_start 2017-01-01 is before made_on"),
        ({"probability": 0.5}, "give probability or confidence, not both"),
        ({"confidence": None}, "a prediction needs probability (0..1) or confidence (the source's words)"),
        ({"confidence": None, "probability": 1.5}, "probability 1.5 is outside [0, 1]"),
        ({"confidence": None, "probability": -0.1}, "probability -0.1 is outside [0, 1]"),
        ({"confidence": None, "probability": math.nan}, "outside [0, 1]"),
        ({"confidence": "we beleive"}, "did you mean 'we believe'"),
        ({"as_of": MADE_ON}, "as_of is for facts; a prediction has resolution.deadline"),
        ({"kind": "opinion"}, "kind 'opinion' is not one of prediction, fact"),
        ({"key": "Has Spaces"}, "may hold only lowercase letters"),
        ({"statement": ""}, "statement is required"),
        ({"quote": " "}, "quote is required"),
        ({"timezone": "Asia/Seol"}, "unknown timezone 'Asia/Seol'"),
        ({"tags": ["North Korea"]}, "tag 'North Korea'"),
        ({"source_slug": "outelt"}, "no source 'outelt' (did you mean 'outlet'?)"),
        ({"reviewer_handles": ["nobody"]}, "no reviewer 'nobody'"),
        (
            {"made_on": dt.date(2071, 11, 16), "deadline": dt.date(2072, 1, 1)},
            "made_on 2071-11-16 is in the future",
        ),
        ({"appearance": {"url": "example.org/a"}}, "appearance url 'example.org/a' is not an absolute"),
        ({"appearance": {"title": "No URL"}}, "appearance needs a url"),
        ({"appearance": {"url": "https://e.org", "titel": "x"}}, "appearance has unknown fields titel"),
    ],
)
def test_add_claim_rejects(
    session: Session, now: dt.datetime, outlet: Source, overrides: dict[str, Any], expected: str
) -> None:
    with pytest.raises(TrackerError) as exc:
        add(session, now, **overrides)
    assert expected in one_line(exc)
    assert count(session, Claim) == 0
    assert count(session, Appearance) == 0


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"deadline": DEADLINE}, "resolution criteria are for predictions; a fact has as_of"),
        ({"criteria": "c"}, "resolution criteria are for predictions; a fact has as_of"),
        ({"window_start": MADE_ON}, "resolution criteria are for predictions; a fact has as_of"),
        ({"probability": 0.5, "confidence": "may"}, "not both"),
        ({"probability": 2.0}, "outside [0, 1]"),
        ({"confidence": "perchance"}, "not on the estimative scale"),
    ],
)
def test_a_fact_takes_no_prediction_fields(
    session: Session, now: dt.datetime, outlet: Source, overrides: dict[str, Any], expected: str
) -> None:
    with pytest.raises(TrackerError) as exc:
        fact(session, now, **overrides)
    assert expected in one_line(exc)


def test_a_fact_keeps_its_sources_hedge_unscored(session: Session, now: dt.datetime, outlet: Source) -> None:
    claim = fact(session, now, confidence="may")
    assert (claim.confidence, claim.probability, claim.scored) == ("may", None, False)
    assert not fact(session, now, key="sure", confidence="certainly").scored


def test_add_claim_reports_every_problem_at_once(session: Session, now: dt.datetime, outlet: Source) -> None:
    with pytest.raises(TrackerError) as exc:
        add(
            session,
            now,
            deadline=dt.date(2017, 1, 1),
            confidence="perchance",
            source_slug="nope",
            tags=["A B"],
        )
    message = one_line(exc)
    assert message.startswith("claim 'kim-tones-down': ")
    assert message.count("; ") >= 3
    # Each problem is kept under its field, for a form to show beside it.
    assert isinstance(exc.value, InvalidInput)
    fields = {p.field: p.message for p in exc.value.problems}
    assert set(fields) == {"deadline", "confidence", "source", "tags"}
    assert fields["deadline"] == "deadline 2017-01-01 is before made_on 2017-11-16"
    assert fields["source"] == "no source 'nope'"


def test_add_claim_refuses_a_duplicate_id(session: Session, now: dt.datetime, outlet: Source) -> None:
    add(session, now)
    with pytest.raises(TrackerError, match="already exists"):
        add(session, now)


def test_made_on_today_anywhere_on_earth_is_not_the_future(
    session: Session, now: dt.datetime, outlet: Source
) -> None:
    # At 12:00 UTC it is already the next day in Kiribati (UTC+14).
    tomorrow = now.date() + dt.timedelta(days=1)
    add(session, now, made_on=tomorrow, deadline=tomorrow)
    assert check_not_future(tomorrow + dt.timedelta(days=1), "made_on", now) is not None


def test_one_article_holds_many_claims(session: Session, now: dt.datetime, outlet: Source) -> None:
    first = add(session, now, appearance={"url": "https://example.org/a"})
    second = fact(
        session, now, appearance={"url": "https://example.org/a", "title": "Envoy", "author": "Ann"}
    )
    assert first.appearance is second.appearance
    assert count(session, Appearance) == 1
    # What the first claim did not know is filled in; nothing known is overwritten.
    assert second.appearance is not None and second.appearance.title == "Envoy"
    fact(session, now, key="third", appearance={"url": "https://example.org/a", "title": "Other"})
    assert second.appearance.title == "Envoy"


# --- freezing criteria ----------------------------------------------------------------------------


def test_revising_criteria_appends_a_version_and_keeps_the_old_one(
    session: Session, now: dt.datetime, outlet: Source
) -> None:
    claim = add(session, now)
    original = claim.criteria
    later = now + dt.timedelta(days=1)
    entry = services.revise_criteria(
        session, claim, "Stricter criteria.", dt.date(2018, 2, 28), None, "UTC", later
    )
    assert entry is not None and entry.version == 2
    assert (claim.criteria, claim.deadline, claim.timezone, claim.updated_at) == (
        "Stricter criteria.",
        dt.date(2018, 2, 28),
        "UTC",
        later,
    )
    session.expire_all()
    versions = session.scalars(
        select(CriteriaVersion).where(CriteriaVersion.claim_id == claim.id).order_by(CriteriaVersion.version)
    ).all()
    assert [(v.version, v.criteria, v.deadline) for v in versions] == [
        (1, original, DEADLINE),
        (2, "Stricter criteria.", dt.date(2018, 2, 28)),
    ]


def test_identical_criteria_change_nothing(session: Session, now: dt.datetime, outlet: Source) -> None:
    claim = add(session, now)
    assert claim.criteria is not None
    assert services.revise_criteria(session, claim, f"  {claim.criteria} ", DEADLINE, None, None, now) is None
    assert len(claim.criteria_versions) == 1
    services.revise_criteria(session, claim, claim.criteria, DEADLINE, None, "Asia/Seoul", now)
    services.revise_criteria(session, claim, claim.criteria, DEADLINE, None, None, now)
    assert [v.version for v in claim.criteria_versions] == [1, 2, 3]


def test_revise_criteria_rejections(session: Session, now: dt.datetime, outlet: Source) -> None:
    claim = add(session, now)
    with pytest.raises(TrackerError, match="before made_on"):
        services.revise_criteria(session, claim, "c", dt.date(2017, 1, 1), None, None, now)
    with pytest.raises(TrackerError, match="criteria is required"):
        services.revise_criteria(session, claim, " ", DEADLINE, None, None, now)
    with pytest.raises(TrackerError, match="only predictions"):
        services.revise_criteria(session, fact(session, now), "c", DEADLINE, None, None, now)


def test_criteria_versions_cannot_be_rewritten(session: Session, now: dt.datetime, outlet: Source) -> None:
    claim = add(session, now)
    claim.criteria_versions[0].criteria = "moved goalposts"
    with pytest.raises(ValueError, match="append-only"):
        session.flush()


# --- assigning ------------------------------------------------------------------------------------


def test_assign_is_idempotent_and_unassign_undoes_it(
    session: Session, make_claim: MakeClaim, alice: Reviewer
) -> None:
    claim = make_claim(key="c1")
    assert services.assign(session, "c1", "alice") is True
    assert services.assign(session, "c1", "alice") is False
    assert claim.reviewers == [alice]
    assert services.unassign(session, "c1", "alice") is True
    assert services.unassign(session, "c1", "alice") is False
    assert claim.reviewers == []


def test_assign_names_what_is_unknown(session: Session, make_claim: MakeClaim, alice: Reviewer) -> None:
    make_claim(key="kim-tones-down")
    with pytest.raises(NotFound, match=r"no reviewer 'alicia' \(did you mean 'alice'\?\)"):
        services.assign(session, "kim-tones-down", "alicia")
    with pytest.raises(NotFound, match=r"no claim 'kim-tone-down' \(did you mean 'kim-tones-down'\?\)"):
        services.assign(session, "kim-tone-down", "alice")


# --- resolving ------------------------------------------------------------------------------------

EVIDENCE = ["https://www.reuters.com/article/us-northkorea-missiles-idUSKBN1DS2RE"]


def test_resolve_appends_a_resolution_and_updates_the_claim(
    session: Session, now: dt.datetime, make_claim: MakeClaim, alice: Reviewer
) -> None:
    claim = make_claim(key="c1", made_on=MADE_ON)
    entry = services.resolve(session, "c1", "false", EVIDENCE + EVIDENCE, " ICBM test. ", "alice", None, now)
    assert (claim.verdict, claim.status, claim.updated_at) == ("false", "resolved", now)
    assert (entry.verdict, entry.evidence, entry.note, entry.reviewer, entry.recorded_at) == (
        "false",
        EVIDENCE,
        "ICBM test.",
        alice,
        now,
    )
    assert claim.resolutions == [entry]


def test_resolved_on_defaults_to_the_reviewers_local_date(
    session: Session, make_claim: MakeClaim, alice: Reviewer
) -> None:
    make_claim(key="c1", made_on=MADE_ON)
    evening_utc = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)  # already the 24th in Seoul
    entry = services.resolve(session, "c1", "true", EVIDENCE, None, "alice", None, evening_utc)
    assert entry.resolved_on == dt.date(2026, 11, 24)


@pytest.mark.parametrize(
    ("kind", "verdict", "evidence", "resolved_on", "expected"),
    [
        ("prediction", "mostly-true", EVIDENCE, None, "'mostly-true' is not on the prediction scale"),
        ("fact", "annulled", EVIDENCE, None, "'annulled' is not on the fact scale"),
        ("prediction", "true", [], None, "needs evidence"),
        ("fact", "half-true", [], None, "needs evidence"),
        ("prediction", "true", ["ftp://example.org/x"], None, "not an absolute http(s) URL"),
        ("prediction", "true", ["/relative/path"], None, "not an absolute http(s) URL"),
        ("prediction", "true", ["https://exa mple.org"], None, "whitespace"),
        ("prediction", "true", EVIDENCE, dt.date(2017, 11, 1), "before made_on"),
        ("prediction", "true", EVIDENCE, dt.date(2026, 12, 1), "in the future"),
    ],
)
def test_resolve_rejects(
    session: Session,
    now: dt.datetime,
    make_claim: MakeClaim,
    alice: Reviewer,
    kind: str,
    verdict: str,
    evidence: list[str],
    resolved_on: dt.date | None,
    expected: str,
) -> None:
    claim = make_claim(key="c1", kind=kind, made_on=MADE_ON)
    with pytest.raises(TrackerError) as exc:
        services.resolve(session, "c1", verdict, evidence, None, "alice", resolved_on, now)
    assert expected in one_line(exc)
    assert (claim.status, claim.verdict, count(session, Resolution)) == ("open", None, 0)


@pytest.mark.parametrize(
    ("kind", "verdict"), [("prediction", "ambiguous"), ("prediction", "annulled"), ("fact", "unverifiable")]
)
def test_verdicts_that_settle_nothing_need_no_evidence(
    session: Session, now: dt.datetime, make_claim: MakeClaim, alice: Reviewer, kind: str, verdict: str
) -> None:
    make_claim(key="c1", kind=kind)
    assert services.resolve(session, "c1", verdict, [], None, "alice", None, now).verdict == verdict


def test_unresolve_appends_history_and_reopens(
    session: Session, now: dt.datetime, make_claim: MakeClaim, alice: Reviewer
) -> None:
    claim = make_claim(key="c1", made_on=MADE_ON)
    services.resolve(session, "c1", "false", EVIDENCE, None, "alice", dt.date(2017, 11, 29), now)
    later = now + dt.timedelta(hours=1)
    entry = services.unresolve(session, "c1", "alice", "Wrong test date.", later)
    assert (entry.verdict, entry.note, entry.recorded_at) == (None, "Wrong test date.", later)
    assert (claim.verdict, claim.status) == (None, "open")
    services.resolve(session, "c1", "true", EVIDENCE, None, "alice", None, later)
    session.expire_all()
    history = session.scalars(select(Resolution).order_by(Resolution.id)).all()
    assert [r.verdict for r in history] == ["false", None, "true"]
    assert session.get(Claim, claim.id).verdict == "true"  # type: ignore[union-attr]


def test_unresolve_rejections(
    session: Session, now: dt.datetime, make_claim: MakeClaim, alice: Reviewer
) -> None:
    make_claim(key="c1")
    with pytest.raises(TrackerError, match="is not resolved"):
        services.unresolve(session, "c1", "alice", "why", now)
    services.resolve(session, "c1", "ambiguous", [], None, "alice", None, now)
    with pytest.raises(TrackerError, match="needs a note"):
        services.unresolve(session, "c1", "alice", "  ", now)


def test_a_second_reviewer_agreeing_is_recorded_too(
    session: Session, now: dt.datetime, make_claim: MakeClaim, alice: Reviewer, make_reviewer: MakeReviewer
) -> None:
    make_claim(key="c1")
    bob = make_reviewer(handle="bob")
    services.resolve(session, "c1", "true", EVIDENCE, None, "alice", None, now)
    services.resolve(session, "c1", "true", EVIDENCE, "Agree.", "bob", None, now)
    assert [r.reviewer for r in services.get_claim(session, "c1").resolutions] == [alice, bob]


def test_resolutions_cannot_be_rewritten(
    session: Session, now: dt.datetime, make_claim: MakeClaim, alice: Reviewer
) -> None:
    make_claim(key="c1")
    entry = services.resolve(session, "c1", "true", EVIDENCE, None, "alice", None, now)
    entry.verdict = "false"
    with pytest.raises(ValueError, match="append-only"):
        session.flush()


# --- listing --------------------------------------------------------------------------------------


@pytest.fixture
def listing(session: Session, make_source: MakeSource, make_claim: MakeClaim, now: dt.datetime) -> None:
    """Claims that tell the filters apart; `now` is 2026-11-23 12:00 UTC."""
    outlet = make_source(slug="outlet")
    analyst = make_source(slug="analyst", kind="person", parent=outlet)
    other = make_source(slug="other")
    make_claim(key="past-due", source=outlet, deadline=dt.date(2026, 11, 22), tags=[])
    make_claim(key="due-today", source=analyst, deadline=dt.date(2026, 11, 23))
    # Kiritimati is UTC+14: at 12:00 UTC on the 23rd its 23rd is over.
    make_claim(
        key="due-today-kiribati", source=other, deadline=dt.date(2026, 11, 23), timezone="Pacific/Kiritimati"
    )
    make_claim(key="future", source=other, deadline=dt.date(2027, 6, 1), tags=[ClaimTag(tag="china")])
    make_claim(key="resolved", source=outlet, deadline=dt.date(2026, 1, 1), status="resolved", verdict="true")
    make_claim(key="a-fact", source=analyst, kind="fact", criteria=None, deadline=None, probability=None)


def keys(claims: list[Claim]) -> list[str]:
    return [c.key for c in claims]


@pytest.mark.usefixtures("listing")
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["resolved", "past-due", "due-today", "due-today-kiribati", "future", "a-fact"]),
        ({"source": "outlet"}, ["resolved", "past-due", "due-today", "a-fact"]),
        ({"source": "outlet", "include_members": False}, ["resolved", "past-due"]),
        ({"kind": "fact"}, ["a-fact"]),
        ({"status": "resolved"}, ["resolved"]),
        ({"status": "open", "kind": "prediction"}, ["past-due", "due-today", "due-today-kiribati", "future"]),
        ({"status": "overdue"}, ["past-due", "due-today-kiribati"]),
        (
            {"status": "overdue", "default_timezone": "Pacific/Kiritimati"},
            ["past-due", "due-today", "due-today-kiribati"],
        ),
        ({"due_before": dt.date(2026, 11, 23)}, ["resolved", "past-due"]),
        ({"tag": "china"}, ["future"]),
        ({"tag": "nothing"}, []),
        ({"source": "other", "status": "overdue"}, ["due-today-kiribati"]),
    ],
)
def test_list_claims_filters(
    session: Session, now: dt.datetime, filters: dict[str, Any], expected: list[str]
) -> None:
    assert keys(services.list_claims(session, now=now, **filters)) == expected


@pytest.mark.usefixtures("listing")
def test_list_claims_rejections(session: Session, now: dt.datetime) -> None:
    with pytest.raises(NotFound, match="did you mean 'outlet'"):
        services.list_claims(session, source="outlte")
    with pytest.raises(TrackerError, match="status 'closed'"):
        services.list_claims(session, status="closed")
    with pytest.raises(TrackerError, match="kind 'rumour'"):
        services.list_claims(session, kind="rumour")
    with pytest.raises(TrackerError, match="needs the current time"):
        services.list_claims(session, status="overdue")


@pytest.mark.usefixtures("listing")
def test_is_overdue_reads_the_deadline_in_the_claims_timezone(session: Session, now: dt.datetime) -> None:
    assert services.is_overdue(services.get_claim(session, "due-today-kiribati"), now)
    assert not services.is_overdue(services.get_claim(session, "due-today"), now)
    assert not services.is_overdue(services.get_claim(session, "resolved"), now)
    assert not services.is_overdue(services.get_claim(session, "a-fact"), now)


# --- pure checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/a?b=c#d", True),
        ("http://example.org", True),
        ("HTTPS://EXAMPLE.ORG", True),  # schemes are case-insensitive
        ("mailto:a@example.org", False),
        ("https://", False),
        ("example.org", False),
        ("https://example.org/a b", False),
        ("javascript:alert(1)", False),
    ],
)
def test_check_url(url: str, ok: bool) -> None:
    assert (services.check_url(url) is None) is ok


def test_check_verdict_for_the_claims_file() -> None:
    assert services.check_verdict("prediction", "annulled") is None
    assert services.check_verdict("fact", "mostly-false") is None
    assert services.check_verdict("fact", "ambiguous") == (
        "verdict 'ambiguous' is not on the fact scale: true, mostly-true, half-true, mostly-false, false, unverifiable"
    )
    assert services.check_verdict("rumour", "true") is not None


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_check_probability_accepts_exactly_the_unit_interval(value: float) -> None:
    assert (services.check_probability(value) is None) == (0.0 <= value <= 1.0)


# Since 1995 no zone is ahead of UTC+14; before railway time, local mean time went further
# (Metlakatla kept Asian dates until 1867, at UTC+15:13), which no claim needs.
@given(st.datetimes(min_value=dt.datetime(1995, 1, 1), timezones=st.timezones()))
def test_no_local_date_is_later_than_latest_date(moment: dt.datetime) -> None:
    assert moment.date() <= latest_date(moment)


def test_deadline_passed_is_end_of_day_in_the_timezone() -> None:
    deadline = dt.date(2018, 1, 31)
    seoul_midnight = dt.datetime(2018, 1, 31, 15, 0, tzinfo=dt.UTC)  # 2018-02-01 00:00 in Seoul
    assert services.deadline_passed(deadline, "Asia/Seoul", seoul_midnight)
    assert not services.deadline_passed(deadline, "Asia/Seoul", seoul_midnight - dt.timedelta(seconds=1))
    assert not services.deadline_passed(deadline, "UTC", seoul_midnight)


# --- promises ---------------------------------------------------------------------------------------


def promise(session: Session, now: dt.datetime, **overrides: Any) -> Claim:
    fields: dict[str, Any] = {
        "key": "no-freeze",
        "kind": "promise",
        "confidence": None,
        "statement": "The US will not accept a freeze-for-freeze agreement.",
        "quote": "We would not accept a so-called freeze-for-freeze agreement.",
        "criteria": "BROKEN if drills are suspended for a test freeze; KEPT otherwise.",
        "reviewer_handles": ["alice"],
    }
    fields.update(overrides)
    return add(session, now, **fields)


def test_a_promise_has_criteria_and_a_deadline_and_is_never_scored(
    session: Session, now: dt.datetime, outlet: Source, alice: Reviewer
) -> None:
    claim = promise(session, now)
    assert (claim.kind, claim.probability, claim.confidence, claim.scored) == ("promise", None, None, False)
    assert [v.version for v in claim.criteria_versions] == [1] and claim.deadline == DEADLINE


def test_a_promise_takes_no_probability_and_needs_criteria(
    session: Session, now: dt.datetime, outlet: Source, alice: Reviewer
) -> None:
    with pytest.raises(InvalidInput) as exc:
        promise(session, now, probability=0.9)
    assert one_line(exc).endswith(
        ": a promise has no probability: it is kept, compromise or broken, never scored"
    )
    with pytest.raises(InvalidInput) as exc:
        promise(session, now, confidence="we believe")
    assert "a promise has no confidence" in one_line(exc)
    with pytest.raises(InvalidInput) as exc:
        promise(session, now, criteria=None, deadline=None)
    assert "a promise needs resolution" in one_line(exc)


def test_progress_is_history_and_leaves_the_promise_open(
    session: Session, now: dt.datetime, outlet: Source, alice: Reviewer
) -> None:
    claim = promise(session, now)
    first = services.record_progress(
        session, "no-freeze", "in-the-works", EVIDENCE, " Talks. ", "alice", dt.date(2018, 3, 1), now
    )
    assert (first.verdict, first.progress, first.note, first.resolved_on) == (
        None, "in-the-works", "Talks.", dt.date(2018, 3, 1),
    )  # fmt: skip
    assert (claim.status, claim.verdict, claim.progress) == ("open", None, "in-the-works")
    services.record_progress(
        session, "no-freeze", "stalled", EVIDENCE, None, "alice", dt.date(2018, 6, 1), now
    )
    # A status recorded late for an earlier day does not replace the newer one.
    services.record_progress(
        session, "no-freeze", "in-the-works", EVIDENCE, None, "alice", dt.date(2018, 4, 1), now
    )
    assert claim.progress == "stalled"
    services.resolve(session, "no-freeze", "broken", EVIDENCE, None, "alice", dt.date(2018, 6, 19), now)
    assert (claim.status, claim.verdict) == ("resolved", "broken")
    session.expire_all()
    history = session.scalars(select(Resolution).order_by(Resolution.id)).all()
    assert [(r.verdict, r.progress) for r in history] == [
        (None, "in-the-works"), (None, "stalled"), (None, "in-the-works"), ("broken", None),
    ]  # fmt: skip


def test_progress_rejections(
    session: Session, now: dt.datetime, make_claim: MakeClaim, outlet: Source, alice: Reviewer
) -> None:
    make_claim(key="c1", made_on=MADE_ON)
    promise(session, now)

    def problem(key: str, status: str, evidence: list[str] = EVIDENCE, day: dt.date | None = None) -> str:
        with pytest.raises(InvalidInput) as exc:
            services.record_progress(session, key, status, evidence, None, "alice", day, now)
        return one_line(exc)

    assert "progress is for promises; a prediction has none" in problem("c1", "in-the-works")
    assert "progress 'done' is not one of in-the-works, stalled" in problem("no-freeze", "done")
    assert "progress 'stalled' needs evidence" in problem("no-freeze", "stalled", [])
    assert "before made_on" in problem("no-freeze", "stalled", day=dt.date(2017, 1, 1))
    services.resolve(session, "no-freeze", "kept", EVIDENCE, None, "alice", None, now)
    assert "progress is for an open promise; this one is kept" in problem("no-freeze", "stalled")


def test_promise_verdicts_are_on_their_own_scale(
    session: Session, now: dt.datetime, make_claim: MakeClaim, outlet: Source, alice: Reviewer
) -> None:
    make_claim(key="c1", made_on=MADE_ON)
    promise(session, now)
    with pytest.raises(InvalidInput) as exc:
        services.resolve(session, "no-freeze", "true", EVIDENCE, None, "alice", None, now)
    assert "verdict 'true' is not on the promise scale: kept, compromise, broken" in one_line(exc)
    with pytest.raises(InvalidInput) as exc:
        services.resolve(session, "c1", "kept", EVIDENCE, None, "alice", None, now)
    assert "not on the prediction scale" in one_line(exc)
    with pytest.raises(InvalidInput) as exc:
        services.resolve(session, "no-freeze", "compromise", [], None, "alice", None, now)
    assert "verdict 'compromise' needs evidence" in one_line(exc)
    # Un-resolving works as for any claim.
    services.resolve(session, "no-freeze", "compromise", EVIDENCE, None, "alice", None, now)
    services.unresolve(session, "no-freeze", "alice", "Misread.", now)
    assert services.get_claim(session, "no-freeze").verdict is None


def test_open_promises_are_listed_overdue_and_reminded_like_predictions(
    session: Session, now: dt.datetime, outlet: Source, alice: Reviewer
) -> None:
    promise(session, now)
    assert [c.key for c in services.list_claims(session, kind="promise")] == ["no-freeze"]
    assert [c.key for c in services.list_claims(session, status="overdue", now=now)] == ["no-freeze"]
