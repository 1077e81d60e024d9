"""Write validated claims-file entries to the database in bulk, within the caller's transaction.

Claims go in batches through Core executemany statements rather than one ORM object
at a time: an import of 100k claims must stay close to the speed of a bare insert.
The rules are the model's: criteria changes append a CriteriaVersion, outcome changes
append a Resolution, a promise's progress entries not yet recorded append one each, and
nothing in either history is rewritten. No ORM event sees these statements, so the
writer records its own audit entries (given `audit` rows), the same ones the ORM
listener records for the same changes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from tracker.audit.recording import CLAIM_FIELDS, CRITERIA_FIELDS, REVIEWER_FIELDS, SOURCE_FIELDS, Rows
from tracker.claimsfile.schema import ClaimRecord, ReviewerIn, SourceIn
from tracker.models import (
    Appearance,
    Claim,
    ClaimStatus,
    ClaimTag,
    CriteriaVersion,
    Resolution,
    Reviewer,
    Source,
    bump_revisions,
    claim_reviewers,
    current_progress,
)

claims_t = cast(Table, Claim.__table__)
appearances_t = cast(Table, Appearance.__table__)
tags_t = cast(Table, ClaimTag.__table__)
versions_t = cast(Table, CriteriaVersion.__table__)
resolutions_t = cast(Table, Resolution.__table__)
sources_t = cast(Table, Source.__table__)
reviewers_t = cast(Table, Reviewer.__table__)

Row = dict[str, Any]

# Claim columns that a re-import updates in place; criteria and outcome are versioned instead.
PLAIN_COLUMNS = (
    "kind",
    "statement",
    "quote",
    "made_on",
    "source_id",
    "appearance_id",
    "probability",
    "confidence",
    "probability_basis",
    "recorded_after_outcome",
    "as_of",
)
CRITERIA_COLUMNS = ("criteria", "deadline", "window_start", "timezone")


# The file's names for the claim columns a re-import may change (for the web preview's list).
FIELD_NAMES = {
    "source_id": "source",
    "appearance_id": "appeared_in",
    "criteria": "resolution",
    "deadline": "resolution",
    "window_start": "resolution",
    "timezone": "resolution",
}


@dataclass
class ImportDetail:
    """Which entries an import changed, by name: what the web preview lists before a confirm.

    Only kept when asked for (`import_claims(detail=True)`): the CLI's counts need no list
    of a hundred thousand keys.
    """

    claims_created: list[str] = field(default_factory=list)
    # Claim key -> the file's fields that differ (tags, reviewers and outcome included).
    claims_updated: dict[str, list[str]] = field(default_factory=dict)
    criteria_versions: list[str] = field(default_factory=list)
    resolutions: list[str] = field(default_factory=list)
    sources_created: list[str] = field(default_factory=list)
    sources_updated: list[str] = field(default_factory=list)
    reviewers_created: list[str] = field(default_factory=list)
    reviewers_updated: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_criteria_versions: int = 0
    new_resolutions: int = 0
    sources_created: int = 0
    sources_updated: int = 0
    reviewers_created: int = 0
    reviewers_updated: int = 0
    missing: list[str] = field(default_factory=list)
    detail: ImportDetail | None = None

    @property
    def changed(self) -> bool:
        """Whether the import wrote anything."""
        return any(
            (
                self.created,
                self.updated,
                self.new_criteria_versions,
                self.new_resolutions,
                self.sources_created,
                self.sources_updated,
                self.reviewers_created,
                self.reviewers_updated,
            )
        )


def _differs(row: Any, values: dict[str, Any], columns: Iterable[str]) -> bool:
    return any(getattr(row, c) != values[c] for c in columns)


def _differing(row: Any, values: dict[str, Any], columns: Iterable[str]) -> list[str]:
    """The file's names of the columns in which `row` and `values` differ, in order, once each."""
    names = (FIELD_NAMES.get(c, c) for c in columns if getattr(row, c) != values[c])
    return list(dict.fromkeys(names))


def _ordered(values: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {name: values[name] for name in fields}


def _diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields of `new` whose value differs from `old`'s: as they were, and as they become."""
    changed = [name for name, value in new.items() if old.get(name) != value]
    return {name: old.get(name) for name in changed}, {name: new[name] for name in changed}


class ClaimWriter:
    """Upserts reviewers, sources and batches of claims on one connection."""

    def __init__(
        self, connection: Connection, now: dt.datetime, report: ImportReport, audit: Rows | None = None
    ) -> None:
        self.conn = connection
        self.now = now
        self.report = report
        self.audit = audit
        self.source_ids: dict[str, int] = {}
        self.slugs: dict[int, str] = {}
        self.reviewer_ids: dict[str, int] = {}
        self.handles: dict[int, str] = {}
        # Sources whose scorecards this import changes; see `finish`.
        self.touched_sources: set[int] = set()

    # -- reviewers and sources ---------------------------------------------------------

    def write_reviewers(self, reviewers: Sequence[ReviewerIn]) -> None:
        """Insert new reviewers and update changed ones, keyed by handle."""
        existing = {r.handle: r for r in self.conn.execute(select(reviewers_t))}
        fields = ("name", "email", "timezone", "role")
        new: list[Row] = []
        changed: list[Row] = []
        for reviewer in reviewers:
            values = {f: getattr(reviewer, f) for f in fields}
            row = existing.get(reviewer.handle)
            if row is None:
                new.append({"handle": reviewer.handle, "created_at": self.now, **values})
                if self.audit is not None:
                    after = {"handle": reviewer.handle, "subscribed": False, **values}
                    self.audit.add(
                        "reviewer.create", "reviewer", reviewer.handle, None, _ordered(after, REVIEWER_FIELDS)
                    )
            elif _differs(row, values, fields):
                changed.append({"b_id": row.id, **values})
                if self.audit is not None:
                    self.audit.changed(Reviewer, reviewer.handle, *_diff(row._asdict(), values))
        if new:
            self.conn.execute(insert(reviewers_t), new)
        if changed:
            self.conn.execute(
                update(reviewers_t).where(reviewers_t.c.id == bindparam("b_id")),
                changed,
            )
        self.report.reviewers_created += len(new)
        self.report.reviewers_updated += len(changed)
        if (detail := self.report.detail) is not None:
            by_id = {row.id: handle for handle, row in existing.items()}
            detail.reviewers_created.extend(row["handle"] for row in new)
            detail.reviewers_updated.extend(by_id[row["b_id"]] for row in changed)
        self.reviewer_ids = dict(self.conn.execute(select(reviewers_t.c.handle, reviewers_t.c.id)).all())
        self.handles = {rid: handle for handle, rid in self.reviewer_ids.items()}
        self._write_audit()

    def write_sources(self, sources: Sequence[SourceIn]) -> None:
        """Insert new sources and update changed ones; member_of is linked afterwards."""
        existing = {r.slug: r for r in self.conn.execute(select(sources_t))}
        fields = ("name", "kind", "url", "notes")
        new: list[Row] = []
        changed: list[Row] = []
        for source in sources:
            values = {f: getattr(source, f) for f in fields}
            row = existing.get(source.slug)
            if row is None:
                new.append({"slug": source.slug, "created_at": self.now, **values})
            elif _differs(row, values, fields):
                changed.append({"b_id": row.id, **values})
        if new:
            self.conn.execute(insert(sources_t), new)
        if changed:
            self.conn.execute(update(sources_t).where(sources_t.c.id == bindparam("b_id")), changed)
        self.source_ids = dict(self.conn.execute(select(sources_t.c.slug, sources_t.c.id)).all())
        self.slugs = {sid: slug for slug, sid in self.source_ids.items()}

        # Link people to their outlets now that every source has an id.
        parents = {
            r.slug: r.parent_id for r in self.conn.execute(select(sources_t.c.slug, sources_t.c.parent_id))
        }
        relinks: list[Row] = []
        for source in sources:
            wanted = self.source_ids[source.member_of] if source.member_of else None
            if parents.get(source.slug) != wanted:
                relinks.append({"b_id": self.source_ids[source.slug], "parent_id": wanted})
        if relinks:
            self.conn.execute(update(sources_t).where(sources_t.c.id == bindparam("b_id")), relinks)
        new_slugs = {row["slug"] for row in new}
        relinked = {r["b_id"] for r in relinks} - {self.source_ids[s] for s in new_slugs}
        updated = {r["b_id"] for r in changed} | relinked
        self.report.sources_created += len(new)
        self.report.sources_updated += len(updated)
        if (detail := self.report.detail) is not None:
            by_id = {source_id: slug for slug, source_id in self.source_ids.items()}
            detail.sources_created.extend(row["slug"] for row in new)
            detail.sources_updated.extend(sorted(by_id[i] for i in updated))
        if self.audit is not None:
            self._audit_sources(sources, existing, new_slugs, parents)

    def _audit_sources(
        self,
        sources: Sequence[SourceIn],
        existing: dict[str, Any],
        new: set[str],
        parents: dict[str, int | None],
    ) -> None:
        assert self.audit is not None
        for source in sources:
            values = {f: getattr(source, f) for f in ("name", "kind", "url", "notes")}
            values["parent"] = source.member_of
            if source.slug in new:
                after = _ordered({"slug": source.slug, **values}, SOURCE_FIELDS)
                self.audit.add("source.create", "source", source.slug, None, after)
                continue
            parent_id = parents.get(source.slug)
            old = {
                **existing[source.slug]._asdict(),
                "parent": self.slugs.get(parent_id) if parent_id else None,
            }
            before, after = _diff(old, values)
            if after:
                self.audit.changed(Source, source.slug, before, after)
        self._write_audit()

    # -- claims --------------------------------------------------------------------------

    def write_claims(self, batch: Sequence[ClaimRecord]) -> None:
        """Upsert one batch of validated claims and their appearances, tags, reviewers and history."""
        appearance_ids = self._write_appearances(batch)
        keys = [r.entry.id for r in batch]
        existing = {
            row.key: row for row in self.conn.execute(select(claims_t).where(claims_t.c.key.in_(keys)))
        }

        new_records = [r for r in batch if r.entry.id not in existing]
        old_records = [r for r in batch if r.entry.id in existing]
        if new_records:
            self._insert_new(new_records, appearance_ids)
        if old_records:
            self._update_existing(old_records, existing, appearance_ids)
        self._write_audit()

    # -- the audit log -------------------------------------------------------------------

    def _write_audit(self) -> None:
        if self.audit is not None:
            self.audit.write()

    def _claim_view(self, values: dict[str, Any], urls: dict[int, str]) -> dict[str, Any]:
        """Claim columns as the audit log names them: the source by slug, the article by url."""
        view = dict(values)
        if "source_id" in view:
            view["source"] = self.slugs.get(view.pop("source_id"))
        if "appearance_id" in view:
            appearance_id = view.pop("appearance_id")
            view["appearance"] = urls.get(appearance_id) if appearance_id is not None else None
        return {name: view[name] for name in CLAIM_FIELDS if name in view}

    def _history_entries(self, key: str, versions: Sequence[Row], resolutions: Sequence[Row]) -> None:
        """criteria.add and verdict.add entries for the history rows one claim gains."""
        assert self.audit is not None
        for version in versions:
            self.audit.add("criteria.add", "claim", key, None, {c: version[c] for c in CRITERIA_FIELDS})
        for outcome in resolutions:
            reviewer = self.handles.get(outcome["reviewer_id"]) if outcome["reviewer_id"] else None
            after = {c: outcome.get(c) for c in ("verdict", "progress", "evidence", "note")}
            self.audit.add(
                "verdict.add",
                "claim",
                key,
                None,
                {**after, "reviewer": reviewer, "resolved_on": outcome["resolved_on"]},
            )

    def _write_appearances(self, batch: Sequence[ClaimRecord]) -> dict[str, int]:
        wanted: dict[str, dict[str, Any]] = {}
        for record in batch:
            article = record.entry.appeared_in
            if article is not None:
                wanted[article.url] = {
                    "url": article.url,
                    "title": article.title,
                    "author": article.author,
                    "published": article.published,
                }
        if not wanted:
            return {}
        existing = {
            row.url: row
            for row in self.conn.execute(select(appearances_t).where(appearances_t.c.url.in_(list(wanted))))
        }
        fields = ("title", "author", "published")
        new = [v for url, v in wanted.items() if url not in existing]
        changed = [
            {"b_id": existing[url].id, **{f: v[f] for f in fields}}
            for url, v in wanted.items()
            if url in existing and _differs(existing[url], v, fields)
        ]
        ids = {url: row.id for url, row in existing.items()}
        if new:
            result = self.conn.execute(
                insert(appearances_t).returning(
                    appearances_t.c.url, appearances_t.c.id, sort_by_parameter_order=True
                ),
                new,
            )
            ids.update(result.all())
        if changed:
            self.conn.execute(update(appearances_t).where(appearances_t.c.id == bindparam("b_id")), changed)
            # An article's new title shows on every scorecard that cites it.
            changed_ids = [row["b_id"] for row in changed]
            self.touched_sources.update(
                self.conn.execute(
                    select(claims_t.c.source_id).where(claims_t.c.appearance_id.in_(changed_ids)).distinct()
                ).scalars()
            )
        return ids

    def _columns(self, record: ClaimRecord, appearance_ids: dict[str, int]) -> dict[str, Any]:
        claim = record.entry
        criteria = claim.resolution
        return {
            "kind": claim.kind,
            "statement": claim.statement,
            "quote": claim.quote,
            "made_on": claim.made_on,
            "source_id": self.source_ids[claim.source],
            "appearance_id": appearance_ids[claim.appeared_in.url] if claim.appeared_in else None,
            "probability": record.probability,
            "confidence": claim.confidence,
            "probability_basis": claim.probability_basis,
            "recorded_after_outcome": claim.recorded_after_outcome,
            # Facts are judged as of the day they were said unless the file says otherwise.
            "as_of": (claim.as_of or claim.made_on) if claim.kind == "fact" else None,
            "criteria": criteria.criteria if criteria else None,
            "deadline": criteria.deadline if criteria else None,
            "window_start": criteria.window_start if criteria else None,
            "timezone": criteria.timezone if criteria else None,
        }

    def _outcome_row(self, claim_id: int, record: ClaimRecord) -> dict[str, Any] | None:
        outcome = record.entry.outcome
        if outcome is None:
            return None
        return {
            "claim_id": claim_id,
            "verdict": outcome.verdict,
            "evidence": list(outcome.evidence),
            "note": outcome.note,
            "reviewer_id": self.reviewer_ids[outcome.by] if outcome.by else None,
            "resolved_on": outcome.resolved_on,
            "recorded_at": self.now,
            "progress": None,
        }

    def _progress_rows(self, claim_id: int, record: ClaimRecord) -> list[dict[str, Any]]:
        """The file's progress entries as history rows, in the file's order."""
        return [
            {
                "claim_id": claim_id,
                "verdict": None,
                "progress": entry.status,
                "evidence": list(entry.evidence),
                "note": entry.note,
                "reviewer_id": self.reviewer_ids[entry.by] if entry.by else None,
                "resolved_on": entry.rated_on,
                "recorded_at": self.now,
            }
            for entry in record.entry.progress
        ]

    def _insert_new(self, records: Sequence[ClaimRecord], appearance_ids: dict[str, int]) -> None:
        rows = []
        for record in records:
            outcome = record.entry.outcome
            rows.append(
                {
                    "key": record.entry.id,
                    **self._columns(record, appearance_ids),
                    "status": ClaimStatus.RESOLVED.value if outcome else ClaimStatus.OPEN.value,
                    "verdict": outcome.verdict if outcome else None,
                    "progress": current_progress((p.rated_on, p.status) for p in record.entry.progress),
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
        result = self.conn.execute(
            insert(claims_t).returning(claims_t.c.id, sort_by_parameter_order=True), rows
        )
        ids = list(result.scalars())
        tags: list[Row] = []
        assignments: list[Row] = []
        versions: list[Row] = []
        resolutions: list[Row] = []
        for claim_id, record, row in zip(ids, records, rows, strict=True):
            claim = record.entry
            tags.extend({"claim_id": claim_id, "tag": t} for t in dict.fromkeys(claim.tags))
            assignments.extend(
                {"claim_id": claim_id, "reviewer_id": self.reviewer_ids[h]}
                for h in dict.fromkeys(claim.reviewers)
            )
            version_rows = [self._version_row(claim_id, 1, row)] if row["criteria"] is not None else []
            outcome_row = self._outcome_row(claim_id, record)
            # Progress came while the promise was open, so before its outcome in the history.
            outcome_rows = self._progress_rows(claim_id, record)
            outcome_rows += [outcome_row] if outcome_row is not None else []
            versions.extend(version_rows)
            resolutions.extend(outcome_rows)
            if self.audit is not None:
                urls = (
                    {appearance_ids[claim.appeared_in.url]: claim.appeared_in.url}
                    if claim.appeared_in
                    else {}
                )
                after = self._claim_view(row, urls)
                after["tags"] = sorted(dict.fromkeys(claim.tags))
                after["reviewers"] = sorted(dict.fromkeys(claim.reviewers))
                self.audit.add("claim.create", "claim", claim.id, None, after)
                self._history_entries(claim.id, version_rows, outcome_rows)
        self._insert_children(tags, assignments, versions, resolutions)
        self.touched_sources.update(row["source_id"] for row in rows)
        self.report.created += len(records)
        if (detail := self.report.detail) is not None:
            detail.claims_created.extend(row["key"] for row in rows)
            detail.criteria_versions.extend(row["key"] for row in rows if row["criteria"] is not None)
            detail.resolutions.extend(r.entry.id for r in records if r.entry.outcome is not None)

    def _version_row(self, claim_id: int, version: int, columns: dict[str, Any]) -> dict[str, Any]:
        return {
            "claim_id": claim_id,
            "version": version,
            "recorded_at": self.now,
            **{c: columns[c] for c in CRITERIA_COLUMNS},
        }

    def _insert_children(
        self,
        tags: list[dict[str, Any]],
        assignments: list[dict[str, Any]],
        versions: list[dict[str, Any]],
        resolutions: list[dict[str, Any]],
    ) -> None:
        for table, rows in (
            (tags_t, tags),
            (claim_reviewers, assignments),
            (versions_t, versions),
            (resolutions_t, resolutions),
        ):
            if rows:
                self.conn.execute(insert(table), rows)
        self.report.new_criteria_versions += len(versions)
        self.report.new_resolutions += len(resolutions)

    def _update_existing(
        self, records: Sequence[ClaimRecord], existing: dict[str, Any], appearance_ids: dict[str, int]
    ) -> None:
        ids = [existing[r.entry.id].id for r in records]
        tags_now: dict[int, set[str]] = defaultdict(set)
        for claim_id, tag in self.conn.execute(
            select(tags_t.c.claim_id, tags_t.c.tag).where(tags_t.c.claim_id.in_(ids))
        ):
            tags_now[claim_id].add(tag)
        reviewers_now: dict[int, set[int]] = defaultdict(set)
        for claim_id, reviewer_id in self.conn.execute(
            select(claim_reviewers.c.claim_id, claim_reviewers.c.reviewer_id).where(
                claim_reviewers.c.claim_id.in_(ids)
            )
        ):
            reviewers_now[claim_id].add(reviewer_id)
        latest_version: dict[int, int] = dict(
            self.conn.execute(
                select(versions_t.c.claim_id, versions_t.c.version)
                .where(versions_t.c.claim_id.in_(ids))
                .order_by(versions_t.c.claim_id, versions_t.c.version)
            ).all()
        )
        latest_outcome: dict[int, Any] = {}
        progress_now: dict[int, list[Any]] = defaultdict(list)
        for history_row in self.conn.execute(
            select(resolutions_t).where(resolutions_t.c.claim_id.in_(ids)).order_by(resolutions_t.c.id)
        ):
            if history_row.progress is None:
                latest_outcome[history_row.claim_id] = history_row
            else:
                progress_now[history_row.claim_id].append(history_row)

        updates: list[Row] = []
        tags_add: list[Row] = []
        tags_drop: list[tuple[int, str]] = []
        assign_add: list[Row] = []
        assign_drop: list[tuple[int, int]] = []
        versions: list[Row] = []
        resolutions: list[Row] = []
        urls = self._appearance_urls(records, existing, appearance_ids) if self.audit is not None else {}
        for record in records:
            row = existing[record.entry.id]
            claim_id = row.id
            versions_before, resolutions_before = len(versions), len(resolutions)
            columns = self._columns(record, appearance_ids)
            touched = False
            change: dict[str, Any] = {}
            differing = _differing(row, columns, PLAIN_COLUMNS)
            if differing:
                change.update({c: columns[c] for c in PLAIN_COLUMNS})
            if columns["criteria"] is not None and _differs(row, columns, CRITERIA_COLUMNS):
                # Frozen once recorded: a change is a new version, the old one stays visible.
                change.update({c: columns[c] for c in CRITERIA_COLUMNS})
                versions.append(self._version_row(claim_id, latest_version.get(claim_id, 0) + 1, columns))
                differing.extend(_differing(row, columns, CRITERIA_COLUMNS))
            wanted_tags = set(record.entry.tags)
            tags_add.extend(
                {"claim_id": claim_id, "tag": t} for t in sorted(wanted_tags - tags_now[claim_id])
            )
            tags_drop.extend((claim_id, t) for t in tags_now[claim_id] - wanted_tags)
            wanted_reviewers = {self.reviewer_ids[h] for h in record.entry.reviewers}
            assign_add.extend(
                {"claim_id": claim_id, "reviewer_id": r}
                for r in sorted(wanted_reviewers - reviewers_now[claim_id])
            )
            assign_drop.extend((claim_id, r) for r in reviewers_now[claim_id] - wanted_reviewers)
            touched = wanted_tags != tags_now[claim_id] or wanted_reviewers != reviewers_now[claim_id]
            differing.extend(
                name
                for name, differs in (
                    ("tags", wanted_tags != tags_now[claim_id]),
                    ("reviewers", wanted_reviewers != reviewers_now[claim_id]),
                )
                if differs
            )

            # Progress entries are matched by what they say: those not yet recorded are appended.
            recorded = [_progress_key(p) for p in progress_now[claim_id]]
            new_progress = [
                p for p in self._progress_rows(claim_id, record) if _progress_key(p) not in recorded
            ]
            if new_progress:
                resolutions.extend(new_progress)
                entries = [(p.resolved_on, p.progress) for p in progress_now[claim_id]]
                entries += [(p["resolved_on"], p["progress"]) for p in new_progress]
                change["progress"] = current_progress(entries)
                differing.append("progress")
            outcome_row = self._outcome_row(claim_id, record)
            if outcome_row is not None and not _same_outcome(latest_outcome.get(claim_id), outcome_row):
                resolutions.append(outcome_row)
                change["verdict"] = outcome_row["verdict"]
                change["status"] = ClaimStatus.RESOLVED.value
                differing.append("outcome")
            if change or touched:
                updates.append({"b_id": claim_id, "updated_at": self.now, **change})
                self.touched_sources.update((row.source_id, columns["source_id"]))
                self.report.updated += 1
                if (detail := self.report.detail) is not None:
                    detail.claims_updated[record.entry.id] = differing
                    if "resolution" in differing:
                        detail.criteria_versions.append(record.entry.id)
                    if "outcome" in differing:
                        detail.resolutions.append(record.entry.id)
            else:
                self.report.unchanged += 1
            if self.audit is not None and (change or touched):
                key = record.entry.id
                self._audit_update(key, row, change, urls)
                # Tags and reviewers are part of the claim, but each change is an entry of its own.
                for tag in sorted(wanted_tags - tags_now[claim_id]):
                    self.audit.add("tag.add", "claim", key, None, {"tag": tag})
                for tag in sorted(tags_now[claim_id] - wanted_tags):
                    self.audit.add("tag.remove", "claim", key, {"tag": tag}, None)
                for rid in sorted(wanted_reviewers - reviewers_now[claim_id]):
                    self.audit.add("assignment.add", "claim", key, None, {"reviewer": self.handles[rid]})
                for rid in sorted(reviewers_now[claim_id] - wanted_reviewers):
                    self.audit.add("assignment.remove", "claim", key, {"reviewer": self.handles[rid]}, None)
                self._history_entries(
                    key,
                    versions[versions_before:],
                    resolutions[resolutions_before:],
                )

        # executemany needs every row to carry the same keys; group updates by their shape.
        by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for values in updates:
            by_shape[tuple(sorted(values))].append(values)
        for rows in by_shape.values():
            self.conn.execute(update(claims_t).where(claims_t.c.id == bindparam("b_id")), rows)
        for claim_id, tag in tags_drop:
            self.conn.execute(delete(tags_t).where(tags_t.c.claim_id == claim_id, tags_t.c.tag == tag))
        for claim_id, reviewer_id in assign_drop:
            self.conn.execute(
                delete(claim_reviewers).where(
                    claim_reviewers.c.claim_id == claim_id, claim_reviewers.c.reviewer_id == reviewer_id
                )
            )
        self._insert_children(tags_add, assign_add, versions, resolutions)

    def _appearance_urls(
        self, records: Sequence[ClaimRecord], existing: dict[str, Any], appearance_ids: dict[str, int]
    ) -> dict[int, str]:
        """The url of every article these claims cite, now or before this import."""
        urls = {aid: url for url, aid in appearance_ids.items()}
        old = {existing[r.entry.id].appearance_id for r in records} - set(urls) - {None}
        if old:
            urls.update(
                self.conn.execute(
                    select(appearances_t.c.id, appearances_t.c.url).where(appearances_t.c.id.in_(old))
                ).all()
            )
        return urls

    def _audit_update(self, key: str, row: Any, change: dict[str, Any], urls: dict[int, str]) -> None:
        """claim.update with the fields that differ (tags, reviewers and histories are entries of their own)."""
        assert self.audit is not None
        before, after = _diff(self._claim_view(row._asdict(), urls), self._claim_view(change, urls))
        if after:
            self.audit.changed(Claim, key, before, after)

    def finish(self) -> None:
        """Mark the scorecards of every source this import changed as stale."""
        bump_revisions(self.conn, self.touched_sources)
        self.touched_sources.clear()


def _progress_key(entry: Any) -> tuple[Any, ...]:
    """What a progress entry says (a history row or a row to insert), to tell whether it is recorded."""
    get = entry.get if isinstance(entry, dict) else lambda c: getattr(entry, c)
    fields = tuple(get(c) for c in ("progress", "resolved_on", "reviewer_id", "note"))
    return (*fields, tuple(get("evidence") or ()))


def _same_outcome(row: Any, wanted: dict[str, Any]) -> bool:
    if row is None:
        return False
    return (
        all(getattr(row, c) == wanted[c] for c in ("verdict", "note", "reviewer_id", "resolved_on"))
        and list(row.evidence or []) == wanted["evidence"]
    )
