"""Benchmark the reminder engine against its floors, in one run.

Builds (once, cached in --out) a SQLite database of 1M open predictions, 1% of them due
(overdue by 1 to 20 days; the rest due months to years ahead), each reviewer holding one
due claim among its hundred. Then measures, each in a fresh Python process:

- the due scan: the engine's recording scan for the due set (`store.scan_due`: the SQL
  and the policy over its rows), against its floor, the bare indexed SELECT of
  the same rows with the sqlite3 module; best of --repeat runs after a warm-up;
- delivery (engine and floor in turn, best of --rounds): the engine's send loop (`deliver`,
  the loop `run_pass` runs: claim a batch by compare-and-set and render it, then send each
  and mark it sent in its own commit) over one SMTP connection to a local aiosmtpd server
  (a process of its own), against its floor, the same messages (the bytes that server
  received) sent with plain `smtplib` over one connection to the same server.

Usage: python bench/reminders.py [--claims 1000000] [--due-share 0.01] [--out bench/out]
Targets (issue 4): the scan at most 2x its floor; throughput at least 0.5x its floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from _child import run_child, working_copy

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
STAMP = "2026-11-01 00:00:00.000000"
ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Seoul", "Asia/Shanghai")
CHUNK = 50_000


def generate(db: Path, claims: int, due_share: float) -> None:
    """A migrated SQLite database of `claims` open predictions, `due_share` of them due at NOW."""
    from tracker import migrations
    from tracker.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    migrations.upgrade(engine)
    engine.dispose()
    step = round(1 / due_share)  # one due claim in every `step`, and one reviewer per `step` claims
    reviewers = claims // step
    today = NOW.date()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany(
        "INSERT INTO sources (id, slug, name, kind, revision, created_at) VALUES (?,?,?,?,?,?)",
        [(s, f"src{s}", f"Source {s}", "outlet", 1, STAMP) for s in range(1, 1001)],
    )
    conn.executemany(
        "INSERT INTO reviewers (id, handle, name, email, timezone, role, subscribed, created_at) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                r,
                f"rev{r}",
                f"Reviewer {r}",
                f"rev{r}@example.org",
                ZONES[r % len(ZONES)],
                "reviewer",
                0,
                STAMP,
            )
            for r in range(1, reviewers + 1)
        ],
    )
    rows: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    for c in range(claims):
        if c % step == 0:
            deadline = today - dt.timedelta(days=1 + (c // step) % 20)
        else:
            deadline = today + dt.timedelta(days=30 + c % 1000)
        rows.append(
            (
                c + 1,
                f"claim-{c + 1}",
                "prediction",
                f"Event number {c + 1} happens by the deadline.",
                f"Event number {c + 1} will likely happen.",
                "2026-01-15",
                1 + c % 1000,
                0.675,
                "likely",
                f"Resolves true if event {c + 1} is reported by two major outlets before the deadline.",
                deadline.isoformat(),
                "open",
                STAMP,
                STAMP,
            )
        )
        links.append((c + 1, 1 + c // step))
        if len(rows) >= CHUNK:
            _flush(conn, rows, links)
    _flush(conn, rows, links)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _flush(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], links: list[tuple[int, int]]) -> None:
    conn.executemany(
        "INSERT INTO claims (id, key, kind, statement, quote, made_on, source_id, probability, confidence, "
        "criteria, deadline, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.executemany("INSERT INTO claim_reviewers (claim_id, reviewer_id) VALUES (?,?)", links)
    rows.clear()
    links.clear()


COMMON = """
import datetime as dt, json, statistics, sys, tempfile, time
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

def settings_for(url, **groups):
    from tracker.config import load_settings
    with tempfile.NamedTemporaryFile("w", suffix=".toml") as empty:
        return load_settings(config_file=empty.name, env={}, database_url=url, **groups)

def best_of(run, repeat):
    run()  # warm-up: the page cache and the statement caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - start)
    return {"best": min(times), "median": statistics.median(times), "rows": rows}
"""

SCAN_FLOOR = (
    COMMON
    + """
import sqlite3
from tracker.config import ReminderSettings
from tracker.reminders.policy import horizon
db, repeat = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(db)
SQL = (
    "SELECT c.id, c.deadline, c.timezone, cr.reviewer_id, r.timezone FROM claims c "
    "LEFT JOIN claim_reviewers cr ON cr.claim_id = c.id LEFT JOIN reviewers r ON r.id = cr.reviewer_id "
    "WHERE c.status = 'open' AND c.kind = 'prediction' AND c.deadline <= ?"
)
until = horizon(ReminderSettings(), NOW).isoformat()
print(json.dumps(best_of(lambda: len(conn.execute(SQL, (until,)).fetchall()), repeat)))
"""
)

SCAN_ENGINE = (
    COMMON
    + """
from tracker.db import make_engine, make_session_factory
from tracker.reminders import store
db, repeat = sys.argv[1], int(sys.argv[2])
url = f"sqlite:///{db}"
settings = settings_for(url)
factory = make_session_factory(make_engine(url))

def scan():
    with factory() as session:
        return len(store.scan_due(session, settings, NOW))

print(json.dumps(best_of(scan, repeat)))
"""
)

SEND_ENGINE = (
    COMMON
    + """
from tracker.channels import SmtpChannel
from tracker.db import make_engine, make_session_factory
from tracker.reminders import PassResult, deliver
from tracker.reminders import grouping
from tracker.reminders.engine import group_one, record_due, transaction
db, port, send_only = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "send-only"
url = f"sqlite:///{db}"
settings = settings_for(
    url,
    smtp={"host": "127.0.0.1", "port": port, "security": "none", "sender": "tracker@example.org"},
)
factory = make_session_factory(make_engine(url))
result = PassResult()
origin = time.monotonic()
clock = lambda: NOW + dt.timedelta(seconds=time.monotonic() - origin)
start = time.perf_counter()
if not send_only:  # the later rounds send the same digests again, put back in the queue
    record_due(factory, settings=settings, now=NOW, result=result)
recorded = time.perf_counter()
if not send_only:
    for reviewer in transaction(factory, lambda s: grouping.reviewers_with_due(s, NOW), write=False):
        group_one(factory, reviewer, settings=settings, now=NOW, channel="smtp", result=result)
grouped = time.perf_counter()
# run_pass's send loop, as it runs it: one SMTP connection, one connection for the marks.
sending = deliver(factory, settings=settings, now=NOW, channel=SmtpChannel(settings.smtp), worker_id="bench",
                  clock=clock)
sent = time.perf_counter()
print(json.dumps({"record": recorded - start, "group": grouped - recorded, "send": sent - grouped,
                  "sent": sending.sent, "failed": sending.failed + sending.retried,
                  "recorded": result.recorded, "digests": result.deliveries_created}))
"""
)

SEND_FLOOR = """
import base64, json, smtplib, sys, time
messages, port = sys.argv[1], int(sys.argv[2])
batch = [json.loads(line) for line in open(messages)]
batch = [(m["from"], m["to"], base64.b64decode(m["data"])) for m in batch]
start = time.perf_counter()
connection = smtplib.SMTP("127.0.0.1", port)
for sender, recipients, data in batch:
    connection.sendmail(sender, recipients, data)
connection.quit()
print(json.dumps({"send": time.perf_counter() - start, "sent": len(batch)}))
"""

SERVER = """
import base64, json, socket, sys, threading
from aiosmtpd.controller import Controller

class Keep:
    def __init__(self):
        self.received, self.lock = [], threading.Lock()
    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 2.0.0 accepted"

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
keep = Keep()
controller = Controller(keep, hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
for line in sys.stdin:
    command, _, argument = line.strip().partition(" ")
    with keep.lock:
        if command == "dump":
            with open(argument, "w") as out:
                for sender, recipients, data in keep.received:
                    out.write(json.dumps({"from": sender, "to": recipients,
                                          "data": base64.b64encode(data).decode()}) + "\\n")
        elif command == "reset":
            keep.received.clear()
        count = len(keep.received)
    print(count, flush=True)
controller.stop()
"""


class Server:
    """The aiosmtpd server, in a process of its own so that it does not share the GIL with a sender."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def command(self, line: str) -> int:
        """Send one command (count, reset, dump PATH); the number of messages held."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        """Stop the server."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _upgrade(db: Path) -> None:
    """Bring the database to the newest migration."""
    from tracker import migrations
    from tracker.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()


def _requeue(db: Path) -> None:
    """Put every sent digest back in the queue, as it was before it was sent."""
    conn = sqlite3.connect(db)
    conn.execute(
        "UPDATE deliveries SET status = 'pending', attempts = 0, sent_at = NULL, lease_owner = NULL, "
        "lease_until = NULL WHERE status = 'sent'"
    )
    conn.execute("UPDATE reminders SET status = 'queued' WHERE status = 'sent'")
    conn.commit()
    conn.close()


def main() -> None:
    """Generate (or reuse) the database, measure, and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=5, help="scans per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="delivery rounds, engine and floor in turn")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / f"reminders-{args.claims}-{args.due_share}.db"
    # Work on a copy: the delivery run writes reminders and deliveries.
    work = args.out / "reminders-work.db"
    working_copy(db, work, lambda path: generate(path, args.claims, args.due_share))
    _upgrade(work)  # a database cached by an older tracker gets the newer migrations

    scan_floor = run_child(SCAN_FLOOR, str(work), str(args.repeat))
    scan_engine = run_child(SCAN_ENGINE, str(work), str(args.repeat))
    # Delivery: engine and floor take turns, --rounds times, to even out a noisy machine; the
    # best round of each counts. Between rounds the sent digests go back in the queue.
    server = Server()
    engines: list[dict[str, Any]] = []
    floors: list[dict[str, Any]] = []
    messages = args.out / "reminders-messages.jsonl"
    try:
        for round_ in range(args.rounds):
            if round_:
                _requeue(work)
            server.command("reset")
            engines.append(
                run_child(SEND_ENGINE, str(work), str(server.port), "send-only" if round_ else "full")
            )
            received = server.command(f"dump {messages}" if round_ == 0 else "count")
            assert received == engines[-1]["sent"], (received, engines[-1])
            server.command("reset")
            floors.append(run_child(SEND_FLOOR, str(messages), str(server.port)))
            assert server.command("count") == floors[-1]["sent"] == received
    finally:
        server.close()
    engine = dict(engines[0], send=min(e["send"] for e in engines))
    floor = dict(floors[0], send=min(f["send"] for f in floors))
    rounds = ", ".join(
        f"{e['sent'] / e['send']:.0f} vs {f['sent'] / f['send']:.0f}"
        for e, f in zip(engines, floors, strict=True)
    )

    scan_ratio = scan_engine["best"] / scan_floor["best"]
    engine_rate = engine["sent"] / engine["send"]
    floor_rate = floor["sent"] / floor["send"]
    rate_ratio = engine_rate / floor_rate
    print(
        f"\n{args.claims:,} open predictions, {scan_engine['rows']:,} due; best of {args.repeat} scans, "
        f"best of {args.rounds} delivery rounds"
    )
    print(f"{'measure':58} {'value':>14}  vs floor")
    print(f"{'due scan floor: bare indexed SELECT (sqlite3)':58} {scan_floor['best'] * 1000:11.1f} ms  1.00x")
    print(
        f"{'due scan: store.scan_due (SQL + policy)':58} {scan_engine['best'] * 1000:11.1f} ms  {scan_ratio:.2f}x"
    )
    print(f"{'delivery floor: smtplib, one connection':58} {floor_rate:9.0f} msg/s  1.00x")
    print(
        f"{'delivery: engine send loop (claim, render, send, mark)':58} {engine_rate:9.0f} msg/s  {rate_ratio:.2f}x"
    )
    print(
        f"\nfor reference: recording {engine['recorded']:,} reminders took {engine['record']:.2f} s, "
        f"grouping them into {engine['digests']:,} digests {engine['group']:.2f} s; "
        f"{engine['sent']:,} messages in {engine['send']:.2f} s (floor {floor['send']:.2f} s); "
        f"msg/s per round, engine vs floor: {rounds}"
    )
    print(f"\ntarget scan <= 2x floor:         {'met' if scan_ratio <= 2 else 'MISSED'} ({scan_ratio:.2f}x)")
    print(f"target throughput >= 0.5x floor: {'met' if rate_ratio >= 0.5 else 'MISSED'} ({rate_ratio:.2f}x)")


if __name__ == "__main__":
    main()
