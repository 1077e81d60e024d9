"""The periodic report: rebuild the site, write the digest, record the run, in one unit of work.

`make_report` takes the caller's session and never commits: the CLI and the scheduler
run it inside `with session_factory.begin() as session:`, so a report that fails
anywhere (the site build, a file that cannot be written) leaves no ReportRun behind
and the next report starts from the same place. The files of a failed report may be
left on disk; the next one overwrites `latest.*`.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.errors import TrackerError
from tracker.files import write_atomic
from tracker.models import ReportRun
from tracker.reports.changes import (
    LIMIT,
    Digest,
    capped,
    new_claims,
    new_resolutions,
    newly_overdue,
)
from tracker.reports.render import RenderedDigest, render_digest
from tracker.reports.snapshot import score_changes, take_snapshot
from tracker.scorecards.summary import iter_summaries
from tracker.services.deadlines import local_today
from tracker.templating import make_environment

BEGINNING = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
"""What ReportRun.since records for a report that covered everything (the column is not null)."""

REPORTS_DIR = "reports"


class SiteBuild(Protocol):
    """What the site builder reports back (tracker.scorecards.BuildResult)."""

    @property
    def written(self) -> list[Path]: ...

    @property
    def unchanged(self) -> int: ...

    @property
    def sources(self) -> int: ...

    @property
    def claims(self) -> int: ...


class SiteBuilder(Protocol):
    """The signature of tracker.scorecards.build_site."""

    def __call__(
        self,
        session: Session,
        out_dir: Path,
        *,
        settings: Settings,
        now: dt.datetime,
        source: str | None = None,
        full: bool = False,
    ) -> SiteBuild: ...


def build_site(
    session: Session,
    out_dir: Path,
    *,
    settings: Settings,
    now: dt.datetime,
    source: str | None = None,
    full: bool = False,
) -> SiteBuild:
    """The static site builder (tracker.scorecards.build_site), looked up when first needed."""
    # Looked up at call time: the site package imports the scoring core, and the report
    # must not pin the builder's module layout at import.
    builder: SiteBuilder = importlib.import_module("tracker.scorecards").build_site
    return builder(session, out_dir, settings=settings, now=now, source=source, full=full)


@dataclass(frozen=True, slots=True)
class Report:
    """One report that ran: its record, the digest, the files written and the site build."""

    run_id: int
    ran_at: dt.datetime
    since: dt.datetime | None  # None: from the beginning
    out_dir: Path
    digest: Digest
    rendered: RenderedDigest
    files: tuple[Path, ...]  # the digest files, dated ones first
    site: SiteBuild

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: the run, the files, the site build and the digest."""
        return {
            "id": self.run_id,
            "ran_at": self.ran_at.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "out_dir": str(self.out_dir),
            "subject": self.rendered.subject,
            "files": [str(p) for p in self.files],
            "site": _site_json(self.site),
            "digest": self.digest.to_json(),
        }


def _site_json(site: SiteBuild) -> dict[str, int]:
    return {
        "written": len(site.written),
        "unchanged": site.unchanged,
        "sources": site.sources,
        "claims": site.claims,
    }


def last_run(session: Session) -> ReportRun | None:
    """The most recent report, or None before the first."""
    return session.scalars(select(ReportRun).order_by(ReportRun.ran_at.desc(), ReportRun.id.desc())).first()


def collect_digest(
    session: Session,
    *,
    settings: Settings,
    now: dt.datetime,
    since: dt.datetime | None,
    previous_scores: dict[str, Any] | None,
    limit: int = LIMIT,
) -> tuple[Digest, dict[str, Any]]:
    """The digest of (since, now] and the scores snapshot at `now` (for the next report)."""
    today = local_today(settings.timezone, now)
    snapshot = take_snapshot(iter_summaries(session, today=today))
    digest = Digest(
        since=since,
        until=now,
        timezone=settings.timezone,
        resolutions=new_resolutions(session, since, now, limit=limit),
        score_changes=capped(score_changes(previous_scores, snapshot), limit),
        newly_overdue=newly_overdue(session, since, now, default_timezone=settings.timezone, limit=limit),
        new_claims=new_claims(session, since, now, limit=limit),
    )
    return digest, snapshot


def write_digest(rendered: RenderedDigest, out_dir: Path, ran_at: dt.datetime) -> tuple[Path, ...]:
    """Write reports/<UTC timestamp>.{txt,html} and reports/latest.{txt,html} under `out_dir`."""
    folder = out_dir / REPORTS_DIR
    stamp = ran_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in (stamp, "latest"):
            for suffix, content in ((".txt", rendered.text), (".html", rendered.html)):
                path = folder / f"{name}{suffix}"
                # Write then rename, so a reader (or a web server) never sees half a digest.
                write_atomic(path, content)
                written.append(path)
    except OSError as exc:
        raise TrackerError(f"cannot write the report to {folder}: {exc.strerror or exc}") from exc
    return tuple(written)


def _check_period(since: dt.datetime | None, now: dt.datetime, previous: ReportRun | None) -> None:
    if since is not None and since.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if previous is not None and previous.ran_at > now:
        raise TrackerError(
            f"the last report ran at {previous.ran_at.isoformat()}, after now ({now.isoformat()})"
        )
    if since is not None and since > now:
        raise TrackerError(f"the report period starts at {since.isoformat()}, after now ({now.isoformat()})")


def make_report(
    session: Session,
    *,
    settings: Settings,
    now: dt.datetime,
    out_dir: Path,
    since: dt.datetime | None = None,
    site_builder: SiteBuilder | None = None,
    limit: int = LIMIT,
) -> Report:
    """Rebuild the site, write the digest of what changed since the last report, and record the run.

    `since` defaults to when the last report ran, or the beginning when none has. Score
    changes compare with the last report's snapshot whatever `since` is. `site_builder`
    defaults to tracker.scorecards.build_site. Raises TrackerError when anything fails;
    the caller's rollback then leaves no ReportRun behind.
    """
    previous = last_run(session)
    if since is None and previous is not None:
        since = previous.ran_at
    _check_period(since, now, previous)
    out_dir = Path(out_dir)

    digest, snapshot = collect_digest(
        session,
        settings=settings,
        now=now,
        since=since,
        previous_scores=previous.scores if previous is not None else None,
        limit=limit,
    )
    builder = site_builder or build_site
    try:
        site = builder(session, out_dir, settings=settings, now=now)
    except OSError as exc:
        if exc.errno is None:  # not the file system (Jinja's TemplateNotFound is an OSError too)
            raise
        raise TrackerError(f"cannot build the site in {out_dir}: {exc.strerror or exc}") from exc
    # Links to the site: absolute under site_url, so that they work in the mailed copy too;
    # else relative to the copy written under the site's reports/ folder.
    rendered = render_digest(make_environment(settings), digest, root=settings.site_url or "../")
    files = write_digest(rendered, out_dir, now)

    # Two reports running at once would both claim the same period; the later one gives way.
    latest = last_run(session)
    if (latest.id if latest else None) != (previous.id if previous else None):
        raise TrackerError("another report ran while this one was running; this one was not recorded")
    run = ReportRun(
        ran_at=now,
        since=since or BEGINNING,
        # Absolute, so that a later `tracker report` without --out (or the scheduler) run
        # from another directory writes to the same place.
        out_dir=str(out_dir.absolute()),
        scores=snapshot,
        summary={
            "subject": rendered.subject,
            "counts": digest.counts(),
            "files": [_relative(p, out_dir) for p in files],
            "site": _site_json(site),
        },
        # Kept so that the scheduler's report emails, queued in this transaction, can be
        # sent (and re-sent) from the outbox whenever the channel allows.
        digest_text=rendered.text,
        digest_html=rendered.html,
    )
    session.add(run)
    session.flush()
    return Report(run.id, now, since, out_dir, digest, rendered, files, site)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
