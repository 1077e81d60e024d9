"""The model's constraints hold at the database, and its histories are append-only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker import scoring
from tracker.models import (
    PROGRESS_STATUSES,
    VERDICT_SCALES,
    Claim,
    ClaimKind,
    ClaimTag,
    CriteriaVersion,
    Resolution,
    Reviewer,
    Source,
)
from tracker.scoring import PROMISE_VERDICTS

MakeClaim = Callable[..., Claim]
MakeSource = Callable[..., Source]
MakeReviewer = Callable[..., Reviewer]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("verdict", "maybe"),
        ("probability", 1.5),
        ("probability", -0.1),
        ("kind", "opinion"),
        ("status", "closed"),
        ("progress", "done"),
    ],
)
def test_claim_checks_reject_bad_values(make_claim: MakeClaim, column: str, value: object) -> None:
    with pytest.raises(IntegrityError):
        make_claim(**{column: value})


def test_claim_checks_accept_every_verdict_and_the_probability_bounds(make_claim: MakeClaim) -> None:
    make_claim(kind="fact", probability=None, status="resolved", verdict="mostly-true")
    make_claim(probability=0.0, status="resolved", verdict="annulled")
    make_claim(probability=1.0)
    make_claim(kind="promise", probability=None, confidence=None, status="resolved", verdict="compromise")
    make_claim(kind="promise", probability=None, confidence=None, progress="stalled")


def test_source_kind_is_checked(make_source: MakeSource) -> None:
    with pytest.raises(IntegrityError):
        make_source(kind="blog")


def test_reviewer_role_is_checked(make_reviewer: MakeReviewer) -> None:
    with pytest.raises(IntegrityError):
        make_reviewer(role="boss")


def test_resolution_verdict_is_checked(session: Session, make_claim: MakeClaim) -> None:
    claim = make_claim()
    session.add(Resolution(claim=claim, verdict="bogus", resolved_on=dt.date(2027, 2, 1)))
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.mark.parametrize(
    ("verdict", "progress"), [(None, "done"), ("kept", "stalled")], ids=["unknown", "with-a-verdict"]
)
def test_resolution_progress_is_checked(
    session: Session, make_claim: MakeClaim, verdict: str | None, progress: str
) -> None:
    """A history entry is a progress status or a verdict, never both."""
    claim = make_claim(kind="promise", probability=None, confidence=None)
    session.add(Resolution(claim=claim, verdict=verdict, progress=progress, resolved_on=dt.date(2027, 2, 1)))
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_progress_entry_is_accepted(session: Session, make_claim: MakeClaim) -> None:
    claim = make_claim(kind="promise", probability=None, confidence=None)
    session.add(Resolution(claim=claim, progress="in-the-works", resolved_on=dt.date(2027, 2, 1)))
    session.flush()


def test_the_scoring_core_spells_the_promise_scales_as_the_model_does() -> None:
    assert VERDICT_SCALES[ClaimKind.PROMISE] == PROMISE_VERDICTS
    assert PROGRESS_STATUSES == scoring.PROGRESS_STATUSES


def test_foreign_keys_are_enforced(session: Session, make_source: MakeSource) -> None:
    make_source()
    # Raw SQL, so only the database (SQLite needs foreign_keys=ON) can refuse it.
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO claim_tags (claim_id, tag) VALUES (:claim_id, 'orphan')",
            ),
            {"claim_id": 999_999},
        )


def test_claim_keys_are_unique(make_claim: MakeClaim) -> None:
    make_claim(key="same")
    with pytest.raises(IntegrityError):
        make_claim(key="same")


def _resolution(session: Session, claim: Claim, verdict: str | None = "true") -> Resolution:
    resolution = Resolution(
        claim=claim, verdict=verdict, evidence=["https://example.org/e"], resolved_on=dt.date(2027, 2, 1)
    )
    session.add(resolution)
    session.flush()
    return resolution


def test_resolutions_can_be_appended(session: Session, make_claim: MakeClaim) -> None:
    claim = make_claim()
    _resolution(session, claim, "true")
    _resolution(session, claim, None)  # un-resolving is a new entry, not an edit
    session.expire_all()
    assert [r.verdict for r in session.get_one(Claim, claim.id).resolutions] == ["true", None]


def test_resolutions_cannot_be_modified(session: Session, make_claim: MakeClaim) -> None:
    resolution = _resolution(session, make_claim())
    resolution.verdict = "false"
    with pytest.raises(ValueError, match="Resolution rows are append-only"):
        session.flush()


def test_resolutions_cannot_be_deleted(session: Session, make_claim: MakeClaim) -> None:
    resolution = _resolution(session, make_claim())
    session.delete(resolution)
    with pytest.raises(ValueError, match="Resolution rows are append-only"):
        session.flush()


def test_criteria_versions_cannot_be_modified(session: Session, make_claim: MakeClaim) -> None:
    (version,) = make_claim().criteria_versions
    version.criteria = "Moved goalposts."
    with pytest.raises(ValueError, match="CriteriaVersion rows are append-only"):
        session.flush()


def test_criteria_versions_cannot_be_deleted(session: Session, make_claim: MakeClaim) -> None:
    (version,) = make_claim().criteria_versions
    session.delete(version)
    with pytest.raises(ValueError, match="CriteriaVersion rows are append-only"):
        session.flush()


def test_claim_factory_records_the_first_criteria_version(make_claim: MakeClaim) -> None:
    claim = make_claim()
    (version,) = claim.criteria_versions
    assert (version.version, version.criteria, version.deadline) == (1, claim.criteria, claim.deadline)


def test_source_members_and_parent(session: Session, make_source: MakeSource) -> None:
    outlet = make_source(kind="outlet")
    alice = make_source(kind="person", parent=outlet)
    bob = make_source(kind="person", parent_id=outlet.id)
    session.expire_all()

    outlet = session.get_one(Source, outlet.id)
    assert sorted(m.slug for m in outlet.members) == sorted([alice.slug, bob.slug])
    assert session.get_one(Source, alice.id).parent is outlet


def test_deleting_an_outlet_keeps_its_people(session: Session, make_source: MakeSource) -> None:
    outlet = make_source(kind="outlet")
    person = make_source(kind="person", parent=outlet)
    session.execute(text("DELETE FROM sources WHERE id = :id"), {"id": outlet.id})
    session.expire_all()
    assert session.get_one(Source, person.id).parent_id is None


def test_claim_tags_are_sorted(session: Session, make_claim: MakeClaim) -> None:
    claim = make_claim(tags=[ClaimTag(tag="zeta"), ClaimTag(tag="alpha")])
    session.expire_all()
    assert session.get_one(Claim, claim.id).tag_names == ["alpha", "zeta"]


def test_deleting_a_claim_cascades_to_its_rows(session: Session, make_claim: MakeClaim) -> None:
    claim = make_claim(tags=[ClaimTag(tag="x")])
    _resolution(session, claim)
    session.execute(text("DELETE FROM claims WHERE id = :id"), {"id": claim.id})
    for model in (ClaimTag, CriteriaVersion, Resolution):
        assert session.scalars(select(model)).all() == []


@pytest.mark.parametrize(
    ("kind", "probability", "scored"),
    [
        ("prediction", 0.7, True),
        ("prediction", 0.0, True),
        ("prediction", None, False),
        ("fact", 0.7, False),
        ("promise", None, False),
    ],
)
def test_claim_scored(kind: str, probability: float | None, scored: bool) -> None:
    assert Claim(kind=kind, probability=probability).scored is scored


def _revision(session: Session, source: Source) -> int:
    session.flush()
    return session.scalar(select(Source.revision).where(Source.id == source.id)) or 0


def test_changes_to_a_claim_bump_its_source_revision(
    session: Session, make_claim: MakeClaim, make_source: MakeSource
) -> None:
    """Every write a scorecard shows marks that source's pages stale, and only that source's."""
    source, other = make_source(), make_source()
    claim = make_claim(source=source)
    session.commit()
    seen = _revision(session, source)
    assert seen >= 1 and _revision(session, other) == 0

    claim.statement = "Edited."
    assert _revision(session, source) == seen + 1
    session.add(Resolution(claim_id=claim.id, verdict="true", evidence=[], resolved_on=dt.date(2026, 11, 2)))
    assert _revision(session, source) == seen + 2
    session.add(ClaimTag(claim_id=claim.id, tag="new"))
    assert _revision(session, source) == seen + 3
    claim.source = other
    session.flush()
    assert _revision(session, source) == seen + 4 and _revision(session, other) == 1
    assert _revision(session, other) == 1
