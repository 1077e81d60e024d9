"""What every benchmark script shares: measurements run in a fresh interpreter of their own."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Prepended to a child's code: the peak memory of the child and every process it starts (a
# scorecard build renders in worker processes), so one measurement can't inflate another's.
# Each process's own peak (ru_maxrss) is exact but says nothing of the sum; the sum of the
# tree's resident sets is sampled every 10 ms, and the larger of the two is reported.
PEAK = """
import os, resource, threading, time

def _rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

def _children(pid):
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found.extend(int(c) for c in children.read().split())
    except OSError:
        pass
    return found

def _tree_kb():
    total, todo, seen = 0, [os.getpid()], set()
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            total += _rss_kb(pid)
            todo.extend(_children(pid))
    return total

_tree_peak = [0]

def _sample():
    while True:
        _tree_peak[0] = max(_tree_peak[0], _tree_kb())
        time.sleep(0.01)

threading.Thread(target=_sample, daemon=True).start()

def peak_mb():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(own, _tree_peak[0], _tree_kb()) / 1024
"""


def run_child(code: str, *args: str) -> dict[str, Any]:
    """Run `code` in a fresh interpreter; its last stdout line is the JSON it measured."""
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def working_copy(db: Path, work: Path, generate: Callable[[Path], None]) -> None:
    """Make `db` with `generate` unless it is cached, then copy it to `work` (runs write to it)."""
    if not db.exists():
        start = time.perf_counter()
        generate(db)
        print(f"generated {db} in {time.perf_counter() - start:.0f} s")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copy(db, work)
