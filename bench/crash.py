"""Crash test: `kill -9` the scheduler at random moments while it delivers ~500 digests; count them.

A database is seeded with REVIEWERS reviewers, one open prediction each, all with a reminder
due at NOW; a real aiosmtpd server records every Message-ID it accepts. `tracker scheduler`
is started, killed with SIGKILL after a random (seeded) delay, restarted a minute later on
its --now clock (so the dead process's lease, shortened with --lease-seconds, has run out),
and so on KILLS times; a last `tracker scheduler --once` finishes the work. Then the figures:
expected, received, unique, duplicates, missing, kills, restarts.

The one send that can be doubled is a kill between the server's accept and tracker's
commit; a process has one message in flight at a time, so duplicates <= kills.

Usage: python bench/crash.py [--reviewers 500] [--kills 5] [--runs 1] [--seed 1]
                             [--postgres postgresql://postgres@127.0.0.1:5432/test]
(a fresh SQLite file per run by default, or a fresh database per run on that server)

tests/test_crash.py runs the same code (tests/support/crash.py); this script repeats it to
measure how often the doubtful window is hit.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

# The harness lives with the tests, which run the same code (tests/support/crash.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.crash import SERVER_DELAY, Recorder, crash_run, fresh_database, seed, smtp_server


def main() -> None:
    """Run the crash test `--runs` times and print the figures of each and their totals."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reviewers", type=int, default=500)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server-delay", type=float, default=SERVER_DELAY, help="seconds the SMTP server takes per message"
    )
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="a PostgreSQL server whose user may create databases (default: SQLite files)",
    )
    args = parser.parse_args()
    totals = Counter[str]()
    for run in range(args.runs):
        with (
            tempfile.TemporaryDirectory(prefix="tracker-crash-") as tmp,
            fresh_database(Path(tmp), args.postgres) as db_url,
        ):
            seed(db_url, args.reviewers)
            recorder = Recorder(args.server_delay)
            with smtp_server(recorder) as port:
                figures = crash_run(
                    db_url,
                    recorder,
                    port,
                    Path(tmp),
                    expected=args.reviewers,
                    kills=args.kills,
                    seed=args.seed + run,
                )
            print(f"run {run + 1}: {figures.line()}", flush=True)
            totals.update(
                expected=figures.expected,
                received=figures.received,
                unique=figures.unique,
                duplicates=figures.duplicates,
                kills=figures.kills,
                kills_while_delivering=figures.kills_while_delivering,
                restarts=figures.restarts,
            )
    print("totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
