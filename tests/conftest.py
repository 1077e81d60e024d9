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


# --- mail and webhook servers (channels) -----------------------------------------------------------
# Real servers on free loopback ports: aiosmtpd for SMTP, http.server for webhooks. Nothing
# mocks smtplib or urllib; tests that need failures make these servers fail for real.

import asyncio  # noqa: E402
import email  # noqa: E402
import email.policy  # noqa: E402
import http.server  # noqa: E402
import socket  # noqa: E402
import ssl  # noqa: E402
import threading  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from email.message import EmailMessage  # noqa: E402

import trustme  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from tracker.config import SmtpSettings  # noqa: E402


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ReceivedMail:
    """One message the test SMTP server accepted: its envelope and the parsed email."""

    peer: tuple[str, int]  # the client's address and port: one per connection
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage


class MailRecorder:
    """aiosmtpd handler that records every message; it can refuse recipients or hang up."""

    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.peers: list[tuple[str, int]] = []  # connections that said EHLO or HELO, in order
        self.logins: list[tuple[str, bool]] = []  # (user, accepted) per AUTH attempt
        self.mails: list[tuple[tuple[str, int], list[str]]] = []  # (peer, options) of each MAIL FROM
        self.refuse: dict[str, str] = {}  # recipient -> reply, e.g. "550 5.1.1 No such user"
        self.close_after: int | None = None  # messages per connection before the server hangs up
        self.close_with_421 = True  # hang up politely (421 reply) or just drop the line
        self.hang_up_after_data: int | None = None  # accept the Nth message, then drop the line unanswered
        self._lock = threading.Lock()

    @property
    def connections(self) -> int:
        """How many connections clients opened (STARTTLS's second EHLO is not a new one)."""
        return len(self.peers)

    def _greeted(self, peer: tuple[str, int]) -> None:
        with self._lock:
            if peer not in self.peers:
                self.peers.append(peer)

    async def handle_HELO(self, server: Any, session: Any, envelope: Any, hostname: str) -> str:
        self._greeted(session.peer)
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self._greeted(session.peer)
        session.host_name = hostname  # aiosmtpd leaves this to a handler that hooks EHLO
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.close_after is not None:
            with self._lock:
                sent = sum(1 for r in self.received if r.peer == session.peer)
            if sent >= self.close_after:
                if not self.close_with_421:
                    server.transport.close()  # the reply below is never written
                    return "421 unused"
                # Close once the reply is out, as a real server does after a 421.
                asyncio.get_running_loop().call_soon(server.transport.close)
                return "421 4.7.0 Too many messages on this connection, closing"
        with self._lock:
            self.mails.append((session.peer, list(options)))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        refusal = self.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = bytes(envelope.original_content or envelope.content)
        # As a mailbox stores it: CRLF is only the wire's line end.
        message = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        received = ReceivedMail(session.peer, envelope.mail_from, list(envelope.rcpt_tos), data, message)
        with self._lock:
            self.received.append(received)
            hang_up = len(self.received) == self.hang_up_after_data
        if hang_up:  # the message is taken, but the client never hears so: the one doubtful case
            server.transport.close()
        return "250 2.0.0 Message accepted for delivery"


@dataclass
class SmtpTestServer:
    """A running aiosmtpd server and what it recorded."""

    controller: Controller
    handler: MailRecorder
    port: int
    security: str
    client_context: ssl.SSLContext | None
    host: str = "127.0.0.1"
    running: bool = True

    def stop(self) -> None:
        """Stop the server now (it cannot be started again): clients see it go away."""
        if self.running:
            self.running = False
            self.controller.stop()

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.handler.received]

    def settings(self, **overrides: Any) -> SmtpSettings:
        """SmtpSettings pointing at this server (security as started, short timeout)."""
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "timeout": 5.0,
            "sender": "tracker@example.org",
        }
        values.update(overrides)
        return SmtpSettings(**values)


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """A throwaway certificate authority whose certificate 127.0.0.1 and localhost serve."""
    return trustme.CA()


@pytest.fixture
def make_smtp_server(tls_ca: trustme.CA) -> Iterator[Callable[..., SmtpTestServer]]:
    """`make_smtp_server(security="none"|"starttls"|"ssl", users={"user": "password"})`: a started server.

    With `users`, AUTH is required (over plain connections too); with starttls the server
    refuses mail before STARTTLS. The server's `client_context` trusts its certificate.
    """
    started: list[SmtpTestServer] = []

    def make(*, security: str = "none", users: dict[str, str] | None = None) -> SmtpTestServer:
        handler = MailRecorder()
        port = free_port()
        options: dict[str, Any] = {"server_hostname": "tracker-test", "ready_timeout": 5.0}
        client_context: ssl.SSLContext | None = None
        if security != "none":
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
            client_context = ssl.create_default_context()
            tls_ca.configure_trust(client_context)
            if security == "ssl":
                options["ssl_context"] = server_context
            else:
                options.update(tls_context=server_context, require_starttls=True)
        if users is not None:

            def authenticate(
                server: Any, session: Any, envelope: Any, mechanism: str, data: Any
            ) -> AuthResult:
                assert isinstance(data, LoginPassword)
                user, password = bytes(data.login).decode(), bytes(data.password).decode()
                accepted = users.get(user) == password
                handler.logins.append((user, accepted))
                # handled=False: aiosmtpd sends the 535 reply itself.
                return AuthResult(success=accepted, handled=False)

            # aiosmtpd cannot tell that an implicit-TLS connection is encrypted: only STARTTLS counts.
            options.update(
                authenticator=authenticate, auth_required=True, auth_require_tls=security == "starttls"
            )
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(SmtpTestServer(controller, handler, port, security, client_context))
        return started[-1]

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def smtp_server(make_smtp_server: Callable[..., SmtpTestServer]) -> SmtpTestServer:
    """A plain SMTP server (no TLS, no login) on a free loopback port, recording every message."""
    return make_smtp_server()


@pytest.fixture
def unused_port() -> int:
    """A loopback port with no server on it: connections are refused."""
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections but never says a word (for timeouts)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel completes handshakes; nobody ever accepts or answers
        yield int(listener.getsockname()[1])


@dataclass(frozen=True)
class ReceivedPost:
    """One request the test webhook server received."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookTestServer:
    """A running webhook server: answers with `statuses` in turn (then 200) and records requests."""

    server: http.server.ThreadingHTTPServer
    path: str
    requests: list[ReceivedPost] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    retry_after: str | None = None  # sent with 429 replies
    hold: threading.Event | None = None  # when set to an Event, replies wait for it (timeouts)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"


class _WebhookHandler(http.server.BaseHTTPRequestHandler):
    server: Any

    def do_POST(self) -> None:
        recorder: WebhookTestServer = self.server.recorder
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        recorder.requests.append(ReceivedPost(self.path, dict(self.headers.items()), body))
        if recorder.hold is not None:
            recorder.hold.wait(30)
        status = recorder.statuses.pop(0) if recorder.statuses else 200
        reply = b"ok" if status < 300 else f"error {status}: invalid_payload".encode()
        self.send_response(status)
        if status == 429 and recorder.retry_after:
            self.send_header("Retry-After", recorder.retry_after)
        if 300 <= status < 400:
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture
def webhook_server() -> Iterator[WebhookTestServer]:
    """A real HTTP server on a free loopback port standing in for a Slack webhook."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WebhookHandler)
    server.daemon_threads = True
    recorder = WebhookTestServer(server, "/services/T0TEST/B0TEST/s3cr3t-t0ken-xyz")
    server.recorder = recorder  # type: ignore[attr-defined]
    # A short poll interval keeps shutdown() quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield recorder
    if recorder.hold is not None:
        recorder.hold.set()
    server.shutdown()
    server.server_close()
    thread.join()


# --- end of mail and webhook servers ---------------------------------------------------------------
