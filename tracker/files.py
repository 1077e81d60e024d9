"""Writing files so that a reader never sees half of one: a temporary file, then a rename.

Every file tracker writes (a scorecard page, the build manifest, an export, a calendar, a
digest) is written beside its target under a temporary name, flushed to disk and renamed
over the target. A crash, a kill or a full disk leaves either the old file or the new one,
never a truncated one; a failed write removes its temporary file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO

TEMP_SUFFIX = ".tmp"
"""Every temporary file starts with a dot and its target's name, and ends so."""


def is_temporary(name: str) -> bool:
    """Whether a file name is one of ours (for clearing what a killed writer left)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _mode_for(path: Path) -> int:
    # mkstemp makes the file private; give it the mode the target has, or the one a plain
    # write would give it: a site, an export or a calendar is meant to be read.
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextmanager
def _temporary(path: Path, mode: str, sync: bool) -> Iterator[tuple[IO[Any], Path]]:
    # Beside the target: a rename within one folder (one file system) is atomic.
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    temporary = Path(name)
    try:
        encoding = None if "b" in mode else "utf-8"
        with open(fd, mode, encoding=encoding, newline=None if encoding is None else "\n") as handle:
            yield handle, temporary
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.chmod(temporary, _mode_for(path))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_text(path: Path, *, sync: bool = True) -> Iterator[TextIO]:
    """Write `path` as UTF-8 text through the handle yielded; it replaces `path` only when complete."""
    with _temporary(path, "w", sync) as (handle, temporary):
        yield handle  # type: ignore[misc]
    replace(temporary, path)


@contextmanager
def atomic_binary(path: Path, *, sync: bool = True) -> Iterator[BinaryIO]:
    """As `atomic_text`, for bytes."""
    with _temporary(path, "wb", sync) as (handle, temporary):
        yield handle  # type: ignore[misc]
    replace(temporary, path)


def write_temporary(path: Path, data: str | bytes | Iterable[str], *, sync: bool = True) -> Path:
    """Write `data` to a new temporary file beside `path` and return it, for the caller to rename.

    A caller that must replace several files together (a site) writes them all first, and
    renames them only once every one was written.
    """
    mode = "wb" if isinstance(data, bytes) else "w"
    with _temporary(path, mode, sync) as (handle, temporary):
        if isinstance(data, (str, bytes)):
            handle.write(data)
        else:
            handle.writelines(data)
    return temporary


def write_atomic(path: Path, data: str | bytes | Iterable[str], *, sync: bool = True) -> None:
    """Replace `path` with `data` (text is UTF-8) in one step."""
    replace(write_temporary(path, data, sync=sync), path)


def replace(temporary: Path, path: Path) -> None:
    """Rename a file `write_temporary` made over `path`; on failure, remove it."""
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
