"""Import a claims file: validate everything, write it in one transaction, report all problems.

The file is streamed: reviewers and sources are written when the claims begin, and
claims are written in batches as they are read, so memory stays flat on big files.
Any problem anywhere stops the writing (validation continues, to report every
problem at once) and raises InvalidInput; the caller's transaction then rolls back,
so a bad file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.audit import Interface, current, enabled
from tracker.audit.recording import Rows
from tracker.claimsfile.reader import ClaimsFileReader, Entry
from tracker.claimsfile.schema import (
    AppearanceIn,
    ClaimIn,
    ClaimRecord,
    EntryChecker,
    ReviewerIn,
    SourceIn,
    line_of,
)
from tracker.claimsfile.writer import ClaimWriter, ImportDetail, ImportReport
from tracker.config import Settings
from tracker.db import lock_catalogue
from tracker.errors import InvalidInput
from tracker.estimative import EstimativeScale
from tracker.models import Claim

SECTIONS = ("reviewers", "sources", "claims")
BATCH_SIZE = 2000

Progress = Callable[[int, int], None]


class _Import:
    """The state of one import while the file streams past."""

    def __init__(
        self, session: Session, name: str, settings: Settings, now: dt.datetime, *, detail: bool = False
    ) -> None:
        self.check = EntryChecker(name)
        self.scale = EstimativeScale.with_overrides(settings.estimative_phrases)
        self.now = now
        self.report = ImportReport(detail=ImportDetail() if detail else None)
        connection = session.connection()
        # Core statements pass the ORM's listener by: the writer records its own entries.
        rows = Rows(connection, current().through(Interface.IMPORT)) if enabled(session) else None
        self.writer = ClaimWriter(connection, now, self.report, rows)
        self.reviewers: dict[str, tuple[ReviewerIn | None, int]] = {}
        self.sources: dict[str, tuple[SourceIn | None, int]] = {}
        self.claim_lines: dict[str, int] = {}
        self.articles: dict[str, tuple[tuple[Any, ...], int]] = {}
        self.sections_seen: set[str] = set()
        self.references_written = False
        self.deferred: list[Entry] = []
        self.batch: list[ClaimRecord] = []

    # -- per entry ---------------------------------------------------------------------

    def take(self, entry: Entry) -> None:
        if entry.section not in SECTIONS:
            close = difflib.get_close_matches(entry.section, SECTIONS, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected {', '.join(SECTIONS)}"
            if entry.index in (None, 0):
                self.check.add(entry.section_line, entry.section, f"unknown top-level key{hint}")
            return
        if entry.index is None:
            # `claims:` with nothing after it, or `claims: []`, is an empty list.
            if entry.value is not None and not isinstance(entry.value, list):
                self.check.add(entry.section_line, entry.section, "expected a list")
            self.sections_seen.add(entry.section)
            return
        self.sections_seen.add(entry.section)
        if entry.section == "reviewers":
            self._reviewer(entry)
        elif entry.section == "sources":
            self._source(entry)
        elif {"reviewers", "sources"} <= self.sections_seen or self.references_written:
            self._write_references()
            self._claim(entry)
        else:
            # Claims come before reviewers or sources in this file: hold them until the end.
            self.deferred.append(entry)

    def _reviewer(self, entry: Entry) -> None:
        prefix = f"reviewers[{entry.index}]"
        reviewer = self.check.parse(ReviewerIn, entry.value, prefix, entry.line)
        handle = reviewer.handle if reviewer else _raw_key(entry.value, "handle")
        if handle is None:
            return
        if handle in self.reviewers:
            first = self.reviewers[handle][1]
            self.check.at(
                entry.value, prefix, ("handle",), f"duplicate handle; first given on line {first}", entry.line
            )
            return
        self.reviewers[handle] = (reviewer, entry.line)

    def _source(self, entry: Entry) -> None:
        prefix = f"sources[{entry.index}]"
        source = self.check.parse(SourceIn, entry.value, prefix, entry.line)
        slug = source.slug if source else _raw_key(entry.value, "slug")
        if slug is None:
            return
        if slug in self.sources:
            first = self.sources[slug][1]
            self.check.at(
                entry.value, prefix, ("slug",), f"duplicate slug; first given on line {first}", entry.line
            )
            return
        self.sources[slug] = (source, entry.line)

    def _write_references(self) -> None:
        if self.references_written:
            return
        self.references_written = True
        for slug, (source, line) in self.sources.items():
            if source is not None and source.member_of is not None:
                if source.member_of == slug:
                    self.check.add(
                        line, f"sources[{slug}].member_of", "a source cannot be a member of itself"
                    )
                elif source.member_of not in self.sources:
                    self._undefined(
                        line, f"sources[{slug}].member_of", "source", source.member_of, self.sources
                    )
        if self.check.problems:
            return
        self.writer.write_reviewers([r for r, _ in self.reviewers.values() if r is not None])
        self.writer.write_sources([s for s, _ in self.sources.values() if s is not None])

    def _undefined(self, line: int, field: str, what: str, name: str, known: dict[str, Any]) -> None:
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; define it under {what}s:"
        self.check.add(line, field, f"{what} {name!r} is not defined{hint}")

    def _claim(self, entry: Entry) -> None:
        prefix = f"claims[{entry.index}]"
        raw = entry.value
        claim = self.check.parse(ClaimIn, raw, prefix, entry.line)
        key = claim.id if claim else _raw_key(raw, "id")
        if key is not None:
            if key in self.claim_lines:
                self.check.at(
                    raw,
                    prefix,
                    ("id",),
                    f"duplicate id; first used on line {self.claim_lines[key]}",
                    entry.line,
                )
            else:
                self.claim_lines[key] = entry.line
        # An entry with a bad field still gets its other rules checked, so that one
        # run reports every problem: check what validated on its own.
        checked: Any = claim if claim is not None else self.check.partial(ClaimIn, raw)
        if checked is None:
            return
        probability = self.check.check_claim(checked, raw, prefix, entry.line, self.scale, self.now)
        self._check_references(checked, raw, prefix, entry.line)
        if checked.appeared_in is not None:
            self._check_article(checked.appeared_in, raw, prefix, entry.line)
        if claim is not None and not self.check.problems:
            self.batch.append(ClaimRecord(claim, probability, entry.line))
            if len(self.batch) >= BATCH_SIZE:
                self.flush()

    def _check_references(self, claim: ClaimIn, raw: Any, prefix: str, line: int) -> None:
        if claim.source is not None and claim.source not in self.sources:
            self._undefined(
                line_of(raw, ("source",), line), f"{prefix}.source", "source", claim.source, self.sources
            )
        for i, handle in enumerate(claim.reviewers):
            if handle not in self.reviewers:
                where = line_of(raw, ("reviewers", i), line)
                self._undefined(where, f"{prefix}.reviewers[{i}]", "reviewer", handle, self.reviewers)
        if (
            claim.outcome is not None
            and claim.outcome.by is not None
            and claim.outcome.by not in self.reviewers
        ):
            where = line_of(raw, ("outcome", "by"), line)
            self._undefined(where, f"{prefix}.outcome.by", "reviewer", claim.outcome.by, self.reviewers)
        for i, entry in enumerate(claim.progress or ()):
            if entry.by is not None and entry.by not in self.reviewers:
                where = line_of(raw, ("progress", i, "by"), line)
                self._undefined(where, f"{prefix}.progress[{i}].by", "reviewer", entry.by, self.reviewers)

    def _check_article(self, article: AppearanceIn, raw: Any, prefix: str, line: int) -> None:
        # One article, one description: two claims must not disagree about its title or date.
        details = (article.title, article.author, article.published)
        seen = self.articles.get(article.url)
        if seen is None:
            self.articles[article.url] = (details, line)
        elif seen[0] != details:
            self.check.at(
                raw,
                prefix,
                ("appeared_in",),
                f"describes {article.url} differently from the claim on line {seen[1]}",
                line,
            )

    def flush(self) -> None:
        if self.batch and not self.check.problems:
            self.writer.write_claims(self.batch)
        self.batch.clear()

    def finish(self, session: Session) -> ImportReport:
        self._write_references()
        for entry in self.deferred:
            self._claim(entry)
        self.deferred.clear()
        self.flush()
        if self.check.problems:
            raise InvalidInput(self.check.problems)
        self.writer.finish()
        in_db = session.execute(select(Claim.key)).scalars()
        self.report.missing = sorted(k for k in in_db if k not in self.claim_lines)
        return self.report


def _raw_key(value: Any, key: str) -> str | None:
    if isinstance(value, dict) and isinstance(value.get(key), str):
        return str(value[key])
    return None


def import_claims(
    session: Session,
    path: Path,
    *,
    settings: Settings,
    now: dt.datetime,
    progress: Progress | None = None,
    display_name: str | None = None,
    detail: bool = False,
) -> ImportReport:
    """Validate and import a claims file within the session's transaction.

    Raises InvalidInput listing every problem; the caller must then roll back. The
    caller's unit of work should be a writing one (tracker.db.unit_of_work), and no
    statement may run in it before this: the import takes the catalogue lock first, so
    that it works out what changed only once no other import can change it meanwhile.
    """
    lock_catalogue(session)
    name = display_name or str(path)
    reader = ClaimsFileReader(path, max_bytes=settings.claims_max_bytes, display_name=name, progress=progress)
    state = _Import(session, name, settings, now, detail=detail)
    for entry in reader:
        state.take(entry)
    # A problem in the YAML itself ends the stream early; report it with the rest.
    state.check.problems.extend(reader.problems)
    return state.finish(session)
