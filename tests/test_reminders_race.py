"""Several workers racing passes on one database: every digest is made once and sent once.

Each worker has its own engine, as separate processes would. On PostgreSQL they meet
SKIP LOCKED and the compare-and-set; on SQLite, the write lock and the compare-and-set.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path

import pytest
from conftest import build_claim, build_reviewer, build_source
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from support.reminders import RecordingChannel, World, at

from tracker.db import make_engine, make_session_factory
from tracker.models import Delivery, Reviewer
from tracker.reminders import PassResult, run_pass

T0 = at("2027-01-24 09:00")
REVIEWERS = 40


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    w = World(engine, session_factory, db_url, tmp_path)
    with w.begin() as session:
        source = build_source(session)
        for n in range(REVIEWERS):
            reviewer = build_reviewer(session, handle=f"r{n:02d}", email=f"r{n:02d}@example.org")
            for m in range(2):
                build_claim(session, key=f"c{n:02d}-{m}", source=source, reviewers=[reviewer])
    return w


def race(world: World, workers: int, now: dt.datetime, channel: RecordingChannel) -> list[PassResult]:
    """Run `workers` passes at once, each on its own engine; their results."""
    engines = [make_engine(world.db_url) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    results: list[PassResult | None] = [None] * workers
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            factory = make_session_factory(engines[i])
            barrier.wait()
            results[i] = run_pass(
                factory, settings=world.settings, now=now, channel=channel, worker_id=f"worker-{i}"
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert errors == []
    return [r for r in results if r is not None]


def assert_each_sent_once(world: World, channel: RecordingChannel) -> None:
    counts = Counter(m.message_id for m in channel.messages)
    assert [mid for mid, n in counts.items() if n > 1] == []
    with world.begin() as session:
        rows = session.execute(
            select(Delivery.message_id, Delivery.status, Reviewer.handle).join(Reviewer)
        ).all()
    assert sorted(mid for mid, _, _ in rows) == sorted(counts)
    assert {status for _, status, _ in rows} == {"sent"}
    # One digest per reviewer, listing both of their claims.
    assert sorted(handle for _, _, handle in rows) == [f"r{n:02d}" for n in range(REVIEWERS)]
    assert all(m.subject == "tracker: 2 claims to resolve" for m in channel.messages)


@pytest.mark.parametrize("workers", [2, 4])
def test_racing_passes_make_and_send_each_digest_once(world: World, workers: int) -> None:
    channel = RecordingChannel()
    results = race(world, workers, T0, channel)
    assert sum(r.recorded for r in results) == 2 * REVIEWERS
    assert sum(r.deliveries_created for r in results) == REVIEWERS
    assert sum(r.sent for r in results) == REVIEWERS == len(channel.messages)
    assert_each_sent_once(world, channel)


@pytest.mark.parametrize("workers", [2, 4])
def test_racing_senders_share_a_queue_of_retries(world: World, workers: int) -> None:
    # A first pass makes every digest but cannot deliver any: all wait for a retry.
    first = RecordingChannel()
    first.temporary(REVIEWERS)
    world.run(T0, channel=first)
    assert first.messages == []

    channel = RecordingChannel()
    results = race(world, workers, T0 + dt.timedelta(minutes=2), channel)
    assert sum(r.sent for r in results) == REVIEWERS == len(channel.messages)
    assert_each_sent_once(world, channel)
    assert sum(r.recorded + r.deliveries_created for r in results) == 0
