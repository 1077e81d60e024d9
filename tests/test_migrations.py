"""The schema comes from the migrations alone; they match the models and run both ways."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import tracker
from tracker.db import Base, make_engine
from tracker.errors import DatabaseNotReady
from tracker.migrations import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    require_head,
    upgrade,
)
from tracker.models import (
    Appearance,
    Claim,
    ClaimTag,
    CriteriaVersion,
    Resolution,
    Reviewer,
    Source,
)
from tracker.resources import resource_dir

TABLES = {
    "sources",
    "appearances",
    "reviewers",
    "claims",
    "claim_tags",
    "claim_reviewers",
    "criteria_versions",
    "resolutions",
}


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], "models and migrations differ; autogenerate a migration"


def test_migrated_database_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    require_head(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES


def _fill(engine: Engine) -> None:
    """One of everything, linked together, as the services would leave it."""
    with Session(engine) as session, session.begin():
        outlet = Source(slug="daily", name="The Daily", kind="outlet")
        pundit = Source(slug="pundit", name="A. Pundit", kind="person", parent=outlet)
        reviewer = Reviewer(handle="rev", name="Rev", email="rev@example.org")
        article = Appearance(url="https://example.org/a", title="A", published=dt.date(2026, 11, 1))
        claim = Claim(
            key="rates-fall",
            kind="prediction",
            statement="Rates fall by March.",
            quote="Rates will likely fall by March.",
            made_on=dt.date(2026, 11, 1),
            source=pundit,
            appearance=article,
            probability=0.675,
            confidence="likely",
            criteria="Policy rate lower on 2027-03-31 than on 2026-11-01.",
            deadline=dt.date(2027, 3, 31),
            status="resolved",
            verdict="true",
            tags=[ClaimTag(tag="economy")],
            reviewers=[reviewer],
            criteria_versions=[
                CriteriaVersion(
                    version=1, criteria="Policy rate lower on 2027-03-31.", deadline=dt.date(2027, 3, 31)
                )
            ],
        )
        session.add(claim)
        session.flush()
        session.add(
            Resolution(
                claim=claim,
                verdict="true",
                evidence=["https://example.org/rates"],
                reviewer=reviewer,
                resolved_on=dt.date(2027, 4, 1),
            )
        )


def _check(engine: Engine) -> None:
    with Session(engine) as session:
        claim = session.scalars(select(Claim).where(Claim.key == "rates-fall")).one()
        assert claim.source.parent is not None and claim.source.parent.slug == "daily"
        assert claim.appearance is not None and claim.appearance.url == "https://example.org/a"
        assert claim.tag_names == ["economy"]
        assert [r.handle for r in claim.reviewers] == ["rev"]
        assert [v.version for v in claim.criteria_versions] == [1]
        (resolution,) = claim.resolutions
        assert resolution.evidence == ["https://example.org/rates"]
        assert resolution.recorded_at.tzinfo is dt.UTC


def test_upgrade_downgrade_upgrade_with_data(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        _fill(engine)
        _check(engine)

        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM claims")).scalar() == 0
        _fill(engine)
        _check(engine)
    finally:
        engine.dispose()


def test_empty_database_is_not_ready(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) is None
        with pytest.raises(DatabaseNotReady, match="run `tracker init`"):
            require_head(engine)
    finally:
        engine.dispose()


def test_database_from_a_newer_tracker_is_not_ready(engine: Engine) -> None:
    # A migration id this code has never heard of was written by a newer tracker.
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    with pytest.raises(DatabaseNotReady, match=r"at migration from_the_future, newer than .*upgrade tracker"):
        require_head(engine)


def test_head_revision_is_the_newest_migration_file() -> None:
    versions = resource_dir("alembic") / "versions"
    revisions = {
        match.group(1)
        for path in versions.glob("*.py")
        if (match := re.search(r'^revision: str = "([^"]+)"', path.read_text(), re.MULTILINE))
    }
    assert head_revision() in revisions


def test_migrations_and_templates_ship_with_the_package() -> None:
    alembic_dir = resource_dir("alembic")
    assert (alembic_dir / "env.py").is_file()
    assert any((alembic_dir / "versions").glob("*.py"))
    assert resource_dir("templates").is_dir()
    if os.environ.get("TRACKER_TEST_INSTALLED") == "1":
        # Installed from the wheel, they must be inside the package, not found in a checkout nearby.
        package = Path(tracker.__file__).resolve().parent
        assert alembic_dir.is_relative_to(package)
        assert resource_dir("templates").is_relative_to(package)


def test_unknown_resource_is_an_error() -> None:
    with pytest.raises(FileNotFoundError, match="reinstall"):
        resource_dir("no-such-resource")


def test_no_create_all_in_the_package() -> None:
    # The schema is made by migrations only: create_all would hide a missing migration.
    package = Path(tracker.__file__).resolve().parent
    offenders = [
        str(path.relative_to(package))
        for path in sorted(package.rglob("*.py"))
        if "create_all" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_each_migration_steps_down_and_up_keeping_rows(empty_db_url: str) -> None:
    """Step down one migration at a time and back up, with rows in every table, and lose nothing."""
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        _fill(engine)
        config = alembic_config()
        revisions = [s.revision for s in ScriptDirectory.from_config(config).walk_revisions()]
        for revision in revisions[1:]:  # newest first; stop above the first migration
            downgrade(engine, revision)
            assert current_revision(engine) == revision
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM claims")).scalar() == 1
        upgrade(engine)
        _check(engine)
    finally:
        engine.dispose()


def test_the_report_outbox_migration_keeps_digests_and_drops_report_emails_going_down(
    empty_db_url: str,
) -> None:
    """0004 links deliveries to report runs; going back, only the report emails go with the link."""
    engine = make_engine(empty_db_url)
    at = "2027-01-18 08:00:00"
    try:
        upgrade(engine, "0003_reminders")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO reviewers (id, handle, name, email, timezone, role, subscribed, created_at) "
                    "VALUES (1, 'rev', 'Rev', 'rev@example.org', 'UTC', 'reviewer', true, :at)"
                ),
                {"at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO report_runs (id, ran_at, since, scores, summary) "
                    "VALUES (1, :at, :at, '{}', '{}')"
                ),
                {"at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO deliveries (id, reviewer_id, channel, message_id, subject, status, attempts, "
                    "next_attempt_at, created_at) VALUES (1, 1, 'smtp', '<digest-1.rev@tracker>', 's', "
                    "'sent', 1, :at, :at)"
                ),
                {"at": at},
            )
        upgrade(engine)
        with engine.begin() as connection:
            old = connection.execute(text("SELECT report_run_id FROM deliveries")).all()
            assert old == [(None,)]
            assert connection.execute(text("SELECT digest_text FROM report_runs")).all() == [(None,)]
            connection.execute(
                text(
                    "INSERT INTO deliveries (id, reviewer_id, channel, message_id, subject, status, attempts, "
                    "next_attempt_at, created_at, report_run_id) VALUES (2, 1, 'smtp', "
                    "'<report-1.rev@tracker>', 's', 'pending', 0, :at, :at, 1)"
                ),
                {"at": at},
            )
        downgrade(engine, "0003_reminders")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id FROM deliveries")).all() == [(1,)]
        assert "report_run_id" not in {c["name"] for c in inspect(engine).get_columns("deliveries")}
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO deliveries (id, reviewer_id, channel, message_id, subject, status, attempts, "
                    "next_attempt_at, created_at, report_run_id) VALUES (3, 1, 'smtp', "
                    "'<report-1.rev@tracker>', 's', 'pending', 0, :at, :at, 1)"
                ),
                {"at": at},
            )
            connection.execute(text("DELETE FROM report_runs"))  # a report's emails go with it
            assert connection.execute(text("SELECT id FROM deliveries")).all() == [(1,)]
    finally:
        engine.dispose()


def test_the_recorded_late_migration_adds_its_columns_and_keeps_claims_both_ways(empty_db_url: str) -> None:
    """0006 adds probability_basis and recorded_after_outcome; claims from before it are unmarked."""
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        _fill(engine)
        with Session(engine) as session, session.begin():
            claim = session.scalars(select(Claim).where(Claim.key == "rates-fall")).one()
            claim.probability_basis, claim.recorded_after_outcome = "Our reading.", True
        below = ScriptDirectory.from_config(alembic_config()).get_revision("0006_recorded_late").down_revision
        downgrade(engine, str(below))
        columns = {c["name"] for c in inspect(engine).get_columns("claims")}
        assert not {"probability_basis", "recorded_after_outcome"} & columns
        upgrade(engine)
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT key, probability_basis, recorded_after_outcome FROM claims")
            ).one()
        assert (row[0], row[1], bool(row[2])) == ("rates-fall", None, False)
        _check(engine)
    finally:
        engine.dispose()


def _promise(engine: Engine) -> None:
    """A promise with its progress and its verdict, as the services leave one."""
    with Session(engine) as session, session.begin():
        source = session.scalars(select(Source).where(Source.slug == "pundit")).one()
        reviewer = session.scalars(select(Reviewer).where(Reviewer.handle == "rev")).one()
        claim = Claim(
            key="no-freeze",
            kind="promise",
            statement="We will not accept a freeze-for-freeze agreement.",
            quote="We would not accept it.",
            made_on=dt.date(2026, 11, 1),
            source=source,
            criteria="BROKEN if drills stop for a test freeze.",
            deadline=dt.date(2027, 3, 31),
            status="resolved",
            verdict="broken",
            progress="stalled",
        )
        session.add(claim)
        session.flush()
        for progress, verdict in (("in-the-works", None), ("stalled", None), (None, "broken")):
            session.add(
                Resolution(
                    claim=claim,
                    verdict=verdict,
                    progress=progress,
                    evidence=["https://example.org/drills"],
                    reviewer=reviewer,
                    resolved_on=dt.date(2027, 1, 1),
                )
            )


def test_the_promises_migration_steps_down_and_up_and_refuses_to_drop_promises(empty_db_url: str) -> None:
    """0008 adds promises and progress; going down it refuses while a promise is stored."""
    engine = make_engine(empty_db_url)
    below = ScriptDirectory.from_config(alembic_config()).get_revision("0009_promises").down_revision
    try:
        upgrade(engine)
        _fill(engine)
        _promise(engine)
        with pytest.raises(CommandError, match=r"1 promise claim\(s\) are stored"):
            downgrade(engine, str(below))
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT verdict, progress FROM resolutions ORDER BY id")).all()
        assert rows == [("true", None), (None, "in-the-works"), (None, "stalled"), ("broken", None)]

        # Without promises it steps down, and the old checks come back with the old kinds.
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM claims WHERE kind = 'promise'"))
        downgrade(engine, str(below))
        assert current_revision(engine) == below
        for table in ("claims", "resolutions"):
            assert "progress" not in {c["name"] for c in inspect(engine).get_columns(table)}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM claims")).scalar() == 1
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE claims SET kind = 'promise', verdict = NULL"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE resolutions SET verdict = 'kept'"))

        upgrade(engine)
        _check(engine)
        _promise(engine)  # the new kind, verdicts and progress are accepted again
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE resolutions SET progress = 'stalled' WHERE verdict IS NOT NULL"))
    finally:
        engine.dispose()


def test_the_editor_role_migration_allows_editors_and_demotes_them_going_down(empty_db_url: str) -> None:
    """0007 lets a reviewer be an editor; below it, editors become reviewers, and nobody is lost."""
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        _fill(engine)
        with Session(engine) as session, session.begin():
            session.add(Reviewer(handle="ed", name="Ed", email="ed@example.org", role="editor"))
        below = ScriptDirectory.from_config(alembic_config()).get_revision("0007_editor_role").down_revision
        downgrade(engine, str(below))
        with engine.connect() as connection:
            roles = dict(connection.execute(text("SELECT handle, role FROM reviewers")).all())
        assert roles == {"rev": "reviewer", "ed": "reviewer"}
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE reviewers SET role = 'editor' WHERE handle = 'ed'"))
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE reviewers SET role = 'editor' WHERE handle = 'ed'"))
        _check(engine)
    finally:
        engine.dispose()


def test_the_double_review_migration_steps_down_and_up_and_refuses_to_drop_pending_reviews(
    empty_db_url: str,
) -> None:
    """0012 adds awaiting/disputed claims and verdict roles; going down it refuses while one is pending."""
    engine = make_engine(empty_db_url)
    below = ScriptDirectory.from_config(alembic_config()).get_revision("0012_double_review").down_revision
    try:
        upgrade(engine)
        _fill(engine)
        with engine.begin() as connection:
            claim_id, reviewer_id = connection.execute(text("SELECT id, 1 FROM claims")).one()
            connection.execute(text("UPDATE claims SET status = 'disputed', verdict = NULL"))
            for role, verdict in (("first", "false"), ("second", "true")):
                connection.execute(
                    text(
                        "INSERT INTO resolutions (claim_id, verdict, evidence, reviewer_id, resolved_on,"
                        " recorded_at, role) VALUES (:c, :v, '[]', :r, '2027-04-02', '2027-04-02 10:00:00', :role)"
                    ),
                    {"c": claim_id, "v": verdict, "r": reviewer_id, "role": role},
                )
        with pytest.raises(CommandError, match=r"1 claim\(s\) are awaiting a second verdict or disputed"):
            downgrade(engine, str(below))
        assert current_revision(engine) == head_revision()

        # Adjudicated, it steps down: the latest entry is the verdict the old schema reads.
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO resolutions (claim_id, verdict, evidence, note, reviewer_id, resolved_on,"
                    " recorded_at, role) VALUES (:c, 'true', '[]', 'settled', :r, '2027-04-03',"
                    " '2027-04-03 10:00:00', 'adjudication')"
                ),
                {"c": claim_id, "r": reviewer_id},
            )
            connection.execute(text("UPDATE claims SET status = 'resolved', verdict = 'true'"))
        downgrade(engine, str(below))
        assert current_revision(engine) == below
        assert "role" not in {c["name"] for c in inspect(engine).get_columns("resolutions")}
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT verdict FROM resolutions ORDER BY id")).scalars().all()
        assert rows == ["true", "false", "true", "true"]
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE claims SET status = 'awaiting'"))

        upgrade(engine)
        with engine.connect() as connection:
            roles = connection.execute(text("SELECT role FROM resolutions")).scalars().all()
        assert roles == ["verdict"] * 4
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE resolutions SET role = 'third'"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE resolutions SET role = 'first', verdict = NULL"))
        with engine.begin() as connection:
            connection.execute(text("UPDATE claims SET status = 'awaiting', verdict = NULL"))
    finally:
        engine.dispose()


def test_the_pending_imports_migration_adds_its_table_and_drops_waiting_uploads_going_down(
    empty_db_url: str,
) -> None:
    """0010 adds the table of uploads waiting for a confirm; below it they go, and nothing else does."""
    from tracker.staging import PendingImport

    engine = make_engine(empty_db_url)
    at = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    try:
        upgrade(engine)
        _fill(engine)
        with Session(engine) as session, session.begin():
            rev = session.scalars(select(Reviewer).where(Reviewer.handle == "rev")).one()
            session.add(
                PendingImport(
                    token="t",
                    reviewer_id=rev.id,
                    file_name="c.yaml",
                    content=b"x",
                    content_sha256="0",
                    created_at=at,
                )
            )
        below = (
            ScriptDirectory.from_config(alembic_config()).get_revision("0010_pending_imports").down_revision
        )
        downgrade(engine, str(below))
        assert "pending_imports" not in inspect(engine).get_table_names()
        upgrade(engine)
        with Session(engine) as session:
            assert session.scalars(select(PendingImport)).all() == []
            session.add(
                PendingImport(
                    token="u",
                    reviewer_id=1,
                    file_name="c.yaml",
                    content=b"\xff\x00",
                    content_sha256="0",
                    created_at=at,
                )
            )
            session.commit()
            assert session.get(PendingImport, "u").content == b"\xff\x00"  # type: ignore[union-attr]
        _check(engine)
    finally:
        engine.dispose()


def test_the_criteria_reason_migration_adds_reason_and_author_and_keeps_versions_both_ways(
    empty_db_url: str,
) -> None:
    """0011 records why and by whom criteria changed; going down drops both, keeping every version."""
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        _fill(engine)
        with Session(engine) as session, session.begin():
            claim = session.scalars(select(Claim).where(Claim.key == "rates-fall")).one()
            editor = Reviewer(handle="ed", name="Ed", email="ed@example.org", role="editor")
            session.add(
                CriteriaVersion(
                    claim=claim,
                    version=2,
                    criteria="Policy rate lower on 2027-06-30.",
                    deadline=dt.date(2027, 6, 30),
                    reason="The source gave a later date.",
                    recorded_by=editor,
                )
            )
        below = (
            ScriptDirectory.from_config(alembic_config()).get_revision("0011_criteria_reason").down_revision
        )
        downgrade(engine, str(below))
        columns = {c["name"] for c in inspect(engine).get_columns("criteria_versions")}
        assert not {"reason", "recorded_by_id"} & columns
        with engine.connect() as connection:
            versions = connection.execute(
                text("SELECT version FROM criteria_versions ORDER BY version")
            ).all()
        assert versions == [(1,), (2,)]
        upgrade(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT version, reason, recorded_by_id FROM criteria_versions ORDER BY version")
            ).all()
        assert [tuple(r) for r in rows] == [(1, None, None), (2, None, None)]
        with engine.begin() as connection:  # the columns are back (versions are append-only to the ORM)
            connection.execute(
                text(
                    "UPDATE criteria_versions SET reason = 'Again.', "
                    "recorded_by_id = (SELECT id FROM reviewers WHERE handle = 'ed') WHERE version = 2"
                )
            )
            connection.execute(
                text("DELETE FROM reviewers WHERE handle = 'ed'")
            )  # the version outlives its author
            assert connection.execute(
                text("SELECT reason, recorded_by_id FROM criteria_versions WHERE version = 2")
            ).one() == ("Again.", None)
    finally:
        engine.dispose()
