"""`tracker reviewers set-password`, and `tracker up` as a real process: starts, serves, imports once, stops with 0."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support.cli import Tracker

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def tracker(db_url: str, tmp_path: Path) -> Tracker:
    config = tmp_path / "tracker.toml"
    config.write_text("")
    t = Tracker(db_url, config)
    t.run("reviewers", "add", "mlin", "--name", "Mei Lin", "--email", "mlin@example.org")
    return t


def test_set_password_reads_one_line_from_stdin_and_never_echoes_it(tracker: Tracker) -> None:
    result = tracker.run("reviewers", "set-password", "mlin", input="a long enough secret\n")
    assert "password set for mlin" in result.stdout
    assert "a long enough secret" not in result.output
    error = tracker.error("reviewers", "set-password", "mlin", input="too short\n")
    assert error == "tracker: error: reviewer 'mlin': a password needs at least 10 characters"
    error = tracker.error("reviewers", "set-password", "nobody", input="a long enough secret\n")
    assert "no reviewer 'nobody'" in error


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _argv() -> list[str]:
    return [sys.executable, "-c", "import sys; from tracker.cli import main; sys.argv[0] = 'tracker'; main()"]


def _start(workdir: Path, env: dict[str, str], port: int) -> tuple[subprocess.Popen[str], list[str]]:
    child = subprocess.Popen(
        [*_argv(), "up", "--port", str(port), "--no-scheduler"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert child.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "tracker is serving" in line:
            return child, lines
    child.kill()
    raise AssertionError("tracker up did not start:\n" + "\n".join(lines))


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _stop(child: subprocess.Popen[str]) -> str:
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0, out
    return out


def test_tracker_up_starts_serves_imports_once_and_stops_cleanly(
    backend: str, empty_db_url: str, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copy(REPO / "claims.yaml", workdir / "claims.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    if backend == "postgresql":
        env["TRACKER_DATABASE_URL"] = empty_db_url
    port = _free_port()
    child, lines = _start(workdir, env, port)
    try:
        text = "\n".join(lines)
        assert re.search(r"imported \d+ claims from ./claims.yaml", text), text
        assert f"tracker is serving http://127.0.0.1:{port}" in text
        link = re.search(rf"(http://127\.0\.0\.1:{port}/setup/\S+)", text)
        assert link is not None, text
        assert _get(f"http://127.0.0.1:{port}/login")[0] == 200
        status, page = _get(f"http://127.0.0.1:{port}/scorecards/")
        assert status == 200 and "Scorecards" in page
        assert _get(link.group(1))[0] == 200  # the setup form
    finally:
        out = _stop(child)
    assert "Traceback" not in out
    if backend == "sqlite":
        assert (workdir / "tracker.db").is_file()
    child, lines = _start(workdir, env, port)
    try:
        assert not any("imported" in line for line in lines), lines
    finally:
        _stop(child)
