"""The audit log: every write recorded in its own transaction, by whom and how, and never rewritten."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, inspect, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker
from support.cli import Tracker
from test_claimsfile_import import CLAIMS, HEAD, PROMISES

from tracker import audit, services
from tracker.accounts.passwords import set_password
from tracker.app import App
from tracker.audit import AppendOnly, AuditEntry, Interface
from tracker.audit.models import audit_table
from tracker.claimsfile import import_claims
from tracker.config import Settings, load_settings
from tracker.db import make_engine, make_session_factory, unit_of_work
from tracker.errors import InvalidInput
from tracker.estimative import EstimativeScale
from tracker.migrations import alembic_config, downgrade, upgrade
from tracker.models import Claim, Reviewer

WriteFile = Callable[[str, str], Path]
ALICE = audit.Actor(Interface.CLI, "alice")


def entries(session: Session, **where: Any) -> list[AuditEntry]:
    """The log's entries, oldest first, narrowed by column values."""
    stmt = select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)
    return list(session.scalars(stmt))


def actions(session: Session, **where: Any) -> list[tuple[str, str]]:
    return [(e.action, e.entity_key) for e in entries(session, **where)]


@pytest.fixture
def as_alice() -> Iterator[audit.Actor]:
    with audit.acting(ALICE) as actor:
        yield actor


def _add_claim(session: Session, now: dt.datetime, key: str = "rates-fall", **fields: Any) -> Claim:
    values: dict[str, Any] = {
        "key": key,
        "kind": "prediction",
        "source_slug": "daily",
        "statement": "Rates fall by March.",
        "quote": "Rates will likely fall by March.",
        "made_on": dt.date(2026, 11, 1),
        "confidence": "likely",
        "criteria": "The policy rate is lower on 2027-03-31.",
        "deadline": dt.date(2027, 3, 31),
        "tags": ["economy"],
        "reviewer_handles": ["ada"],
        "scale": EstimativeScale.with_overrides({}),
        "now": now,
    }
    values.update(fields)
    return services.add_claim(session, **values)


@pytest.fixture
def world(session: Session, now: dt.datetime) -> Session:
    """A source, two reviewers and one claim (assigned to ada, tagged economy)."""
    services.add_source(session, "daily", "The Daily")
    services.add_reviewer(session, "ada", "Ada", "ada@example.org")
    services.add_reviewer(session, "bob", "Bob", "bob@example.org")
    _add_claim(session, now)
    return session


# --- what is recorded ----------------------------------------------------------------------------


def test_a_new_claim_is_recorded_whole_with_its_first_criteria(
    session: Session, now: dt.datetime, as_alice: Any
) -> None:
    services.add_source(session, "daily", "The Daily")
    services.add_reviewer(session, "ada", "Ada", "ada@example.org")
    _add_claim(session, now)
    assert actions(session) == [
        ("source.create", "daily"),
        ("reviewer.create", "ada"),
        ("claim.create", "rates-fall"),
        ("criteria.add", "rates-fall"),
    ]
    created = entries(session, action="claim.create")[0]
    assert (created.actor, created.actor_id, created.interface, created.entity) == (
        "alice",
        None,
        "cli",
        "claim",
    )
    assert created.before is None
    assert created.after is not None
    assert created.after["source"] == "daily" and created.after["deadline"] == "2027-03-31"
    assert created.after["tags"] == ["economy"] and created.after["reviewers"] == ["ada"]
    # Left to the column's default, it is named as the row will have it.
    assert created.after["recorded_after_outcome"] is False
    assert created.at.tzinfo is not None


def test_a_verdict_is_recorded_with_the_claim_before_and_after(world: Session, now: dt.datetime) -> None:
    before = len(entries(world))
    services.resolve(world, "rates-fall", "true", ["https://example.org/r"], "Fell.", "ada", None, now)
    added = entries(world)[before:]
    assert [e.action for e in added] == ["claim.update", "verdict.add"]
    update_entry, verdict = added
    assert update_entry.before == {"status": "open", "verdict": None}
    assert update_entry.after == {"status": "resolved", "verdict": "true"}
    assert verdict.after is not None
    assert verdict.after["reviewer"] == "ada" and verdict.after["evidence"] == ["https://example.org/r"]


def test_assignments_tags_criteria_and_roles_each_have_an_entry(world: Session, now: dt.datetime) -> None:
    before = len(entries(world))
    services.assign(world, "rates-fall", "bob")
    services.unassign(world, "rates-fall", "ada")
    claim = services.get_claim(world, "rates-fall")
    claim.tags = [t for t in claim.tags if t.tag != "economy"]
    world.flush()
    services.revise_criteria(world, claim, "Lower on 2027-04-30.", dt.date(2027, 4, 30), None, None, now)
    bob = services.get_reviewer(world, "bob")
    bob.role, bob.name = "admin", "Robert"
    world.flush()
    added = [(e.action, e.entity_key, e.before, e.after) for e in entries(world)[before:]]
    assert added == [
        ("assignment.add", "rates-fall", None, {"reviewer": "bob"}),
        ("assignment.remove", "rates-fall", {"reviewer": "ada"}, None),
        ("tag.remove", "rates-fall", {"tag": "economy"}, None),
        (
            "claim.update",
            "rates-fall",
            {"criteria": "The policy rate is lower on 2027-03-31.", "deadline": "2027-03-31"},
            {"criteria": "Lower on 2027-04-30.", "deadline": "2027-04-30"},
        ),
        (
            "criteria.add",
            "rates-fall",
            None,
            {
                "version": 2,
                "criteria": "Lower on 2027-04-30.",
                "deadline": "2027-04-30",
                "window_start": None,
                "timezone": None,
            },
        ),
        ("role.change", "bob", {"role": "reviewer"}, {"role": "admin"}),
        ("reviewer.update", "bob", {"name": "Bob"}, {"name": "Robert"}),
    ]


def test_a_write_that_changes_no_audited_field_records_nothing(world: Session) -> None:
    before = len(entries(world))
    claim = services.get_claim(world, "rates-fall")
    claim.updated_at = claim.updated_at + dt.timedelta(seconds=1)
    claim.statement = claim.statement  # the same value
    world.flush()
    assert len(entries(world)) == before


def test_a_password_change_is_recorded_without_the_hash(world: Session, now: dt.datetime) -> None:
    password = "a long enough secret"
    credential = set_password(world, "ada", password, now)
    (entry,) = entries(world, action="password.change")
    assert (entry.entity, entry.entity_key, entry.before, entry.after) == ("reviewer", "ada", None, None)
    assert credential.password_hash
    row = world.execute(select(audit_table)).all()
    dumped = repr(row)
    assert credential.password_hash not in dumped and password not in dumped
    assert "$argon2" not in dumped


def test_a_rolled_back_write_leaves_no_entry_and_an_entry_never_lacks_its_write(
    session_factory: sessionmaker[Session], now: dt.datetime
) -> None:
    with unit_of_work(session_factory) as session:
        services.add_source(session, "daily", "The Daily")
        services.add_reviewer(session, "ada", "Ada", "ada@example.org")
    with pytest.raises(InvalidInput), unit_of_work(session_factory) as session:
        _add_claim(session, now)
        assert actions(session, action="claim.create") == [("claim.create", "rates-fall")]
        raise InvalidInput([], "a later step of the same command failed")
    with unit_of_work(session_factory, write=False) as session:
        assert session.scalar(select(Claim.id)) is None
        assert actions(session) == [("source.create", "daily"), ("reviewer.create", "ada")]


def test_the_switch_turns_the_log_off(engine: Engine, now: dt.datetime) -> None:
    sessions = make_session_factory(engine, {audit.ENABLED: False})
    with unit_of_work(sessions) as session:
        services.add_source(session, "daily", "The Daily")
        audit.record(session, "login.success", "reviewer", "ada")
    with unit_of_work(make_session_factory(engine), write=False) as session:
        assert entries(session) == []


def test_the_setting_reaches_the_apps_sessions(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "tracker.toml"
    config.write_text(f'database_url = "{db_url}"\n[audit]\nenabled = false\n')
    assert load_settings(config, env={}).audit.enabled is False
    assert load_settings(config, env={"TRACKER_AUDIT_ENABLED": "true"}).audit.enabled is True
    assert Settings().audit.enabled is True
    app = App(config_file=config)
    try:
        with app.begin() as session:
            assert audit.enabled(session) is False
            services.add_source(session, "daily", "The Daily")
        with app.begin(write=False) as session:
            assert entries(session) == []
    finally:
        app.close()


# --- append-only ---------------------------------------------------------------------------------


def test_the_orm_refuses_to_change_or_delete_an_entry(session: Session) -> None:
    audit.record(session, "login.success", "reviewer", "ada")
    session.commit()
    (entry,) = entries(session)
    entry.actor = "someone else"
    with pytest.raises(AppendOnly):
        session.flush()
    session.rollback()
    (entry,) = entries(session)
    session.delete(entry)
    with pytest.raises(AppendOnly):
        session.flush()
    session.rollback()
    for statement in (
        update(AuditEntry).values(actor="x"),
        delete(AuditEntry),
        update(audit_table).values(actor="x"),
        delete(audit_table).where(audit_table.c.id > 0),
    ):
        with pytest.raises(AppendOnly):
            session.execute(statement)
    assert [e.actor for e in entries(session)] == ["system"]


def test_the_database_refuses_raw_updates_and_deletes(engine: Engine, backend: str) -> None:
    with Session(engine) as session, session.begin():
        audit.record(session, "login.success", "reviewer", "ada")
    statements = ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"]
    if backend == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["system"]


def test_the_migration_steps_down_and_up_with_entries(empty_db_url: str, backend: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        with Session(engine) as session, session.begin():
            services.add_source(session, "daily", "The Daily")
            audit.record(session, "login.failure", "reviewer", "nobody", {"address": "127.0.0.1"})
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar() == 2
        below = ScriptDirectory.from_config(alembic_config()).get_revision("0008_audit_log").down_revision
        downgrade(engine, str(below))
        assert "audit_log" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM sources")).scalar() == 1
        upgrade(engine)
        with Session(engine) as session, session.begin():
            services.add_source(session, "weekly", "The Weekly")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT action, entity_key FROM audit_log")).all()
        assert [tuple(r) for r in rows] == [("source.create", "weekly")]
        # The triggers came back with the table.
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_log"))
    finally:
        engine.dispose()


# --- the import (Core writes) --------------------------------------------------------------------


@pytest.fixture
def run_import(
    session_factory: sessionmaker[Session], settings: Settings, now: dt.datetime
) -> Callable[[Path], Any]:
    def run(path: Path) -> Any:
        with session_factory.begin() as session:
            return import_claims(session, path, settings=settings, now=now, display_name="claims.yaml")

    return run


def test_an_import_records_what_it_creates_through_the_import_interface(
    run_import: Any, session_factory: sessionmaker[Session], write_file: WriteFile, as_alice: Any
) -> None:
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    with session_factory() as session:
        found = entries(session)
        assert {(e.actor, e.interface) for e in found} == {("alice", "import")}
        assert [(e.action, e.entity_key) for e in found if e.entity != "claim"] == [
            ("reviewer.create", "ann"),
            ("reviewer.create", "bo"),
            ("source.create", "sino"),
            ("source.create", "analyst"),
        ]
        by_claim = [(e.action, e.entity_key) for e in found if e.entity == "claim"]
        assert by_claim == [
            ("claim.create", "kim-tones-down"),
            ("criteria.add", "kim-tones-down"),
            ("verdict.add", "kim-tones-down"),
            ("claim.create", "protege"),
            ("claim.create", "no-denuclearisation"),
            ("criteria.add", "no-denuclearisation"),
        ]
        kim = found[4]
        assert kim.after is not None
        assert kim.after["appearance"] == "https://sinoinsider.com/a" and kim.after["source"] == "sino"
        assert kim.after["tags"] == ["china", "north-korea"] and kim.after["reviewers"] == ["ann"]
        analyst = entries(session, action="source.create", entity_key="analyst")[0]
        assert analyst.after is not None and analyst.after["parent"] == "sino"
        verdict = entries(session, action="verdict.add")[0]
        assert verdict.after is not None and verdict.after["reviewer"] == "ann"


def test_an_import_and_the_services_record_a_claim_alike(
    run_import: Any, session_factory: sessionmaker[Session], write_file: WriteFile, now: dt.datetime
) -> None:
    run_import(write_file("claims.yaml", HEAD + CLAIMS))
    with unit_of_work(session_factory) as session:
        services.add_reviewer(session, "ada", "Ada", "ada@example.org")
        _add_claim(session, now, key="by-hand", source_slug="sino", reviewer_handles=["ann"])
    with session_factory() as session:
        imported, by_hand = (
            entries(session, action="claim.create")[2],
            entries(session, action="claim.create")[3],
        )
        assert imported.after is not None and by_hand.after is not None
        assert list(imported.after) == list(by_hand.after)
        ann, *_, ada = entries(session, action="reviewer.create")
        assert (ann.interface, ada.interface) == ("import", "cli")
        assert list(ann.after or {}) == list(ada.after or {})
        assert (ann.after or {})["subscribed"] is False and (ada.after or {})["subscribed"] is False


def test_a_reimport_records_only_what_changed(
    run_import: Any, session_factory: sessionmaker[Session], write_file: WriteFile
) -> None:
    path = write_file("claims.yaml", HEAD + CLAIMS)
    run_import(path)
    with session_factory() as session:
        first = len(entries(session))
    run_import(path)
    with session_factory() as session:
        assert len(entries(session)) == first  # nothing changed, nothing recorded
    changed = (
        (HEAD + CLAIMS)
        .replace("role: admin}", "role: reviewer}")
        .replace("tags: [north-korea, china]", "tags: [north-korea, nuclear]")
        .replace("    reviewers: [ann, bo]", "    reviewers: [bo]")
        .replace("deadline: 2027-12-31}", "deadline: 2028-06-30}")
        .replace("statement: Song Tao is a protege of Xi Jinping.", "statement: Song Tao is close to Xi.")
    )
    run_import(write_file("claims.yaml", changed))
    with session_factory() as session:
        added = [(e.action, e.entity_key, e.before, e.after) for e in entries(session)[first:]]
    assert added == [
        ("role.change", "ann", {"role": "admin"}, {"role": "reviewer"}),
        ("tag.add", "kim-tones-down", None, {"tag": "nuclear"}),
        ("tag.remove", "kim-tones-down", {"tag": "china"}, None),
        (
            "claim.update",
            "protege",
            {"statement": "Song Tao is a protege of Xi Jinping."},
            {"statement": "Song Tao is close to Xi."},
        ),
        ("claim.update", "no-denuclearisation", {"deadline": "2027-12-31"}, {"deadline": "2028-06-30"}),
        ("assignment.remove", "no-denuclearisation", {"reviewer": "ann"}, None),
        (
            "criteria.add",
            "no-denuclearisation",
            None,
            {
                "version": 2,
                "criteria": "No IAEA verification of dismantlement by the deadline.",
                "deadline": "2028-06-30",
                "window_start": None,
                "timezone": None,
            },
        ),
    ]


def test_a_failed_import_records_nothing(
    run_import: Any, session_factory: sessionmaker[Session], write_file: WriteFile
) -> None:
    with pytest.raises(InvalidInput):
        run_import(write_file("claims.yaml", HEAD + CLAIMS + "  - id: broken\n"))
    with session_factory() as session:
        assert entries(session) == []


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def tracker(db_url: str, tmp_path: Path) -> Tracker:
    config = tmp_path / "tracker-test.toml"
    config.write_text("")
    return Tracker(db_url, config)


def test_the_command_line_records_its_os_user_and_resolve_the_reviewer_it_names(
    tracker: Tracker, session_factory: sessionmaker[Session], write_file: WriteFile
) -> None:
    tracker.run("import", str(write_file("claims.yaml", HEAD + CLAIMS)))
    tracker.run("assign", "protege", "ann")
    secret = "a long enough password"
    tracker.run("reviewers", "set-password", "ann", input=secret + "\n")
    tracker.run("reviewers", "subscribe", "bo")
    tracker.run(
        "resolve",
        "no-denuclearisation",
        "--verdict",
        "false",
        "--by",
        "bo",
        "--evidence",
        "https://example.org/n",
    )
    user = audit.os_user()
    with session_factory() as session:
        bo = session.scalars(select(Reviewer).where(Reviewer.handle == "bo")).one()
        assert {(e.actor, e.interface) for e in entries(session, action="claim.create")} == {(user, "import")}
        (assigned,) = entries(session, action="assignment.add")
        assert (assigned.actor, assigned.actor_id, assigned.interface) == (user, None, "cli")
        (password,) = entries(session, action="password.change")
        assert (password.actor, password.entity_key, password.before, password.after) == (
            user,
            "ann",
            None,
            None,
        )
        (subscribed,) = entries(session, action="reviewer.update")
        assert (subscribed.before, subscribed.after) == ({"subscribed": False}, {"subscribed": True})
        assert secret not in repr(session.execute(select(audit_table)).all())
        resolved = entries(session, entity_key="no-denuclearisation", interface="cli")
        assert [e.action for e in resolved] == ["claim.update", "verdict.add"]
        assert {(e.actor, e.actor_id) for e in resolved} == {("bo", bo.id)}
    # The command's actor ends with the command.
    assert audit.current() == audit.Actor(Interface.CLI, audit.SYSTEM)


# --- the scheduler -------------------------------------------------------------------------------


def test_the_scheduler_writes_as_itself_stamped_by_its_clock(
    engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    """Its jobs write no audited table today; whatever runs inside one is recorded as the scheduler's."""
    from support.reminders import RecordingChannel, World
    from support.scheduler import Clock, at, scheduler_settings

    from tracker.channels import Message
    from tracker.scheduler import Jobs

    class WritingChannel(RecordingChannel):
        def deliver(self, message: Message) -> None:
            super().deliver(message)
            with unit_of_work(session_factory) as session:
                services.add_source(session, f"sent-{len(self.messages)}", "Written while sending")

    world = World(engine, session_factory, db_url, tmp_path)
    world.settings = scheduler_settings(db_url, tmp_path)
    world.reviewer("ann")
    world.claim("due-soon", "ann", deadline=dt.date(2027, 1, 25))
    with session_factory() as session:
        before = len(entries(session))
    clock = Clock(at("2027-01-24 12:00"))
    channel = WritingChannel()
    result = Jobs(session_factory, world.settings, channel, clock, "w1").reminders()
    assert result is not None and channel.messages
    with session_factory() as session:
        added = entries(session)[before:]
    assert [e.action for e in added] == ["source.create"]
    assert (added[0].actor, added[0].interface, added[0].at) == ("scheduler", "scheduler", clock())
    assert audit.current().interface is Interface.CLI  # the job's actor ended with the job


def test_a_promises_progress_is_recorded_by_an_import_and_by_the_services(
    run_import: Any, session_factory: sessionmaker[Session], write_file: WriteFile, now: dt.datetime
) -> None:
    run_import(write_file("claims.yaml", HEAD + PROMISES))
    with unit_of_work(session_factory) as session:
        services.record_progress(
            session, "no-freeze", "in-the-works", ["https://example.org/again"], None, "ann", None, now
        )
    with session_factory() as session:
        history = [
            ((e.after or {}).get("progress"), (e.after or {}).get("verdict"), e.interface)
            for e in entries(session, action="verdict.add", entity_key="no-freeze")
        ]
    assert history == [
        ("in-the-works", None, "import"),
        ("stalled", None, "import"),
        ("in-the-works", None, "cli"),
    ]
