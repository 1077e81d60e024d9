"""Double review in the services: rounds of two blind verdicts, disputes and adjudication."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import services
from tracker.config import ReviewSettings, load_settings
from tracker.errors import InvalidInput, TrackerError
from tracker.models import Claim, ClaimTag, Resolution, Reviewer
from tracker.review import current_round, double_review, visible_history

EVIDENCE = ["https://example.org/evidence"]
TWO = ReviewSettings(verdicts_required=2)
MakeClaim = Callable[..., Claim]


@pytest.fixture
def people(make_reviewer: Callable[..., Reviewer]) -> dict[str, Reviewer]:
    return {
        "ada": make_reviewer(handle="ada"),
        "bob": make_reviewer(handle="bob"),
        "cy": make_reviewer(handle="cy"),
        "boss": make_reviewer(handle="boss", role="admin"),
    }


def _resolve(session: Session, verdict: str, by: str, now: dt.datetime, **kw: Any) -> Resolution:
    return services.resolve(session, "c1", verdict, EVIDENCE, f"{by} says {verdict}", by, None, now, **kw)


def _handle(entry: Resolution) -> str | None:
    return entry.reviewer.handle if entry.reviewer else None


def test_the_setting_per_tag_takes_the_largest_override_else_the_global_one() -> None:
    review = ReviewSettings(verdicts_required=1, verdicts_required_tags={"economy": 2, "sport": 1})
    assert review.required_for([]) == 1
    assert review.required_for(["weather"]) == 1
    assert review.required_for(["economy", "sport"]) == 2
    assert (
        ReviewSettings(verdicts_required=2, verdicts_required_tags={"sport": 1}).required_for(["sport"]) == 1
    )


def test_the_setting_comes_from_the_file_and_the_environment(tmp_path: Any) -> None:
    config = tmp_path / "t.toml"
    config.write_text("[review]\nverdicts_required = 2\n[review.verdicts_required_tags]\nsport = 1\n")
    settings = load_settings(config, env={})
    assert (settings.review.verdicts_required, settings.review.verdicts_required_tags) == (2, {"sport": 1})
    env = {"TRACKER_REVIEW_VERDICTS_REQUIRED": "1", "TRACKER_REVIEW_VERDICTS_REQUIRED_TAGS": "{economy = 2}"}
    settings = load_settings(config, env=env)
    assert (settings.review.verdicts_required, settings.review.verdicts_required_tags) == (1, {"economy": 2})
    with pytest.raises(
        TrackerError, match="TRACKER_REVIEW_VERDICTS_REQUIRED: Input should be less than or equal to 2"
    ):
        load_settings(config, env={"TRACKER_REVIEW_VERDICTS_REQUIRED": "3"})


def test_two_agreeing_verdicts_resolve_the_claim(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer]
) -> None:
    claim = make_claim(key="c1")
    first = _resolve(session, "true", "ada", now, review=TWO)
    assert (first.role, claim.status, claim.verdict) == ("first", "awaiting", None)
    second = _resolve(session, "true", "bob", now, review=TWO)
    assert (second.role, claim.status, claim.verdict) == ("second", "resolved", "true")
    assert double_review(claim.resolutions) == (first, second, None)


def test_differing_verdicts_dispute_the_claim_until_an_admin_adjudicates(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer]
) -> None:
    claim = make_claim(key="c1")
    _resolve(session, "true", "ada", now, review=TWO)
    _resolve(session, "false", "bob", now, review=TWO)
    assert (claim.status, claim.verdict) == ("disputed", None)
    # Nobody else gives a third verdict: the dispute is an admin's.
    with pytest.raises(InvalidInput, match="disputed \\(ada said true, bob said false\\)"):
        _resolve(session, "true", "cy", now, review=TWO)
    with pytest.raises(InvalidInput) as exc:
        services.adjudicate(session, "c1", "false", EVIDENCE, " ", "cy", None, now)
    assert "cy is not an admin" in str(exc.value) and "needs a note" in str(exc.value)
    entry = services.adjudicate(session, "c1", "false", EVIDENCE, "The recount says no.", "boss", None, now)
    assert (entry.role, entry.note, claim.status, claim.verdict) == (
        "adjudication",
        "The recount says no.",
        "resolved",
        "false",
    )
    first, second, adjudication = double_review(claim.resolutions) or (None, None, None)
    assert (first.verdict, second.verdict, adjudication) == ("true", "false", entry)  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="only a disputed claim is adjudicated; this one is resolved"):
        services.adjudicate(session, "c1", "true", EVIDENCE, "again", "boss", None, now)
    assert session.scalar(select(func.count()).select_from(Resolution)) == 3


def test_the_same_reviewer_cannot_give_both_verdicts(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer]
) -> None:
    claim = make_claim(key="c1")
    _resolve(session, "true", "ada", now, review=TWO)
    with pytest.raises(InvalidInput, match="ada gave the first verdict; the second must come from another"):
        _resolve(session, "true", "ada", now, review=TWO)
    assert (claim.status, len(claim.resolutions)) == ("awaiting", 1)


def test_a_resolved_double_review_needs_an_unresolve_before_a_new_round(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer]
) -> None:
    claim = make_claim(key="c1")
    _resolve(session, "true", "ada", now, review=TWO)
    _resolve(session, "true", "bob", now, review=TWO)
    with pytest.raises(InvalidInput, match="resolved by double review; un-resolve it"):
        _resolve(session, "false", "cy", now)  # even once the setting is back to one verdict
    services.unresolve(session, "c1", "cy", "new evidence", now)
    assert (claim.status, current_round(claim.resolutions)) == ("open", [])
    again = _resolve(session, "false", "cy", now, review=TWO)
    assert (again.role, claim.status, [r.verdict for r in current_round(claim.resolutions)]) == (
        "first",
        "awaiting",
        ["false"],
    )


@pytest.mark.parametrize("state", ["awaiting", "disputed"])
def test_unresolve_resets_an_unfinished_round(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer], state: str
) -> None:
    claim = make_claim(key="c1")
    _resolve(session, "true", "ada", now, review=TWO)
    if state == "disputed":
        _resolve(session, "false", "bob", now, review=TWO)
    assert claim.status == state
    if state == "disputed":
        with pytest.raises(TrackerError, match="disputed: only an admin adjudicates or re-opens it"):
            services.unresolve(session, "c1", "bob", "let us start again", now)
    services.unresolve(session, "c1", "boss", "wrong criteria", now)
    assert (claim.status, claim.verdict) == ("open", None)
    # The round starts again: ada's earlier first verdict no longer counts, so she may give the first.
    assert _resolve(session, "true", "ada", now, review=TWO).role == "first"


def test_one_verdict_claims_behave_as_before(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer]
) -> None:
    claim = make_claim(key="c1")
    _resolve(session, "true", "ada", now)
    _resolve(session, "false", "ada", now)
    assert (claim.status, claim.verdict, [r.role for r in claim.resolutions]) == (
        "resolved",
        "false",
        ["verdict", "verdict"],
    )
    assert double_review(claim.resolutions) is None


def test_a_claim_resolved_once_takes_no_first_of_two_verdicts_without_an_unresolve(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer]
) -> None:
    claim = make_claim(key="c1")
    _resolve(session, "true", "ada", now)
    with pytest.raises(InvalidInput, match="resolved and now needs two verdicts; un-resolve it"):
        _resolve(session, "false", "bob", now, review=TWO)
    assert (claim.status, claim.verdict, len(claim.resolutions)) == ("resolved", "true", 1)


def test_a_tag_override_asks_for_two(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer]
) -> None:
    review = ReviewSettings(verdicts_required_tags={"economy": 2})
    claim = make_claim(key="c1", tags=[ClaimTag(tag="economy")])
    make_claim(key="c2")
    assert _resolve(session, "true", "ada", now, review=review).role == "first"
    assert claim.status == "awaiting"
    assert (
        services.resolve(session, "c2", "true", EVIDENCE, None, "ada", None, now, review=review).role
        == "verdict"
    )


def test_the_first_verdict_is_blind_to_all_but_its_author(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer]
) -> None:
    claim = make_claim(key="c1")
    first = _resolve(session, "true", "ada", now, review=TWO)
    assert visible_history(claim.status, claim.resolutions, "ada", _handle) == [first]
    for viewer in ("bob", "boss", None):
        assert visible_history(claim.status, claim.resolutions, viewer, _handle) == []
    assert visible_history(claim.status, claim.resolutions, "ada", _handle, public=True) == []
    second = _resolve(session, "false", "bob", now, review=TWO)
    # Disputed: both verdicts are in, so every reviewer sees them; the public does not yet.
    assert visible_history(claim.status, claim.resolutions, "cy", _handle) == [first, second]
    assert visible_history(claim.status, claim.resolutions, None, _handle) == [first, second]
    assert visible_history(claim.status, claim.resolutions, "ada", _handle, public=True) == []
    entry = services.adjudicate(session, "c1", "true", EVIDENCE, "ada is right", "boss", None, now)
    assert visible_history(claim.status, claim.resolutions, None, _handle, public=True) == [
        first,
        second,
        entry,
    ]


def test_progress_is_refused_while_a_promise_awaits_its_second_verdict(
    session: Session, now: dt.datetime, make_claim: MakeClaim, people: dict[str, Reviewer]
) -> None:
    make_claim(key="c1", kind="promise", probability=None, confidence=None)
    services.resolve(session, "c1", "kept", EVIDENCE, None, "ada", None, now, review=TWO)
    with pytest.raises(InvalidInput, match="progress is for an open promise; this one is awaiting"):
        services.record_progress(session, "c1", "stalled", EVIDENCE, None, "bob", None, now)
