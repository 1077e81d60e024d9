"""The periodic report: what each digest lists, the ReportRun it stores, and failures that store nothing.

Time only moves through `now`: the seed is imported at IMPORTED_AT, the first report runs
at FIRST, things happen in between, the second report runs at SECOND.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tracker import services
from tracker.claimsfile import import_claims
from tracker.config import Settings
from tracker.errors import TrackerError
from tracker.estimative import EstimativeScale
from tracker.models import ReportRun
from tracker.reports import BEGINNING, Headline, Report, make_report

IMPORTED_AT = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
FIRST = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
SECOND = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)

CLAIMS = """
reviewers:
  - {handle: jkim, name: Ji-woo Kim, email: jkim@example.org}
sources:
  - {slug: sino, name: SinoInsider, kind: outlet}
  - {slug: analyst, name: An Analyst, kind: person, member_of: sino}
  - {slug: pundit, name: A Pundit, kind: person}
claims:
  - id: resolved-early
    source: sino
    kind: prediction
    statement: Resolved early.
    quote: It will, we believe.
    made_on: 2026-01-05
    confidence: we believe
    resolution: {criteria: Reported., deadline: 2026-06-30}
    outcome: {verdict: 'true', resolved_on: 2026-07-01, by: jkim, evidence: ['https://example.org/early']}
  - id: long-overdue
    source: analyst
    kind: prediction
    statement: Long overdue.
    quote: It will happen.
    made_on: 2026-02-01
    probability: 0.3
    resolution: {criteria: Reported., deadline: 2026-11-10}
  - id: due-on-the-24th
    source: pundit
    kind: prediction
    statement: Due on the 24th.
    quote: It should happen.
    made_on: 2026-03-01
    probability: 0.6
    resolution: {criteria: Reported., deadline: 2026-11-24}
  - id: resolved-later
    source: pundit
    kind: prediction
    statement: Resolved between the reports.
    quote: Surely.
    made_on: 2026-03-01
    probability: 0.9
    resolution: {criteria: Reported., deadline: 2027-06-30}
  - id: a-fact
    source: sino
    kind: fact
    statement: A fact.
    quote: A fact.
    made_on: 2026-01-05
    outcome: {verdict: mostly-true, resolved_on: 2026-01-10, by: jkim, evidence: ['https://example.org/fact']}
"""


@dataclass
class FakeBuild:
    written: list[Path]
    unchanged: int = 0
    sources: int = 0
    claims: int = 0


@dataclass
class FakeSite:
    """Stands in for tracker.scorecards.build_site; records its calls."""

    calls: list[tuple[Path, dt.datetime]] = field(default_factory=list)
    fail: Exception | None = None

    def __call__(
        self,
        session: Session,
        out_dir: Path,
        *,
        settings: Settings,
        now: dt.datetime,
        source: str | None = None,
        full: bool = False,
    ) -> FakeBuild:
        self.calls.append((out_dir, now))
        if self.fail is not None:
            raise self.fail
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "index.html").write_text("<!DOCTYPE html><title>site</title>")
        return FakeBuild([Path("index.html")], sources=3, claims=5)


@pytest.fixture
def seeded(
    session_factory: sessionmaker[Session], settings: Settings, write_file: Callable[[str, str], Path]
) -> sessionmaker[Session]:
    path = write_file("claims.yaml", CLAIMS)
    with session_factory.begin() as session:
        import_claims(session, path, settings=settings, now=IMPORTED_AT)
    return session_factory


@pytest.fixture
def site() -> FakeSite:
    return FakeSite()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "site"


@pytest.fixture
def report(
    seeded: sessionmaker[Session], settings: Settings, site: FakeSite, out: Path
) -> Callable[..., Report]:
    """`report(now, **options)`: one report in its own unit of work, as the CLI and scheduler run it."""

    def run(now: dt.datetime, **options: Any) -> Report:
        options.setdefault("out_dir", out)
        with seeded.begin() as session:
            return make_report(session, settings=settings, now=now, site_builder=site, **options)

    return run


def runs(factory: sessionmaker[Session]) -> list[ReportRun]:
    with factory() as session:
        return list(session.scalars(select(ReportRun).order_by(ReportRun.id)))


def keys(items: Any) -> list[str]:
    return [getattr(i, "claim", i).key for i in items]


def between_the_reports(factory: sessionmaker[Session]) -> None:
    """A verdict, a new claim; and (by SECOND) a deadline passes."""
    with factory.begin() as session:
        services.resolve(
            session, "resolved-later", "true", ["https://example.org/later"], "It happened.", "jkim",
            None, FIRST + dt.timedelta(hours=1),
        )  # fmt: skip
        services.add_claim(
            session, key="added-later", kind="fact", source_slug="sino", statement="Added between the reports.",
            quote="Added.", made_on=dt.date(2026, 11, 23), scale=EstimativeScale.with_overrides({}),
            now=FIRST + dt.timedelta(hours=2),
        )  # fmt: skip


# --- what the digests list ------------------------------------------------------------------------------


def test_the_first_report_covers_everything(
    report: Callable[..., Report], seeded: sessionmaker[Session], out: Path
) -> None:
    done = report(FIRST)
    d = done.digest
    assert done.since is None and d.since is None and d.until == FIRST
    assert keys(d.resolutions.items) == ["resolved-early", "a-fact"]
    # By source, then made_on and id.
    assert keys(d.new_claims.items) == [
        "long-overdue",
        "due-on-the-24th",
        "resolved-later",
        "a-fact",
        "resolved-early",
    ]
    assert keys(d.newly_overdue.items) == ["long-overdue"]
    # Every source with something scored, compared with nothing.
    assert [c.slug for c in d.score_changes.items] == ["sino"]
    sino = d.score_changes.items[0]
    assert sino.before == Headline() and sino.after == Headline(1, (1 - 0.675) ** 2, 1, 0.75)
    assert sino.members_before == Headline() and sino.members_after == sino.after

    [run] = runs(seeded)
    assert (run.id, run.ran_at, run.since, run.out_dir) == (done.run_id, FIRST, BEGINNING, str(out))
    assert run.scores["sources"]["sino"]["own"] == {
        "n_scored": 1,
        "brier": (1 - 0.675) ** 2,
        "rated": 1,
        "accuracy": 0.75,
    }
    assert set(run.scores["sources"]) == {"sino", "analyst", "pundit"}
    assert run.summary["counts"] == {
        "resolutions": 2,
        "score_changes": 1,
        "newly_overdue": 1,
        "new_claims": 5,
    }


def test_the_second_report_lists_exactly_what_happened_since(
    report: Callable[..., Report], seeded: sessionmaker[Session]
) -> None:
    report(FIRST)
    between_the_reports(seeded)
    done = report(SECOND)
    d = done.digest
    assert done.since == FIRST
    assert keys(d.resolutions.items) == ["resolved-later"]
    [verdict] = d.resolutions.items
    assert (verdict.verdict, verdict.reviewer, verdict.evidence) == (
        "true",
        "jkim",
        ("https://example.org/later",),
    )
    assert keys(d.new_claims.items) == ["added-later"]
    assert keys(d.newly_overdue.items) == ["due-on-the-24th"]
    [change] = d.score_changes.items
    assert change.slug == "pundit"
    assert (change.before, change.after) == (Headline(), Headline(1, (1 - 0.9) ** 2, 0, None))
    assert change.members_before is None

    first, second = runs(seeded)
    assert second.since == first.ran_at == FIRST and second.ran_at == SECOND
    assert second.summary["counts"] == {
        "resolutions": 1,
        "score_changes": 1,
        "newly_overdue": 1,
        "new_claims": 1,
    }


def test_score_changes_show_before_and_after(
    report: Callable[..., Report], seeded: sessionmaker[Session]
) -> None:
    report(FIRST)
    with seeded.begin() as session:
        services.unresolve(
            session, "resolved-early", "jkim", "evidence retracted", FIRST + dt.timedelta(hours=1)
        )
    done = report(SECOND)
    [change] = done.digest.score_changes.items
    assert change.slug == "sino"
    assert change.before == Headline(1, (1 - 0.675) ** 2, 1, 0.75)
    assert change.after == Headline(0, None, 1, 0.75)
    assert "  Brier 0.106 \u2192 \u2014 (n 1 \u2192 0)\n" in done.rendered.text
    [reopened] = done.digest.resolutions.items
    assert reopened.verdict is None and "RE-OPENED: resolved-early" in done.rendered.text


def test_a_report_with_nothing_new(report: Callable[..., Report]) -> None:
    report(FIRST)
    done = report(FIRST + dt.timedelta(hours=1))
    assert done.digest.empty
    assert done.rendered.subject == "tracker report 2026-11-23: nothing new"
    assert "Nothing new since the last report." in done.rendered.text


def test_since_can_be_given(report: Callable[..., Report], seeded: sessionmaker[Session]) -> None:
    report(FIRST)
    between_the_reports(seeded)
    # From before the import: the seed's verdicts are listed again, the scores still compare with FIRST.
    done = report(SECOND, since=IMPORTED_AT - dt.timedelta(days=1))
    assert keys(done.digest.resolutions.items) == ["resolved-early", "a-fact", "resolved-later"]
    assert [c.slug for c in done.digest.score_changes.items] == ["pundit"]
    assert runs(seeded)[-1].since == IMPORTED_AT - dt.timedelta(days=1)


def test_a_deadline_passes_where_the_claim_is_read(
    report: Callable[..., Report], seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:
        services.add_claim(
            session, key="seoul", kind="prediction", source_slug="pundit", statement="Due in Seoul.",
            quote="Will.", made_on=dt.date(2026, 11, 1), probability=0.5, criteria="Reported.",
            deadline=dt.date(2026, 11, 26), timezone="Asia/Seoul", scale=EstimativeScale.with_overrides({}), now=FIRST,
        )  # fmt: skip
    report(FIRST)
    # 2026-11-26 ends in Seoul at 15:00 UTC.
    assert "seoul" not in keys(
        report(dt.datetime(2026, 11, 26, 14, tzinfo=dt.UTC)).digest.newly_overdue.items
    )
    assert keys(report(dt.datetime(2026, 11, 26, 16, tzinfo=dt.UTC)).digest.newly_overdue.items) == ["seoul"]


def test_long_sections_are_capped_with_the_full_count(report: Callable[..., Report]) -> None:
    done = report(FIRST, limit=2)
    assert done.digest.new_claims.total == 5 and len(done.digest.new_claims.items) == 2
    assert done.digest.new_claims.more == 3
    assert "...and 3 more claims." in done.rendered.text


# --- files, the site, and failures -----------------------------------------------------------------------


def test_the_report_rebuilds_the_site_and_writes_the_digest(
    report: Callable[..., Report], site: FakeSite, out: Path
) -> None:
    done = report(FIRST)
    assert site.calls == [(out, FIRST)]
    folder = out / "reports"
    assert sorted(p.name for p in folder.iterdir()) == [
        "20261123T120000Z.html",
        "20261123T120000Z.txt",
        "latest.html",
        "latest.txt",
    ]
    assert done.files[0] == folder / "20261123T120000Z.txt"
    assert (folder / "latest.txt").read_text() == done.rendered.text
    assert (folder / "latest.html").read_text() == done.rendered.html
    second = report(SECOND)
    assert (folder / "latest.txt").read_text() == second.rendered.text
    assert (folder / "20261123T120000Z.txt").read_text() == done.rendered.text


def test_an_unwritable_out_dir_stores_no_report(
    report: Callable[..., Report], seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(TrackerError, match="cannot"):
        report(FIRST, out_dir=blocker / "site")
    assert runs(seeded) == []
    # Nothing was recorded, so the next report still starts from the beginning.
    assert report(FIRST).since is None


def test_an_unwritable_reports_folder_stores_no_report(
    report: Callable[..., Report], seeded: sessionmaker[Session], out: Path
) -> None:
    out.mkdir()
    (out / "reports").write_text("in the way")
    with pytest.raises(TrackerError, match=r"cannot write the report to .*reports"):
        report(FIRST)
    assert runs(seeded) == []


def test_a_failed_site_build_stores_no_report(
    report: Callable[..., Report], seeded: sessionmaker[Session], site: FakeSite
) -> None:
    site.fail = TrackerError("the build broke")
    with pytest.raises(TrackerError, match="the build broke"):
        report(FIRST)
    assert runs(seeded) == []


def test_a_now_before_the_last_report_is_refused(
    report: Callable[..., Report], seeded: sessionmaker[Session]
) -> None:
    report(SECOND)
    with pytest.raises(TrackerError, match="the last report ran at"):
        report(FIRST)
    with pytest.raises(TrackerError, match="after now"):
        report(SECOND + dt.timedelta(hours=1), since=SECOND + dt.timedelta(hours=2))
    assert len(runs(seeded)) == 1


def test_a_report_that_ran_meanwhile_wins(
    seeded: sessionmaker[Session], settings: Settings, out: Path, backend: str
) -> None:
    def racing_builder(session: Session, out_dir: Path, **_: Any) -> FakeBuild:
        # Another process records a report while this one is building the site.
        with seeded.begin() as other:
            other.add(ReportRun(ran_at=FIRST, since=BEGINNING, scores={}, summary={}))
        return FakeBuild([])

    # PostgreSQL shows this transaction the other's row, and the report gives way. SQLite
    # keeps this transaction's snapshot and refuses its write. Either way one run is stored.
    expected: tuple[type[Exception], str] = (
        (TrackerError, "another report ran") if backend == "postgresql" else (OperationalError, "locked")
    )
    with pytest.raises(expected[0], match=expected[1]), seeded.begin() as session:
        make_report(session, settings=settings, now=FIRST, out_dir=out, site_builder=racing_builder)  # type: ignore[arg-type]
    assert len(runs(seeded)) == 1


@pytest.fixture
def no_leftovers(out: Path) -> Iterator[None]:
    yield
    leftovers = [p for p in out.rglob(".*.tmp")] if out.exists() else []
    assert leftovers == []


def test_digest_files_are_written_whole(report: Callable[..., Report], no_leftovers: None) -> None:
    report(FIRST)


def test_user_text_is_escaped_in_the_html_digest(
    report: Callable[..., Report], seeded: sessionmaker[Session], out: Path
) -> None:
    hostile = 'Kim will <script>alert("x")</script> tone down'
    with seeded.begin() as session:
        services.add_claim(
            session, key="hostile", kind="fact", source_slug="pundit", statement=hostile, quote="<b>q</b>",
            made_on=dt.date(2026, 11, 1), scale=EstimativeScale.with_overrides({}), now=FIRST,
        )  # fmt: skip
    report(FIRST)
    html = (out / "reports" / "latest.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert hostile in (out / "reports" / "latest.txt").read_text()


def test_a_relative_out_dir_is_recorded_absolute(
    report: Callable[..., Report],
    seeded: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    done = report(FIRST, out_dir=Path("relative-site"))
    assert (
        done.out_dir == Path("relative-site")
        and (tmp_path / "relative-site" / "reports" / "latest.txt").is_file()
    )
    assert runs(seeded)[-1].out_dir == str(tmp_path / "relative-site")


def test_digest_links_to_the_site_where_it_is_published(
    seeded: sessionmaker[Session], settings: Settings, site: FakeSite, out: Path
) -> None:
    def links(settings: Settings) -> list[str]:
        with seeded() as session:  # never committed: each report is the first
            done = make_report(session, settings=settings, now=FIRST, site_builder=site, out_dir=out)
        soup = BeautifulSoup(done.rendered.html, "html.parser")
        return [str(a["href"]) for a in soup.select("ul.items .statement a")]

    # Written under the site's reports/ folder: relative links work from there.
    assert links(settings) and all(h.startswith("../sources/") for h in links(settings))
    # With site_url set, absolute: the mailed copy's links work too.
    published = settings.model_copy(update={"site_url": "https://example.org/scorecards/"})
    assert all(h.startswith("https://example.org/scorecards/sources/") for h in links(published))
