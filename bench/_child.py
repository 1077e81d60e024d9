"""What every benchmark script shares: measurements run in a fresh interpreter of their own."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

# Prepended to a child's code: its own peak memory, so one measurement can't inflate another's.
PEAK = """
import resource
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def run_child(code: str, *args: str) -> dict[str, Any]:
    """Run `code` in a fresh interpreter; its last stdout line is the JSON it measured."""
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
