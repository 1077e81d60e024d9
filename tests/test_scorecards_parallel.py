"""A large site rendered by several processes is the same site, byte for byte, as one process makes.

The site here is just large enough for `build_site` to hand its units to a worker
(`tracker.scorecards.parallel.MIN_PAGES` pages), with outlets whose people are spread
across units, so that a family split between processes would show up as a wrong outlet page.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.cli import Tracker
from test_scorecards_site import build, import_site

from tracker.config import Settings
from tracker.scorecards import MANIFEST_NAME, parallel

WriteFile = Callable[[str, str], Path]
OUTLETS = 20
PEOPLE_EACH = 10  # 20 outlets and 200 people: 220 pages


def big_site_yaml() -> str:
    """OUTLETS outlets with PEOPLE_EACH people each; every source has a scored, an open and a fact claim."""
    lines = ["reviewers:", "  - {handle: ann, name: Ann Reviewer, email: ann@example.org}", "sources:"]
    claims = ["claims:"]
    slugs: list[str] = []
    for o in range(OUTLETS):
        lines.append(f"  - {{slug: outlet-{o:02d}, name: Outlet {o}, kind: outlet}}")
        slugs.append(f"outlet-{o:02d}")
        for p in range(PEOPLE_EACH):
            # Slugs that sort far from their outlet's, as real names do.
            slug = f"{chr(97 + p)}-person-{o:02d}"
            lines.append(
                f"  - {{slug: {slug}, name: Person {o}.{p}, kind: person, member_of: outlet-{o:02d}}}"
            )
            slugs.append(slug)
    for n, slug in enumerate(slugs):
        p = (n % 9 + 1) / 10
        claims.append(f"""
  - id: {slug}-scored
    source: {slug}
    kind: prediction
    statement: Prediction of {slug} comes true.
    quote: it will <probably> happen & soon
    made_on: 2018-0{1 + n % 9}-01
    probability: {p}
    resolution: {{criteria: It is reported., deadline: 2019-12-31}}
    reviewers: [ann]
    outcome: {{verdict: {"true" if n % 3 else "false"}, resolved_on: 2020-01-1{n % 10}, by: ann, evidence: ['https://example.org/{n}']}}
  - id: {slug}-open
    source: {slug}
    kind: prediction
    statement: Open prediction of {slug}.
    quote: it may yet happen
    made_on: 2026-0{1 + n % 9}-01
    confidence: likely
    resolution: {{criteria: It is announced., deadline: 2027-0{1 + n % 9}-15}}
  - id: {slug}-fact
    source: {slug}
    kind: fact
    statement: Fact of {slug}.
    quote: as everyone knows
    made_on: 2018-03-01
    outcome: {{verdict: {("true", "half-true", "false")[n % 3]}, resolved_on: 2018-04-01, by: ann, evidence: ['https://example.org/f/{n}']}}""")
    return "\n".join(lines) + "\n" + "".join(claims) + "\n"


def contents(out: Path) -> dict[str, str]:
    """Every file's hash; the manifest's without the times its pages were written at."""
    found = {}
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if p.name == MANIFEST_NAME:
            lines = [json.loads(line) for line in data.splitlines()]
            for line in lines[1:]:
                if isinstance(line[-1], list):
                    line[-1][1] = 0  # the stamp's mtime_ns
            data = json.dumps(lines).encode()
        found[p.relative_to(out).as_posix()] = hashlib.sha256(data).hexdigest()
    return found


@pytest.fixture
def big_site(session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile) -> None:
    import_site(session_factory, settings, write_file, big_site_yaml())


@pytest.mark.usefixtures("big_site")
def test_two_processes_build_the_same_site_as_one(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    alone = build(session_factory, settings, tmp_path / "one", jobs=1)
    shared = build(session_factory, settings, tmp_path / "two", jobs=2)
    assert alone.sources == shared.sources == OUTLETS * (1 + PEOPLE_EACH) >= parallel.MIN_PAGES
    assert (alone.processes, shared.processes) == (1, 2)  # the build's own process and a worker
    assert shared.written == alone.written and shared.claims == alone.claims == 3 * alone.sources
    # Every page, the index, the feed and the manifest (its summaries and index rows) agree.
    one, two = contents(tmp_path / "one"), contents(tmp_path / "two")
    assert MANIFEST_NAME in one
    assert one == two


@pytest.mark.usefixtures("big_site")
def test_a_parallel_rebuild_after_a_full_one_writes_only_the_shared_files(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(session_factory, settings, out, jobs=2)
    again = build(session_factory, settings, out, jobs=2)
    assert all(p.parts[0] != "sources" for p in again.written)
    assert again.unchanged == OUTLETS * (1 + PEOPLE_EACH)
    full = build(session_factory, settings, out, jobs=2, full=True)
    assert sum(1 for p in full.written if p.parts[0] == "sources") == OUTLETS * (1 + PEOPLE_EACH)


def test_an_in_memory_database_is_never_shared_with_workers() -> None:
    from sqlalchemy.engine import make_url

    assert not parallel.shareable(make_url("sqlite://"))
    assert not parallel.shareable(make_url("sqlite:///:memory:"))
    assert parallel.shareable(make_url("sqlite:////tmp/tracker.db"))
    assert parallel.shareable(make_url("postgresql+psycopg://postgres@127.0.0.1/test"))
    assert parallel.resolve_jobs(3) == 3 and parallel.resolve_jobs(0) == parallel.cpu_count() >= 1


@pytest.mark.usefixtures("big_site")
def test_a_small_build_stays_in_one_process(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    # One page to render: starting a worker would cost more than it saves.
    built = build(session_factory, settings, tmp_path / "site", jobs=2)
    assert built.processes == 2
    one = build(session_factory, settings, tmp_path / "site", jobs=2, source="outlet-03", full=True)
    assert one.processes == 1 and [p for p in one.written if p.parts[0] == "sources"] == [
        Path("sources/outlet-03.html")
    ]


@pytest.mark.usefixtures("big_site")
def test_the_command_takes_jobs_and_says_how_many_processes_rendered(
    db_url: str, write_file: WriteFile, tmp_path: Path
) -> None:
    tracker = Tracker(db_url, write_file("tracker-test.toml", "[report]\njobs = 1\n"))
    base = ["scorecards", "--now", "2026-11-23T12:00:00+00:00"]
    configured = tracker.run(*base, "--out", str(tmp_path / "one"), "--json").stdout
    assert json.loads(configured)["processes"] == 1  # report.jobs = 1 from the config file
    told = tracker.run(*base, "--out", str(tmp_path / "two"), "--jobs", "2").stdout
    assert told.startswith(f"wrote {OUTLETS * (1 + PEOPLE_EACH) + 7} files") and told.rstrip().endswith(
        "(2 processes)"
    )
    assert contents(tmp_path / "one") == contents(tmp_path / "two")
    bad = tracker.run(*base, "--out", str(tmp_path / "x"), "--jobs", "-1", code=2)
    assert "-1 is not in the range x>=0" in bad.stderr
