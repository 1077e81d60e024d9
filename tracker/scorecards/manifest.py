"""The build manifest: what each page was built from, so a rebuild can skip the pages still current.

It lives in the output folder as `.tracker-manifest.json`: JSON Lines, a header and then
one line per source. For every source it records
the source's `revision` (bumped by tracker whenever anything on its scorecard
changes), a hash of what the page shows about the source and its relatives (names,
links, members' revisions), the dates its "days left" were counted on, and the
summary and index row the index is made from, and the page file as it was written (its
size, modification time and a hash of its bytes), so that a page lost, cut short or
changed since is rendered again. The manifest as a whole carries a
signature of the templates, the code and the settings that shape every page: when
that changes, every page is stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.files import replace, write_temporary
from tracker.scorecards.page import Summary

MANIFEST_NAME = ".tracker-manifest.json"
FORMAT = 5


@dataclass(slots=True)
class Stamp:
    """A page file as a build wrote it: a later build checks the file against it."""

    size: int
    mtime_ns: int
    hash: str  # `digest` of the bytes

    def to_json(self) -> list[Any]:
        """The stamp as a JSON list."""
        return [self.size, self.mtime_ns, self.hash]

    def matches(self, path: Path) -> bool:
        """Whether `path` is still the file this stamp describes.

        The size and modification time settle it as git's index does; the bytes are read
        and hashed only when the time differs (a copied site, a touched file), and then the
        stamp takes the new time, so the next check is quick again.
        """
        try:
            found = path.stat()
        except OSError:
            return False
        if found.st_size != self.size:
            return False
        if found.st_mtime_ns == self.mtime_ns:
            return True
        try:
            same = digest_bytes(path.read_bytes()) == self.hash
        except OSError:
            return False
        if same:
            self.mtime_ns = found.st_mtime_ns
        return same


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
    file: Stamp | None = None  # the page file as written

    def to_json(self) -> list[Any]:
        """The entry as a JSON list (a site of ten thousand sources keeps its manifest small)."""
        stamp = self.file.to_json() if self.file else None
        return [self.slug, self.path, self.revision, self.meta, self.days, self.summary, self.row, stamp]

    @classmethod
    def from_json(cls, data: list[Any]) -> PageEntry:
        """An entry read back from the manifest."""
        slug, path, revision, meta, days, summary, row, stamp = data
        if summary is not None:
            *head, rank, fact_rank = summary
            summary = Summary._make([*head, tuple(rank), tuple(fact_rank)])
        return cls(slug, path, revision, meta, days, summary, row, Stamp(*stamp) if stamp else None)


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
        temporary = self.stage(out_dir)
        replace(temporary, out_dir / MANIFEST_NAME)

    def stage(self, out_dir: Path) -> Path:
        """Write the manifest to a temporary file in `out_dir`, for the build to rename last."""
        # One JSON line per page: encoded a line at a time, it is never held whole in memory.
        return write_temporary(out_dir / MANIFEST_NAME, self._lines())

    def _lines(self) -> Iterator[str]:
        yield _line({"format": FORMAT, "signature": self.signature, "files": self.files})
        for source_id, entry in sorted(self.pages.items()):
            yield _line([source_id, *entry.to_json()])


def _line(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def digest_bytes(data: bytes) -> str:
    """A short stable hash of a file's bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


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
