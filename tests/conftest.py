"""Shared fixtures: migrated databases on every backend, a rolled-back session, a frozen clock, factories.

Every test that asks for a database fixture runs once per backend: SQLite always, and
PostgreSQL when TRACKER_TEST_POSTGRES_URL names a server whose user may create databases.
Each such test gets its own fresh database, copied from a template that the migrations
built once per session, so the schema under test is exactly the one users get.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import os
import secrets
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

REPO_ROOT = Path(__file__).resolve().parent.parent

# CI installs tracker as a wheel and runs the tests against it; a developer running
# `pytest` in a checkout without installing gets the source tree instead.
if importlib.util.find_spec("tracker") is None:
    sys.path.insert(0, str(REPO_ROOT))

import tracker  # noqa: E402
from tracker.config import Settings, load_settings  # noqa: E402
from tracker.db import make_engine, make_session_factory  # noqa: E402
from tracker.migrations import upgrade  # noqa: E402
from tracker.models import Claim, CriteriaVersion, Reviewer, Source  # noqa: E402

POSTGRES_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL", "").strip() or None
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _tracker_location() -> Path:
    return Path(tracker.__file__).resolve().parent


def _installed() -> bool:
    return not _tracker_location().is_relative_to(REPO_ROOT)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def pytest_configure(config: pytest.Config) -> None:
    # .ci/run sets this: testing the source tree there would hide a broken wheel.
    if os.environ.get("TRACKER_TEST_INSTALLED") == "1" and not _installed():
        raise pytest.UsageError(
            f"TRACKER_TEST_INSTALLED=1 but tracker was imported from the checkout ({_tracker_location()}); "
            "the tests must run against the installed package"
        )


def _postgres_banner() -> list[str]:
    bar = "!" * 78
    return [
        bar,
        "!! PostgreSQL is NOT being tested: only SQLite ran.",
        "!! Set TRACKER_TEST_POSTGRES_URL, e.g. postgresql://postgres@127.0.0.1:5432/test",
        bar,
    ]


def pytest_report_header(config: pytest.Config) -> list[str]:
    where = "installed package" if _installed() else "source checkout"
    lines = [f"tracker {tracker.__version__} from {_tracker_location()} ({where})"]
    if POSTGRES_URL:
        lines.append(f"database backends: sqlite, postgresql ({_shown(POSTGRES_URL)})")
    else:
        lines.append("database backends: sqlite only")
        lines.extend(_postgres_banner())
    return lines


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    # Repeated at the end, where people look, because the header has scrolled away by then.
    if not POSTGRES_URL:
        for line in _postgres_banner():
            terminalreporter.write_line(line, yellow=True, bold=True)


# --- databases -------------------------------------------------------------------------------------


def _unique(prefix: str) -> str:
    # The pid keeps parallel runs against one server apart; the random part keeps tests apart.
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"


class _Databases(Protocol):
    def fresh(self, tmp_path: Path) -> str: ...
    def empty(self, tmp_path: Path) -> str: ...
    def discard(self, url: str) -> None: ...
    def close(self) -> None: ...


class _SqliteDatabases:
    """Fresh SQLite files, copied from one file that the migrations built."""

    def __init__(self, workdir: Path) -> None:
        self.template = workdir / "template.db"
        engine = make_engine(f"sqlite:///{self.template}")
        try:
            upgrade(engine)
        finally:
            # Closing the last connection checkpoints the WAL into the file, so a copy is complete.
            engine.dispose()

    def fresh(self, tmp_path: Path) -> str:
        path = tmp_path / "tracker.db"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"

    def empty(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'empty.db'}"

    def discard(self, url: str) -> None:
        """Nothing to do: tmp_path is cleaned up by pytest."""

    def close(self) -> None:
        """Nothing to do: the template lives in a pytest tmp dir."""


class _PostgresDatabases:
    """Fresh PostgreSQL databases, cloned from a template database that the migrations built."""

    def __init__(self, server_url: str) -> None:
        self._server = make_url(server_url).set(drivername="postgresql+psycopg")
        # CREATE/DROP DATABASE cannot run inside a transaction.
        self._admin = create_engine(self._server, isolation_level="AUTOCOMMIT")
        self.template = _unique("tracker_tpl")
        self._execute(f'CREATE DATABASE "{self.template}"')
        engine = make_engine(self._url(self.template))
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            self.close()
            raise
        # A template database must have no connections while it is being copied.
        engine.dispose()

    def _url(self, name: str) -> str:
        return self._server.set(database=name).render_as_string(hide_password=False)

    def _execute(self, sql: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(sql))

    def fresh(self, tmp_path: Path) -> str:
        name = _unique("tracker_t")
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self._url(name)

    def empty(self, tmp_path: Path) -> str:
        name = _unique("tracker_t")
        # template0 is guaranteed pristine; template1 may carry a site's extensions.
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self._url(name)

    def discard(self, url: str) -> None:
        name = make_url(url).database
        # FORCE ends connections a test left open, so one sloppy test cannot break teardown.
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self._admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS, ids=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: "sqlite" or "postgresql"."""
    return str(request.param)


@pytest.fixture(scope="session")
def _databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    databases: _Databases
    if backend == "postgresql":
        assert POSTGRES_URL is not None
        databases = _PostgresDatabases(POSTGRES_URL)
    else:
        databases = _SqliteDatabases(tmp_path_factory.mktemp("sqlite-template"))
    yield databases
    databases.close()


@pytest.fixture
def db_url(_databases: _Databases, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh database of this test's own, migrated to head."""
    url = _databases.fresh(tmp_path)
    yield url
    _databases.discard(url)


@pytest.fixture
def empty_db_url(_databases: _Databases, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh database with no schema at all (for migrations and `tracker init`)."""
    url = _databases.empty(tmp_path)
    yield url
    _databases.discard(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's migrated database."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Any]:
    """The session factory the application would build for the test's database."""
    return make_session_factory(engine)


@pytest.fixture
def session(engine: Engine, session_factory: sessionmaker[Any]) -> Iterator[Session]:
    """A session inside a transaction that is rolled back at teardown; commit and flush freely."""
    # make_engine makes SQLite begin transactions explicitly, so the session's SAVEPOINTs
    # nest inside this outer transaction on both backends.
    connection = engine.connect()
    transaction = connection.begin()
    session = session_factory(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def now() -> dt.datetime:
    """The frozen clock: 2026-11-23 12:00 UTC."""
    return NOW


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for the test database, ignoring the developer's TRACKER_* variables and tracker.toml."""
    # An empty config file stops load_settings from picking up ./tracker.toml.
    config_file = tmp_path / "tracker-test.toml"
    config_file.write_text("")
    return load_settings(config_file=config_file, env={}, database_url=db_url)


@pytest.fixture(autouse=True)
def _no_tracker_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the developer's TRACKER_* settings (not the test switches) from code that reads os.environ."""
    for name in list(os.environ):
        if name.startswith("TRACKER_") and not name.startswith("TRACKER_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout the tests live in (claims.yaml, README.md), wherever tracker was imported from."""
    return REPO_ROOT


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a small text file into tmp_path: `write_file("claims.yaml", '''...''')`.

    The text is dedented and a leading newline dropped, so line 1 of the file is the
    first line written after the opening quotes.
    """

    def write(name: str, content: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).removeprefix("\n"), encoding="utf-8")
        return path

    return write


# --- factories -------------------------------------------------------------------------------------

_serial = itertools.count(1)


_Model = TypeVar("_Model")


def _build(session: Session, obj: _Model) -> _Model:
    session.add(obj)
    session.flush()
    return obj


def build_source(session: Session, **overrides: Any) -> Source:
    """A Source (an outlet unless told otherwise) with a unique slug, flushed."""
    n = next(_serial)
    fields: dict[str, Any] = {"slug": f"source-{n}", "name": f"Source {n}", "kind": "outlet"}
    fields.update(overrides)
    return _build(session, Source(**fields))


def build_reviewer(session: Session, **overrides: Any) -> Reviewer:
    """A Reviewer with a unique handle and email, flushed."""
    n = next(_serial)
    fields: dict[str, Any] = {
        "handle": f"reviewer-{n}",
        "name": f"Reviewer {n}",
        "email": f"reviewer-{n}@example.org",
        "timezone": "UTC",
        "role": "reviewer",
    }
    fields.update(overrides)
    return _build(session, Reviewer(**fields))


def build_claim(session: Session, **overrides: Any) -> Claim:
    """An open prediction ("likely", 0.7) due 2027-01-31, with its first criteria version, flushed.

    A new Source is made unless `source` or `source_id` is given. The criteria version
    mirrors the claim's criteria (as the services record it) unless `criteria_versions`
    is given or the criteria are None.
    """
    n = next(_serial)
    fields: dict[str, Any] = {
        "key": f"claim-{n}",
        "kind": "prediction",
        "statement": f"Claim {n} will come true.",
        "quote": f"Claim {n} will likely come true.",
        "made_on": dt.date(2026, 11, 1),
        "probability": 0.7,
        "confidence": "likely",
        "criteria": f"Resolves true if claim {n} is reported as having come true by the deadline.",
        "deadline": dt.date(2027, 1, 31),
        "status": "open",
    }
    fields.update(overrides)
    if "source" not in fields and "source_id" not in fields:
        fields["source"] = build_source(session)
    if "criteria_versions" not in fields and fields["criteria"] is not None:
        fields["criteria_versions"] = [
            CriteriaVersion(
                version=1,
                criteria=fields["criteria"],
                deadline=fields.get("deadline"),
                window_start=fields.get("window_start"),
                timezone=fields.get("timezone"),
            )
        ]
    return _build(session, Claim(**fields))


@pytest.fixture
def make_source(session: Session) -> Callable[..., Source]:
    """`make_source(**overrides)`: a flushed Source in the test session."""
    return lambda **overrides: build_source(session, **overrides)


@pytest.fixture
def make_reviewer(session: Session) -> Callable[..., Reviewer]:
    """`make_reviewer(**overrides)`: a flushed Reviewer in the test session."""
    return lambda **overrides: build_reviewer(session, **overrides)


@pytest.fixture
def make_claim(session: Session) -> Callable[..., Claim]:
    """`make_claim(**overrides)`: a flushed prediction Claim (and its Source) in the test session."""
    return lambda **overrides: build_claim(session, **overrides)
