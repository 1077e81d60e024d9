"""Two real `tracker` processes started at the same instant, for the concurrent-writer tests.

Each process imports tracker and its command modules first, then waits for a start
file, so that the two run their commands together rather than one interpreter start-up
apart. Used by tests/test_concurrency.py and bench/race.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Imports everything a command needs, then spins on the start file: a poll every
# millisecond keeps the two starts within a millisecond or so of each other.
LAUNCHER = """
import os, sys, time
import tracker.cli
from tracker.cli import cli
from sqlalchemy.dialects import postgresql, sqlite
go, ready = sys.argv[1], sys.argv[2]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
sys.argv = ["tracker", *sys.argv[3:]]
cli.main(prog_name="tracker")
"""


def rounds(default: int) -> int:
    """Rounds per race: TRACKER_TEST_RACE_ROUNDS, else `default` (the suite stays fast)."""
    return int(os.environ.get("TRACKER_TEST_RACE_ROUNDS", "") or default)


def tracker_env(db_url: str, workdir: Path) -> dict[str, str]:
    """The environment for a tracker process on `db_url`, with no stray TRACKER_* settings."""
    config = workdir / "tracker-race.toml"
    config.write_text("")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TRACKER_") or k.startswith("TRACKER_TEST_")
    }
    env.update(TRACKER_CONFIG=str(config), TRACKER_DATABASE_URL=db_url)
    return env


@dataclass(frozen=True)
class Outcome:
    """How one process of a race ended."""

    code: int
    output: str


def race(
    commands: Sequence[Sequence[str]], env: dict[str, str], workdir: Path, timeout: float = 120
) -> list[Outcome]:
    """Run each `tracker ARGS...` in its own process, all released at the same instant."""
    go = workdir / "go"
    go.unlink(missing_ok=True)
    readies = [workdir / f"ready{i}" for i in range(len(commands))]
    for ready in readies:
        ready.unlink(missing_ok=True)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(go), str(ready), *args],
            env=env,
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for ready, args in zip(readies, commands, strict=True)
    ]
    deadline = time.monotonic() + timeout
    while not all(ready.exists() for ready in readies):
        if time.monotonic() > deadline or any(proc.poll() is not None for proc in procs):
            break
        time.sleep(0.005)
    go.touch()
    outcomes = []
    for proc in procs:
        output, _ = proc.communicate(timeout=timeout)
        outcomes.append(Outcome(proc.returncode, output))
    return outcomes
