"""The web benchmark runs end to end at a tiny size: servers up, every user signed in, no failed request.

It checks that the benchmark works (the requests it makes are the ones the app accepts),
never how fast anything was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "web.py"
POSTGRES_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL", "")


@pytest.mark.skipif(not BENCH.is_file(), reason="bench/ is not beside the tests (installed package)")
@pytest.mark.parametrize("backend", ["sqlite", *(["postgresql"] if POSTGRES_URL else [])])
def test_bench_web_runs(backend: str, tmp_path: Path) -> None:
    argv = [sys.executable, str(BENCH), "--claims", "800", "--reviewers", "8", "--users", "3"]
    argv += ["--reviewers-per-connection", "2", "--seconds", "1", "--processes", "2", "--out", str(tmp_path)]
    if backend == "postgresql":
        argv += ["--database-url", POSTGRES_URL]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| floor | floor |" in proc.stdout, proc.stdout
    result = json.loads((tmp_path / f"web-{backend}.json").read_text())
    assert result["alive"]
    assert result["sign_in"]["count"] == 6 and not result["sign_in"]["failed_again"]
    kinds = {kind: s for phase in result["summary"].values() for kind, s in phase.items()}
    assert set(kinds) == {"floor", "queue page", "claim page", "claim page (its form)", "resolve POST"}
    for kind, summary in kinds.items():
        assert summary["n"] > 0, kind
        assert summary["failures"] == 0, (kind, summary["why"])
