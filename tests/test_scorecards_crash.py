"""A scorecard build that is killed, runs out of disk or finds its pages damaged.

Every file of a build goes to a temporary file first and is renamed into place only when
all of them are written, the manifest last (`tracker.scorecards.units.Output`): a build
that dies leaves the site as it was. A later build checks every page the manifest records
against the stamp it recorded, so a page lost or cut short since is rendered again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.cli import Tracker
from test_scorecards_parallel import OUTLETS, PEOPLE_EACH, WriteFile, big_site_yaml, contents
from test_scorecards_site import NOW, build, import_site

from tracker.config import Settings
from tracker.files import is_temporary
from tracker.scorecards import MANIFEST_NAME

PAGES = OUTLETS * (1 + PEOPLE_EACH)
WAIT = 60.0
"""Seconds a test waits for a build to reach a point, or for processes to end: a bound, not a pause."""


@pytest.fixture
def big_site(session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile) -> None:
    import_site(session_factory, settings, write_file, big_site_yaml())


def temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if is_temporary(p.name)]


def pages_of(out: Path) -> dict[str, str]:
    """The site's files but the manifest (whose stamps carry the times pages were written at)."""
    return {
        name: h
        for name, h in contents(out).items()
        if name != MANIFEST_NAME and not is_temporary(name.rsplit("/", 1)[-1])
    }


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid`, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name, in parentheses, may hold spaces: the fields after it are fixed.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie nobody reaps has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT:g} s for {what}")
        time.sleep(0.01)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
@pytest.mark.usefixtures("big_site")
def test_a_full_build_killed_mid_way_leaves_whole_pages_and_no_workers(
    db_url: str,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    site, reference = tmp_path / "site", tmp_path / "reference"
    build(session_factory, settings, site, jobs=1)
    before = pages_of(site)
    assert sum(1 for name in before if name.startswith("sources/")) == PAGES

    config = tmp_path / "empty.toml"
    config.write_text("")
    tracker = [sys.executable, "-c", "from tracker.cli import main; main()"]
    command = [*tracker, "--config", str(config), "--database-url", db_url]
    command += ["scorecards", "--out", str(site), "--full", "--jobs", "2", "--now", NOW.isoformat()]
    # Output to files, not pipes: workers left running would hold a pipe open, and reading
    # it would wait for them for ever.
    log = tmp_path / "build.log"
    with log.open("wb") as output:
        build_process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    workers: set[int] = set()
    try:
        # Killed once both processes are writing pages: the build's own the first families,
        # the worker the last ones (it takes units from the back).
        def both_writing() -> bool:
            if build_process.poll() is not None:
                raise AssertionError(f"the build ended before it was killed: {log.read_text()}")
            names = [p.name for p in temporaries(site / "sources")]
            return any("-00.html." in n for n in names) and any(f"-{OUTLETS - 1}.html." in n for n in names)

        wait_for(both_writing, "the build and its worker to write pages")
        workers = children(build_process.pid)
        assert workers, "the build started no worker"
        build_process.send_signal(signal.SIGKILL)
        assert build_process.wait(WAIT) == -signal.SIGKILL
        # Its workers see the build is gone and end, rather than wait on their pipe for ever.
        wait_for(lambda: not any(alive(pid) for pid in workers), f"workers {sorted(workers)} to end")
    finally:
        if build_process.poll() is None:
            build_process.kill()
        for pid in workers:  # when the test failed: none is left behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    # The site is as it was: every page whole, the killed build's files only beside them.
    assert pages_of(site) == before
    assert temporaries(site)

    again = build(session_factory, settings, site, jobs=2)
    assert again.unchanged == PAGES and temporaries(site) == []
    build(session_factory, settings, reference, jobs=1)
    assert pages_of(site) == pages_of(reference)


@pytest.mark.usefixtures("big_site")
def test_pages_lost_cut_short_or_changed_since_the_last_build_are_rendered_again(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    site, reference = tmp_path / "site", tmp_path / "reference"
    build(session_factory, settings, site, jobs=1)
    build(session_factory, settings, reference, jobs=1)
    sources = site / "sources"
    (sources / "outlet-03.html").unlink()
    (sources / "a-person-04.html").write_bytes((sources / "a-person-04.html").read_bytes()[:100])
    (sources / "b-person-05.html").write_bytes(b"")
    changed = sources / "c-person-06.html"
    data = changed.read_bytes()
    changed.write_bytes(data.replace(b"<", b">", 1))  # the same size, other bytes
    # A file copied elsewhere keeps its bytes but not its time: it is hashed, not rewritten.
    touched = sources / "d-person-07.html"
    os.utime(touched, ns=(1, 1))

    # What a killed build left is cleared; another tool's file being written is not.
    left = [sources / ".outlet-03.html.abc123.tmp", site / ".index.html.def456.tmp"]
    foreign = site / ".calendar.ics.ghi789.tmp"
    for path in (*left, foreign):
        path.write_text("half")

    again = build(session_factory, settings, site, jobs=1)
    assert not any(path.exists() for path in left) and foreign.read_text() == "half"
    foreign.unlink()
    rewritten = sorted(p.name for p in again.written if p.parts[0] == "sources")
    assert rewritten == ["a-person-04.html", "b-person-05.html", "c-person-06.html", "outlet-03.html"]
    assert again.unchanged == PAGES - 4
    assert pages_of(site) == pages_of(reference)
    # Its new time is recorded: the next build neither rewrites nor reads it again.
    assert build(session_factory, settings, site, jobs=1).unchanged == PAGES


@contextmanager
def small_disk(mount: Path, size: int) -> Iterator[Path]:
    """A real file system of `size` bytes (tmpfs), mounted at `mount`: a disk that fills up."""
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.usefixtures("big_site")
def test_a_full_disk_leaves_the_site_as_it_was_and_says_where(
    db_url: str, tmp_path: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    # A disk the site fits on once, not twice: a rebuild of every page runs out of space.
    build(session_factory, settings, tmp_path / "measure", jobs=1)
    size = sum(p.stat().st_size for p in (tmp_path / "measure").rglob("*") if p.is_file())
    config = tmp_path / "empty.toml"
    config.write_text("")
    tracker = Tracker(db_url, config)
    with small_disk(tmp_path / "disk", size * 3 // 2) as disk:
        site = disk / "site"
        base = ["scorecards", "--out", str(site), "--now", NOW.isoformat()]
        tracker.run(*base)
        before = contents(site)
        for jobs in ("1", "2"):  # in the build's own process, and in a worker
            message = tracker.error(*base, "--full", "--jobs", jobs)
            assert message == (
                f"tracker: error: {site}: cannot write the site: No space left on device; "
                "the site was left as it was before the build"
            )
            assert contents(site) == before and temporaries(site) == []
        # A disk all but full: writing a page in place would have cut it short.
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "filler").write_bytes(b"x" * (free - 16 * 1024))
        message = tracker.error(*base, "--full", "--jobs", "1")
        assert message.endswith("No space left on device; the site was left as it was before the build")
        assert contents(site) == before and temporaries(site) == []
        (disk / "filler").unlink()
        assert "(0 source pages" in tracker.run(*base).stdout
