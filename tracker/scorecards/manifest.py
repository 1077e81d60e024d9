"""The build manifest: what each page was built from, so a rebuild can skip the pages still current.

It lives in the output folder as `.tracker-manifest.json`: JSON Lines, a header and then
one line per source. For every source it records
the source's `revision` (bumped by tracker whenever anything on its scorecard
changes), a hash of what the page shows about the source and its relatives (names,
links, members' revisions), the dates its "days left" were counted on, and the
summary and index row the index is made from. The manifest as a whole carries a
signature of the templates, the code and the settings that shape every page: when
that changes, every page is stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.scorecards.page import Summary

MANIFEST_NAME = ".tracker-manifest.json"
FORMAT = 3


@dataclass(slots=True)
class PageEntry:
    """What one source's page was built from; `path` None means the source has no page."""

    slug: str
    path: str | None
    revision: int
    meta: str
    days: dict[str, str]  # timezone -> the date its "days left" were counted on
    summary: Summary | None = None
    row: str | None = None  # the index row's cells, rendered once with the page

    def to_json(self) -> list[Any]:
        """The entry as a JSON list (a site of ten thousand sources keeps its manifest small)."""
        return [self.slug, self.path, self.revision, self.meta, self.days, self.summary, self.row]

    @classmethod
    def from_json(cls, data: list[Any]) -> PageEntry:
        """An entry read back from the manifest."""
        slug, path, revision, meta, days, summary, row = data
        if summary is not None:
            *head, rank, fact_rank = summary
            summary = Summary._make([*head, tuple(rank), tuple(fact_rank)])
        return cls(slug, path, revision, meta, days, summary, row)


@dataclass
class Manifest:
    """Every source's entry, keyed by source id, and the hashes of the shared files."""

    signature: str = ""
    pages: dict[int, PageEntry] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # shared file -> content hash

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        """The manifest in `out_dir`; an empty one when it is missing, unreadable or of another format."""
        try:
            with (out_dir / MANIFEST_NAME).open(encoding="utf-8") as lines:
                head = json.loads(next(lines))
                if head.get("format") != FORMAT:
                    return cls()
                pages = {}
                for line in lines:
                    source_id, *entry = json.loads(line)
                    pages[int(source_id)] = PageEntry.from_json(entry)
            return cls(signature=head["signature"], pages=pages, files=dict(head.get("files", {})))
        except (OSError, StopIteration, ValueError, KeyError, TypeError):
            # A damaged manifest only costs a full rebuild; it must never stop one.
            return cls()

    def save(self, out_dir: Path) -> None:
        """Write the manifest atomically, so an interrupted build leaves the old one whole."""
        head = {"format": FORMAT, "signature": self.signature, "files": self.files}
        # A temporary name of its own: two builds into one folder (two schedulers) must not
        # rename each other's half-written file away.
        fd, name = tempfile.mkstemp(dir=out_dir, prefix=f".{MANIFEST_NAME}.", suffix=".tmp")
        tmp = Path(name)
        try:
            # One JSON line per page: encoded a line at a time, it is never held whole in memory.
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(_line(head))
                for source_id, entry in sorted(self.pages.items()):
                    out.write(_line([source_id, *entry.to_json()]))
            os.replace(tmp, out_dir / MANIFEST_NAME)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _line(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def digest(*parts: str) -> str:
    """A short stable hash of some strings."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def tree_digest(*roots: Path, suffixes: tuple[str, ...]) -> str:
    """A hash of every file with one of `suffixes` under `roots`: names and contents."""
    h = hashlib.sha256()
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(b"\x00")
            h.update(path.read_bytes())
    return h.hexdigest()[:16]
