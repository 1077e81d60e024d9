"""The import preview: the real import rolled back, with what it would change by name, bound to a
fingerprint of the database that changes with anything an import compares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from test_claimsfile_import import CLAIMS, HEAD, counts

from tracker import services
from tracker.claimsfile import export_claims
from tracker.claimsfile.preview import confirm, fingerprint, preview
from tracker.config import Settings
from tracker.models import Claim, ClaimTag, Reviewer, Source, claim_reviewers

WriteFile = Callable[[str, str], Path]
Sessions = sessionmaker[Session]

CHANGED = (
    HEAD.replace("email: bo@example.org", "email: bo@new.example.org")
    + "  - {slug: wire, name: The Wire, kind: outlet}\n"
    + CLAIMS.replace("tags: [north-korea, china]", "tags: [north-korea]")
    .replace("Song Tao is a protege of Xi Jinping.", "Song Tao is Xi's protege.")
    .replace(
        "reviewers: [bo]",
        "reviewers: [bo]\n    outcome: {verdict: unverifiable, resolved_on: 2018-02-01, by: bo}",
    )
    .replace("deadline: 2027-12-31", "deadline: 2028-06-30")
)


@pytest.fixture
def imported(session_factory: Sessions, settings: Settings, now: dt.datetime) -> Sessions:
    with session_factory.begin() as session:
        assert preview(session, (HEAD + CLAIMS).encode(), "claims.yaml", settings=settings, now=now).report
        report = confirm(
            session, (HEAD + CLAIMS).encode(), "claims.yaml", fingerprint(session), settings=settings, now=now
        )[0].report
        assert report is not None and report.created == 3
    return session_factory


def test_the_preview_names_every_change_and_writes_nothing(
    imported: Sessions, settings: Settings, now: dt.datetime
) -> None:
    with imported.begin() as session:
        before, rows = export_claims(session), counts(session)
        shown = preview(session, CHANGED.encode(), "claims.yaml", settings=settings, now=now)
        assert shown.problems == [] and shown.report is not None and shown.report.detail is not None
        detail = shown.report.detail
        assert detail.claims_created == []
        assert detail.claims_updated == {
            "kim-tones-down": ["tags"],
            "protege": ["statement", "outcome"],
            "no-denuclearisation": ["resolution"],
        }
        assert detail.criteria_versions == ["no-denuclearisation"] and detail.resolutions == ["protege"]
        assert (detail.reviewers_created, detail.reviewers_updated) == ([], ["bo"])
        assert (detail.sources_created, detail.sources_updated) == (["wire"], [])
        assert export_claims(session) == before and counts(session) == rows
        assert shown.fingerprint == fingerprint(session)


def test_problems_come_with_their_lines_and_write_nothing(
    imported: Sessions, settings: Settings, now: dt.datetime
) -> None:
    bad = CHANGED.replace("deadline: 2028-06-30", "deadline: 2017-01-01")
    with imported.begin() as session:
        before = export_claims(session)
        shown = preview(session, bad.encode(), "mine.yaml", settings=settings, now=now)
        assert shown.report is None
        assert [str(p) for p in shown.problems] == [
            f"mine.yaml:{bad.splitlines().index('    resolution: {criteria: No IAEA verification of dismantlement by the deadline., deadline: 2017-01-01}') + 1}: "
            "claims[2].resolution.deadline: 2017-01-01 is before made_on 2017-11-16"
        ]
        assert export_claims(session) == before


CHANGES: dict[str, Callable[[Session], object]] = {
    "a reviewer's email": lambda s: s.execute(
        update(Reviewer).where(Reviewer.handle == "bo").values(email="b@x.org")
    ),
    "a source's parent": lambda s: s.execute(
        update(Source).where(Source.slug == "analyst").values(parent_id=None)
    ),
    "a tag": lambda s: s.execute(delete(ClaimTag).where(ClaimTag.tag == "china")),
    "an assignment": lambda s: s.execute(
        delete(claim_reviewers).where(
            claim_reviewers.c.reviewer_id.in_(select(Reviewer.id).where(Reviewer.handle == "bo"))
        )
    ),
    "a claim's quote": lambda s: s.execute(
        update(Claim).where(Claim.key == "protege").values(quote="Changed.")
    ),
    "a new reviewer": lambda s: services.add_reviewer(s, "cy", "Cy", "cy@example.org"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_fingerprint_moves_with_anything_an_import_compares(
    imported: Sessions, settings: Settings, now: dt.datetime, change: str
) -> None:
    with imported.begin() as session:
        seen = preview(session, CHANGED.encode(), "claims.yaml", settings=settings, now=now).fingerprint
    with imported.begin() as session:
        CHANGES[change](session)
    with imported.begin() as session:
        before = export_claims(session)
        fresh, imported_it = confirm(
            session, CHANGED.encode(), "claims.yaml", seen, settings=settings, now=now
        )
        assert not imported_it and fresh.fingerprint != seen and fresh.report is not None
        assert export_claims(session) == before
    # Unchanged, the confirm imports.
    with imported.begin() as session:
        done, imported_it = confirm(
            session, CHANGED.encode(), "claims.yaml", fresh.fingerprint, settings=settings, now=now
        )
        assert imported_it and done.report is not None and done.report.updated >= 1
    with imported.begin() as session:
        assert (
            session.scalar(select(Claim.statement).where(Claim.key == "protege"))
            == "Song Tao is Xi's protege."
        )
