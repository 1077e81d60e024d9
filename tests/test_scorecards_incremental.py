"""Incremental builds: the manifest decides which pages are stale, and only those are rewritten.

Each test builds the site, changes one thing, builds again, and compares both what the
build says it wrote and the files' content hashes before and after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_scorecards_site import NOW, build, import_site, soup

from tracker import services
from tracker.config import Settings
from tracker.models import Claim, Source
from tracker.scorecards import MANIFEST_NAME, ORDERINGS

WriteFile = Callable[[str, str], Path]
SHARED = sorted([*(Path(o.file) for o in ORDERINGS), Path("feed.xml")])
PAGES = ["analyst", "checker", "lucky", "oracle", "sino"]


def hashes(out: Path) -> dict[str, str]:
    """The content hash of every file of the site (the manifest is bookkeeping, not the site)."""
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def pages(*slugs: str) -> list[Path]:
    return [Path(f"sources/{slug}.html") for slug in slugs]


@pytest.fixture
def built(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, tmp_path: Path
) -> Path:
    import_site(session_factory, settings, write_file)
    out = tmp_path / "site"
    first = build(session_factory, settings, out)
    assert first.written == sorted([*SHARED, Path("style.css"), *pages(*PAGES)])
    assert (first.unchanged, first.sources, first.deleted) == (0, 5, [])
    return out


def test_a_rebuild_with_nothing_changed_writes_only_the_index_and_feed(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    before = hashes(built)
    again = build(session_factory, settings, built)
    assert again.written == SHARED
    assert again.unchanged == 5 and again.sources == 5
    assert changed(before, hashes(built)) == set()  # rewritten, but identical


def test_after_one_resolution_only_that_sources_page_is_rewritten(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    before = hashes(built)
    with session_factory.begin() as session:
        services.resolve(session, "sino-open", "true", ["https://example.org/visit"], None, "bo", None, NOW)
    result = build(session_factory, settings, built)
    # sino's page, and no other source page; the index (its open count) and the feed follow.
    assert result.written == sorted([*SHARED, *pages("sino")])
    assert result.unchanged == 4
    assert changed(before, hashes(built)) == {"sources/sino.html", "feed.xml", *(o.file for o in ORDERINGS)}
    claim = soup(built, "sources/sino.html").select_one("#record #claim-sino-open")
    assert claim is not None and claim.select_one("script[type='application/ld+json']") is not None


def test_a_members_resolution_rewrites_its_outlets_page_too(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory.begin() as session:
        services.unresolve(session, "analyst-1", "ann", "wrong summit", NOW)
    result = build(session_factory, settings, built)
    # The outlet page adds up its people, so it depends on their records.
    assert result.written == sorted([*SHARED, *pages("analyst", "sino")])


def test_pages_with_open_predictions_are_rebuilt_when_the_date_changes(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    tomorrow = NOW + dt.timedelta(days=1)
    result = build(session_factory, settings, built, now=tomorrow)
    assert result.written == sorted([*SHARED, *pages("sino")])  # the only page counting days left
    due = soup(built, "sources/sino.html").select_one("#claim-sino-open .days-left")
    assert due is not None and due.get_text() == "68 days left"
    # Later the same day nothing is stale.
    assert build(session_factory, settings, built, now=tomorrow + dt.timedelta(hours=6)).written == SHARED


def test_a_source_without_claims_loses_its_page(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory.begin() as session:
        for claim in session.scalars(select(Claim).join(Source).where(Source.slug == "lucky")):
            session.delete(claim)
    result = build(session_factory, settings, built)
    assert result.deleted == pages("lucky")
    assert not (built / "sources/lucky.html").exists()
    assert result.sources == 4 and "lucky.html" not in (built / "index.html").read_text()
    with session_factory.begin() as session:
        session.delete(session.scalars(select(Source).where(Source.slug == "lucky")).one())
    again = build(session_factory, settings, built)
    assert again.deleted == [] and again.written == SHARED
    # JSON Lines: a header, then [source id, slug, ...] per source.
    lines = [json.loads(line) for line in (built / MANIFEST_NAME).read_text().splitlines()]
    assert "signature" in lines[0] and len(lines) == 1 + 4
    assert "lucky" not in {line[1] for line in lines[1:]}


def test_a_removed_source_with_a_page_has_it_deleted(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory.begin() as session:
        source = session.scalars(select(Source).where(Source.slug == "checker")).one()
        for claim in session.scalars(select(Claim).where(Claim.source_id == source.id)):
            session.delete(claim)
        session.flush()
        session.delete(source)
    result = build(session_factory, settings, built)
    assert result.deleted == pages("checker") and result.written == SHARED
    assert not (built / "sources/checker.html").exists()


def test_renaming_a_source_rewrites_the_pages_that_name_it(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    # Names are not claims, so no revision moves: the manifest's hash of the names catches it.
    with session_factory.begin() as session:
        session.scalars(select(Source).where(Source.slug == "sino")).one().name = "Sino Insider"
    result = build(session_factory, settings, built)
    assert result.written == sorted([*SHARED, *pages("analyst", "sino")])
    assert "Sino Insider" in (built / "sources/analyst.html").read_text()


def test_full_rewrites_everything_and_a_restricted_build_only_its_page(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    assert build(session_factory, settings, built, full=True).written == sorted([*SHARED, *pages(*PAGES)])
    with session_factory.begin() as session:
        services.unresolve(session, "oracle-2", "bo", "recount", NOW)
        services.unresolve(session, "fact-1", "bo", "recount", NOW)
    only = build(session_factory, settings, built, source="oracle")
    assert only.written == sorted([*SHARED, *pages("oracle")])
    # checker is still stale: the next build catches up.
    assert build(session_factory, settings, built).written == sorted([*SHARED, *pages("checker")])


def test_other_templates_or_code_make_every_page_stale(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    manifest_path = built / MANIFEST_NAME
    head, *entries = manifest_path.read_text().splitlines(keepends=True)
    manifest_path.write_text(
        head.replace('"signature":"', '"signature":"another-version-', 1) + "".join(entries)
    )
    assert build(session_factory, settings, built).written == sorted([*SHARED, *pages(*PAGES)])
    manifest_path.write_text("{ not json")
    everything = sorted([*SHARED, Path("style.css"), *pages(*PAGES)])
    assert build(session_factory, settings, built).written == everything
    assert build(session_factory, settings, built).written == SHARED


def test_the_index_of_an_incremental_build_matches_a_full_one(
    built: Path,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    with session_factory.begin() as session:
        services.resolve(session, "sino-overdue", "false", ["https://example.org/no"], None, "bo", None, NOW)
    build(session_factory, settings, built)
    fresh = tmp_path / "fresh"
    build(session_factory, settings, fresh)
    assert hashes(built) == hashes(fresh)


FAMILY = """
reviewers:
  - {handle: ann, name: Ann Lee, email: ann@example.org}
sources:
  - {slug: ministry, name: The Ministry, kind: organisation}
  - {slug: spokesman, name: The Spokesman, kind: person, member_of: ministry}
claims:
  - id: briefing
    source: spokesman
    kind: fact
    statement: The envoy left on Friday.
    quote: the envoy departed on Friday
    made_on: 2017-11-16
    outcome: {verdict: true, resolved_on: 2017-11-20, by: ann, evidence: ['https://example.org/briefing']}
"""


def test_an_outlet_whose_people_have_claims_has_a_page_until_they_have_none(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, tmp_path: Path
) -> None:
    import_site(session_factory, settings, write_file, FAMILY)
    out = tmp_path / "site"
    assert build(session_factory, settings, out).written == sorted(
        [*SHARED, Path("style.css"), *pages("ministry", "spokesman")]
    )
    ministry = soup(out, "sources/ministry.html")
    assert [str(a["href"]) for a in ministry.select(".members a")] == ["spokesman.html"]
    assert ministry.select_one("#together") is not None and ministry.select_one("#record") is None
    parent = soup(out, "sources/spokesman.html").select_one(".eyebrow a")
    assert parent is not None and parent["href"] == "ministry.html"
    with session_factory.begin() as session:
        session.delete(session.scalars(select(Claim).where(Claim.key == "briefing")).one())
    result = build(session_factory, settings, out)
    assert result.deleted == pages("ministry", "spokesman") and result.sources == 0


def test_a_second_build_waits_for_the_one_writing_the_folder(
    built: Path, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    from filelock import FileLock

    from tracker.errors import TrackerError
    from tracker.scorecards.build import LOCK_NAME

    before = hashes(built)
    waiting = re.escape("another build has been writing this site for 0.2 s")
    with FileLock(built / LOCK_NAME), pytest.raises(TrackerError, match=waiting):  # another build, mid-way
        build(session_factory, settings, built, full=True, lock_wait=0.2)
    assert changed(before, hashes(built)) == set()  # it wrote nothing
    assert build(session_factory, settings, built, full=True, lock_wait=0.2).sources == 5


def test_two_builds_at_once_leave_the_site_a_single_build_makes(
    built: Path, session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    alone = tmp_path / "alone"
    build(session_factory, settings, alone, full=True)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: build(session_factory, settings, built, full=True), range(2)))
    assert [r.sources for r in results] == [5, 5]
    assert hashes(built) == hashes(alone)
