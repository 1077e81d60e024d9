"""Editing a claim: words in place, criteria as a new version with its reason, reminders rescheduled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from support.reminders import DEADLINE, World, at

from tracker import services
from tracker.errors import InvalidInput, describe
from tracker.estimative import EstimativeScale
from tracker.models import Appearance, Claim, CriteriaVersion, Reminder, Reviewer

SCALE = EstimativeScale()
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def edit(session: Session, claim: Claim, editor: Reviewer, **changes: Any) -> services.Edited:
    """Edit `claim` as `editor`, keeping whatever `changes` does not name."""
    fields: dict[str, Any] = {
        "statement": claim.statement,
        "quote": claim.quote,
        "tags": claim.tag_names,
        "reviewer_handles": [r.handle for r in claim.reviewers],
        "appearance": {"url": claim.appearance.url} if claim.appearance else None,
        "criteria": services.Criteria.of(claim),
        "reason": None,
    }
    fields.update(changes)
    return services.edit_claim(session, claim.key, by=editor.handle, scale=SCALE, now=NOW, **fields)


def moved(claim: Claim, **changes: Any) -> services.Criteria:
    """The claim's criteria with `changes`."""
    current = services.Criteria.of(claim)
    assert current is not None
    return services.Criteria(**{**current.__dict__, **changes})


def fields_of(exc: pytest.ExceptionInfo[InvalidInput]) -> dict[str, list[str]]:
    return describe(exc.value).fields


def test_words_tags_and_reviewers_change_in_place_without_a_new_version(
    session: Session, make_claim: Callable[..., Claim], make_reviewer: Callable[..., Reviewer]
) -> None:
    editor, ann = make_reviewer(role="editor"), make_reviewer()
    claim = make_claim(quote="Rates will likely fall, we think.")

    result = edit(
        session,
        claim,
        editor,
        statement="Rates fall by March.",
        quote="Rates will likely fall by March, we think.",
        tags=["economy", "rates", "economy"],
        reviewer_handles=[ann.handle],
    )

    assert result.fields == ("statement", "quote", "tags", "reviewers") and result.version is None
    assert (claim.statement, claim.tag_names, [r.handle for r in claim.reviewers]) == (
        "Rates fall by March.",
        ["economy", "rates"],
        [ann.handle],
    )
    assert [v.version for v in claim.criteria_versions] == [1]
    assert claim.updated_at == NOW
    assert not edit(session, claim, editor).any  # the same again changes nothing


def test_a_change_to_the_criteria_or_the_deadline_needs_a_reason_and_writes_nothing_without_one(
    session: Session, make_claim: Callable[..., Claim], make_reviewer: Callable[..., Reviewer]
) -> None:
    editor = make_reviewer(role="editor")
    claim = make_claim()
    for change in ({"deadline": DEADLINE + dt.timedelta(days=30)}, {"criteria": "Other words."}):
        with pytest.raises(InvalidInput) as caught:
            edit(
                session, claim, editor, statement="Edited too.", criteria=moved(claim, **change), reason="  "
            )
        assert list(fields_of(caught)) == ["reason"]
        assert (claim.deadline, claim.statement) == (DEADLINE, claim.statement)
        assert [v.version for v in claim.criteria_versions] == [1]


def test_a_new_deadline_with_a_reason_is_a_new_version_saying_why_and_who(
    session: Session, make_claim: Callable[..., Claim], make_reviewer: Callable[..., Reviewer]
) -> None:
    editor = make_reviewer(role="editor")
    claim = make_claim()
    later = DEADLINE + dt.timedelta(days=30)

    result = edit(
        session, claim, editor, criteria=moved(claim, deadline=later), reason=" The source said spring. "
    )

    assert result.version is not None and result.fields == ()
    first, second = claim.criteria_versions
    assert (second.version, second.deadline, second.reason, second.recorded_by, second.recorded_at) == (
        2,
        later,
        "The source said spring.",
        editor,
        NOW,
    )
    assert (first.deadline, first.reason, first.recorded_by) == (DEADLINE, None, None)
    assert claim.deadline == later


def test_the_rules_are_the_claims_files(
    session: Session, make_claim: Callable[..., Claim], make_reviewer: Callable[..., Reviewer]
) -> None:
    editor = make_reviewer(role="editor")
    claim = make_claim(made_on=dt.date(2026, 11, 1), quote="It will likely happen.")
    with pytest.raises(InvalidInput) as caught:
        edit(
            session,
            claim,
            editor,
            quote="It will happen.",
            tags=["Not A Tag"],
            reviewer_handles=["nobody-here"],
            criteria=moved(claim, deadline=dt.date(2026, 10, 1), timezone="Mars/Base"),
            reason="Typo.",
            appearance={"url": "javascript:alert(1)"},
        )
    problems = fields_of(caught)
    assert sorted(problems) == ["deadline", "quote", "reviewers", "tags", "timezone", "url"]
    assert "2026-10-01 is before made_on 2026-11-01" in problems["deadline"][0]
    assert "'likely' does not occur in the quote" in problems["quote"][0]
    assert session.scalar(select(func.count()).select_from(CriteriaVersion)) == 1


def test_a_known_article_is_reused_and_a_new_one_added(
    session: Session, make_claim: Callable[..., Claim], make_reviewer: Callable[..., Reviewer]
) -> None:
    editor = make_reviewer(role="editor")
    known = Appearance(url="https://example.org/known", title="Known")
    session.add(known)
    claim = make_claim()

    edit(session, claim, editor, appearance={"url": "https://example.org/known", "title": "Ignored"})
    assert claim.appearance is known and known.title == "Known"
    edit(session, claim, editor, appearance={"url": "https://example.org/new", "title": "New"})
    assert claim.appearance is not None and claim.appearance.title == "New"
    assert session.scalar(select(func.count()).select_from(Appearance)) == 2


def test_add_claim_reuses_an_article_the_database_knows(
    session: Session, make_source: Callable[..., Any]
) -> None:
    source = make_source()
    for key in ("first", "second"):
        services.add_claim(
            session,
            key=key,
            kind="fact",
            source_slug=source.slug,
            statement=f"The {key} fact.",
            quote="So it was.",
            made_on=dt.date(2026, 11, 1),
            appearance={"url": "https://example.org/a", "title": f"Title {key}"},
            scale=SCALE,
            now=NOW,
        )
    (article,) = session.scalars(select(Appearance))
    assert article.title == "Title first" and len(article.claims) == 2


def test_add_claim_with_the_file_rules_wants_the_words_in_the_quote_and_a_basis_for_a_number(
    session: Session, make_source: Callable[..., Any]
) -> None:
    source = make_source()
    common: dict[str, Any] = {
        "kind": "prediction",
        "source_slug": source.slug,
        "statement": "It happens.",
        "made_on": dt.date(2026, 11, 1),
        "criteria": "It is reported.",
        "deadline": dt.date(2027, 1, 1),
        "scale": SCALE,
        "now": NOW,
        "file_rules": True,
    }
    with pytest.raises(InvalidInput) as caught:
        services.add_claim(session, key="words", quote="It will happen.", confidence="likely", **common)
    assert list(fields_of(caught)) == ["confidence"]
    with pytest.raises(InvalidInput) as caught:
        services.add_claim(session, key="number", quote="It will happen.", probability=0.7, **common)
    assert list(fields_of(caught)) == ["probability_basis"]
    claim = services.add_claim(session, key="none", quote="It will happen.", unstated=True, **common)
    assert (claim.probability, claim.confidence, claim.scored) == (None, None, False)


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    return World(engine, session_factory, db_url, tmp_path)


def test_a_moved_deadline_reschedules_the_reminders(world: World) -> None:
    """The old deadline's reminders are cancelled by the edit; the next pass schedules the new one's."""
    world.reviewer("ann")
    world.reviewer("ed", role="editor")
    world.claim("rates-fall", "ann")
    world.channel.temporary()
    world.run(at("2027-01-24 09:00"))  # before-7d is due, and waits for a retry when the deadline moves
    later = DEADLINE + dt.timedelta(days=14)
    with world.begin() as session:
        claim = services.get_claim(session, "rates-fall")
        editor = session.scalars(select(Reviewer).where(Reviewer.handle == "ed")).one()
        edit(session, claim, editor, criteria=moved(claim, deadline=later), reason="Extended.")
    assert world.reminders() == [("rates-fall", "ann", "before-7d", "cancelled")]

    result = world.run(at("2027-02-07 09:00"))  # seven days before the new deadline

    assert result.sent == 1
    with world.begin() as session:
        rows = session.execute(
            select(Reminder.kind, Reminder.deadline, Reminder.status).order_by(Reminder.id)
        )
        assert [tuple(r) for r in rows] == [
            ("before-7d", DEADLINE, "cancelled"),
            ("before-7d", later, "sent"),
        ]
    [message] = world.channel.messages
    assert "rates-fall" in message.text and later.strftime("%-d %b %Y") in message.text


def test_a_claim_recorded_under_older_rules_can_still_be_edited(
    session: Session, make_claim: Callable[..., Claim], make_reviewer: Callable[..., Reviewer]
) -> None:
    """Its words were never in its quote (the CLI did not ask); only what an edit breaks is refused."""
    editor = make_reviewer(role="editor")
    claim = make_claim(quote="It will happen.", confidence="likely")
    assert edit(session, claim, editor, tags=["old-rules"]).fields == ("tags",)
    with pytest.raises(InvalidInput) as caught:
        edit(session, claim, editor, quote="It will surely happen.")
    assert "'likely' does not occur in the quote" in fields_of(caught)["quote"][0]
