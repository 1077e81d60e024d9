"""The crash harness: kill -9 the scheduler at random moments while it delivers, and count.

Seeding a database, a real aiosmtpd server that records every Message-ID it accepts, and
tracker processes started, killed and restarted on their --now clock. tests/test_crash.py
and the other multi-process tests use it; bench/crash.py runs it repeatedly to measure how
often the one doubtful window (a kill between the server's accept and tracker's commit) is hit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.parser
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from tracker.db import make_engine
from tracker.migrations import upgrade
from tracker.models import Claim, CriteriaVersion, Reviewer, Source, claim_reviewers

NOW = dt.datetime(2027, 1, 24, 9, 30, tzinfo=dt.UTC)  # 7 days before DEADLINE, after 09:00 UTC
DEADLINE = dt.date(2027, 1, 31)
LEASE_SECONDS = 30
RESTART_AFTER = dt.timedelta(minutes=1)  # on the --now clock: longer than the lease
# A few milliseconds per message, as a server with a disk queue takes: deliveries then last
# long enough for random kills to land among them rather than after them.
SERVER_DELAY = 0.003


# --- the database --------------------------------------------------------------------------------


def seed(
    db_url: str, reviewers: int, claims_each: int = 1, *, now: dt.datetime = NOW, deadline: dt.date = DEADLINE
) -> int:
    """Add `reviewers` UTC reviewers with `claims_each` open predictions due `deadline`, one source."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Source), [{"slug": "crash-bench", "name": "Crash Bench", "kind": "outlet"}])
            source_id = conn.execute(select(Source.id).where(Source.slug == "crash-bench")).scalar_one()
            conn.execute(
                insert(Reviewer),
                [
                    {
                        "handle": f"r{n:04d}",
                        "name": f"Reviewer {n}",
                        "email": f"r{n:04d}@example.org",
                        "timezone": "UTC",
                        "role": "reviewer",
                        "created_at": now,
                    }
                    for n in range(reviewers)
                ],
            )
            ids = {handle: id_ for handle, id_ in conn.execute(select(Reviewer.handle, Reviewer.id))}
            claims = [
                {
                    "key": f"c{n:04d}-{m}",
                    "kind": "prediction",
                    "statement": f"Event {n}-{m} happens by the deadline.",
                    "quote": f"Event {n}-{m} will likely happen.",
                    "made_on": dt.date(2026, 11, 1),
                    "source_id": source_id,
                    "probability": 0.675,
                    "confidence": "likely",
                    "criteria": f"Resolves true if event {n}-{m} is reported by the deadline.",
                    "deadline": deadline,
                    "status": "open",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(reviewers)
                for m in range(claims_each)
            ]
            conn.execute(insert(Claim), claims)
            keys = {key: id_ for key, id_ in conn.execute(select(Claim.key, Claim.id))}
            conn.execute(
                insert(CriteriaVersion),
                [
                    {
                        "claim_id": keys[c["key"]],
                        "version": 1,
                        "criteria": c["criteria"],
                        "deadline": deadline,
                        "recorded_at": now,
                    }
                    for c in claims
                ],
            )
            conn.execute(
                insert(claim_reviewers),
                [
                    {"claim_id": keys[f"c{n:04d}-{m}"], "reviewer_id": ids[f"r{n:04d}"]}
                    for n in range(reviewers)
                    for m in range(claims_each)
                ],
            )
    finally:
        engine.dispose()
    return reviewers


# --- the mail server -----------------------------------------------------------------------------


class Recorder:
    """aiosmtpd handler that keeps the Message-ID and recipient of every message it accepts."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay  # seconds each message takes to accept: a slow server, to stop mid-pass
        self.received: list[tuple[str, str, Message]] = []  # (Message-ID, recipient, headers)
        self._lock = threading.Lock()
        self._parser = email.parser.BytesHeaderParser()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = self._parser.parsebytes(bytes(envelope.original_content or envelope.content))
        with self._lock:
            self.received.append((str(headers["Message-ID"]), envelope.rcpt_tos[0], headers))
        return "250 2.0.0 accepted"

    @property
    def count(self) -> int:
        """Messages accepted so far."""
        with self._lock:
            return len(self.received)

    def ids(self) -> list[str]:
        """Every Message-ID accepted, in order, duplicates included."""
        with self._lock:
            return [mid for mid, _, _ in self.received]

    def messages(self) -> list[tuple[str, str, Message]]:
        """(Message-ID, recipient, headers) of every message accepted, in order."""
        with self._lock:
            return list(self.received)


def free_port() -> int:
    """A loopback TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(recorder: Recorder) -> Iterator[int]:
    """A real SMTP server on a free loopback port, recording into `recorder`; yields the port."""
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, ready_timeout=5.0)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


# --- the processes -------------------------------------------------------------------------------


def tracker_argv() -> list[str]:
    """How to run the `tracker` command: the console script beside this Python, as users do."""
    script = Path(sys.executable).with_name("tracker")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from tracker.cli import main; sys.argv[0] = 'tracker'; main()"]


def tracker_env(db_url: str, smtp_port: int, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment for a tracker process: this database, the smtp channel to this server."""
    config = workdir / "tracker-crash.toml"
    config.write_text("")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TRACKER_") or k.startswith("TRACKER_TEST_")
    }
    env.update(
        TRACKER_CONFIG=str(config),
        TRACKER_DATABASE_URL=db_url,
        TRACKER_REMINDERS_CHANNEL="smtp",
        TRACKER_SMTP_HOST="127.0.0.1",
        TRACKER_SMTP_PORT=str(smtp_port),
        TRACKER_SMTP_SECURITY="none",
        TRACKER_SMTP_SENDER="tracker@example.org",
        TRACKER_REPORT_OUT_DIR=str(workdir / "site"),
        **extra,
    )
    return env


def start(args: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `tracker ARGS...`, its output appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen([*tracker_argv(), *args], env=env, stdout=out, stderr=out, cwd=log.parent)


# --- the crash run -------------------------------------------------------------------------------


@dataclass
class Life:
    """One scheduler process: how long it lived and what the server received meanwhile."""

    delay: float
    killed: bool
    received: int


@dataclass
class Figures:
    """What one crash run counted."""

    expected: int
    ids: list[str]
    lives: list[Life] = field(default_factory=list)
    final_runs: int = 0
    seconds: float = 0.0

    @property
    def received(self) -> int:
        return len(self.ids)

    @property
    def unique(self) -> int:
        return len(set(self.ids))

    @property
    def duplicates(self) -> int:
        return self.received - self.unique

    @property
    def doubled(self) -> list[str]:
        return sorted(mid for mid, n in Counter(self.ids).items() if n > 1)

    @property
    def kills(self) -> int:
        return sum(life.killed for life in self.lives)

    @property
    def kills_while_delivering(self) -> int:
        return sum(life.killed and life.received > 0 for life in self.lives)

    @property
    def restarts(self) -> int:
        return len(self.lives) - 1 + self.final_runs

    def line(self) -> str:
        """The figures in one line."""
        return (
            f"expected {self.expected}, received {self.received}, unique {self.unique}, "
            f"duplicates {self.duplicates}, missing {self.expected - self.unique}, kills {self.kills} "
            f"({self.kills_while_delivering} while delivering), "
            f"restarts {self.restarts}, {self.seconds:.1f} s; received per life "
            f"{[life.received for life in self.lives]} (delays {[round(life.delay, 2) for life in self.lives]})"
        )


def crash_run(
    db_url: str,
    recorder: Recorder,
    smtp_port: int,
    workdir: Path,
    *,
    expected: int,
    kills: int = 5,
    seed: int = 1,
    delays: tuple[float, float] = (0.3, 1.8),
    final_runs: int = 3,
) -> Figures:
    """Start, kill -9 and restart the scheduler `kills` times, then finish with --once runs."""
    rng = random.Random(seed)
    env = tracker_env(db_url, smtp_port, workdir)
    log = workdir / "scheduler.log"
    figures = Figures(expected, [])
    began = time.monotonic()
    now = NOW
    for _ in range(kills):
        before = recorder.count
        delay = rng.uniform(*delays)
        proc = start(["scheduler", "--now", now.isoformat(), "--lease-seconds", str(LEASE_SECONDS)], env, log)
        try:
            proc.wait(timeout=delay)
            killed = False  # it exited by itself (an error: see the log)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            killed = True
        # A message whose data was out before the kill may still be accepted: let the server finish.
        time.sleep(0.05)
        figures.lives.append(Life(delay, killed, recorder.count - before))
        now += RESTART_AFTER
    for _ in range(final_runs):
        before = recorder.count
        done = subprocess.run(
            [*tracker_argv(), "scheduler", "--once", "--now", now.isoformat()],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        figures.final_runs += 1
        if done.returncode != 0:
            raise RuntimeError(f"tracker scheduler --once failed:\n{done.stderr.decode()[-3000:]}")
        now += RESTART_AFTER
        if recorder.count == before and len(set(recorder.ids())) >= expected:
            break
    figures.ids = recorder.ids()
    figures.seconds = time.monotonic() - began
    return figures


@contextmanager
def fresh_database(workdir: Path, postgres: str | None) -> Iterator[str]:
    """A new database at the newest schema: a SQLite file, or a PostgreSQL database made and dropped."""
    if postgres is None:
        url = f"sqlite:///{workdir / 'crash.db'}"
        admin = None
    else:
        server = make_url(postgres).set(drivername="postgresql+psycopg")
        name = f"tracker_crash_{os.getpid()}_{workdir.name.rsplit('-', 1)[-1]}".lower()
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
            admin.dispose()
