"""Crash test: `kill -9` the scheduler at random moments while it delivers 500 digests, then count.

Target: 100% delivered, 0 duplicate Message-IDs. Delivery is asserted at 100%. Duplicates
cannot be ruled out by any sender: a kill after the server accepted a message and before
tracker committed "sent" leaves it unknowable whether the message went out, and tracker
sends it again (never lost) with the same Message-ID (detectable). A process has one
message in flight at a time, so each kill can double at most one: the test asserts that
bound and prints the figures, duplicates included. bench/crash.py repeats it to measure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.scheduler import harness

from tracker.models import Delivery

REVIEWERS = 500
KILLS = 5
SEED = 20261123


def test_kill_9_at_random_moments_loses_nothing(
    backend: str,
    db_url: str,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    harness.seed(db_url, REVIEWERS)
    recorder = harness.Recorder(harness.SERVER_DELAY)
    with harness.smtp_server(recorder) as port:
        figures = harness.crash_run(
            db_url, recorder, port, tmp_path, expected=REVIEWERS, kills=KILLS, seed=SEED
        )
    with capsys.disabled():
        print(f"\n[crash {backend}] {figures.line()}")

    with session_factory() as session:
        statuses = dict(
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        )
        message_ids = set(session.scalars(select(Delivery.message_id)))
    assert statuses == {"sent": REVIEWERS}
    assert figures.kills == KILLS
    # 100% delivered: every digest tracker made reached the server, and nothing else did.
    assert set(figures.ids) == message_ids and figures.unique == REVIEWERS
    # Each kill can double at most the one message it interrupted. The same message can be
    # interrupted twice (a restart resends it first, and the next kill may land right there),
    # so the bound is on the total, not per message.
    assert figures.duplicates <= figures.kills
