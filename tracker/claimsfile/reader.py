"""Stream a claims file as located values, one list entry at a time.

PyYAML's loaders build the whole document before handing it over and forget where
each value came from. This reader walks libyaml's event stream instead, so that
memory stays bounded on large files and every value keeps its line number for
error messages. Scalars follow the YAML 1.2 core schema (only true/false are
booleans, so `no` stays text), and ISO dates become `datetime.date`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from tracker.errors import Problem

try:  # libyaml's C parser is an order of magnitude faster; fall back for odd builds.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - every wheel of PyYAML on PyPI ships libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


class LMap(dict[str, Any]):
    """A mapping that remembers its own line and the line of each key (1-based)."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}


class LSeq(list[Any]):
    """A sequence that remembers its own line and the line of each item (1-based)."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []


@dataclass(frozen=True, slots=True)
class Entry:
    """One value at the top level: an item of a list section, or a section's whole value."""

    section: str
    index: int | None  # position in the section's list; None when the section is not a list
    value: Any
    line: int
    section_line: int


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9:.]+(Z|[-+][0-9:]+)?\Z")


def resolve_plain(value: str) -> Any:
    """Type an unquoted scalar by the YAML 1.2 core schema, plus ISO dates and timestamps."""
    if value in _NULLS:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    first = value[0]
    if first.isdigit() or first in "-+.":
        if _INT.match(value):
            return int(value)
        if _DATE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return value  # e.g. 2017-02-30: left as text, the validator names the field
        if _FLOAT.match(value):
            return float(value)
        if _TIMESTAMP.match(value):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                return value
    return value


class YamlProblem(Exception):
    """Raised inside the reader; carries a Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class ClaimsFileReader:
    """Iterate over the top-level entries of a claims file; problems collect in `.problems`."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int,
        display_name: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.path = path
        self.name = display_name or path.name
        self.max_bytes = max_bytes
        self.progress = progress
        self.problems: list[Problem] = []
        self.size = 0

    def _problem(self, line: int, message: str, field: str = "") -> None:
        self.problems.append(Problem(self.name, line, field, message))

    def _check_file(self) -> bool:
        """Size and encoding checks, done before parsing so the messages are exact."""
        try:
            self.size = self.path.stat().st_size
        except OSError as exc:
            self._problem(0, f"cannot read file: {exc.strerror}")
            return False
        if self.size > self.max_bytes:
            self._problem(
                0, f"file is {self.size:,} bytes, over the {self.max_bytes:,}-byte limit (claims_max_bytes)"
            )
            return False
        decoder = codecs.getincrementaldecoder("utf-8")()
        line, seen_text = 1, False
        with self.path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line += chunk[: exc.start].count(b"\n")
                    self._problem(
                        line, f"not UTF-8 text (byte 0x{chunk[exc.start]:02x}); save the file as UTF-8"
                    )
                    return False
                line += chunk.count(b"\n")
                seen_text = seen_text or bool(text.strip())
        if not seen_text:
            self._problem(0, "file is empty; expected a mapping with reviewers, sources and claims")
            return False
        return True

    def __iter__(self) -> Iterator[Entry]:
        if not self._check_file():
            return
        with self.path.open("rb") as handle:
            try:
                yield from self._entries(handle)
            except YamlProblem as exc:
                self.problems.append(exc.problem)
            except yaml.reader.ReaderError as exc:
                # A raw control character (or U+FFFE) in the file: libyaml knows only its offset.
                self._problem(*self._located(exc))
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = mark.line + 1 if mark else 0
                what = exc.problem or str(exc)
                self._problem(line, f"invalid YAML: {what}")
            except yaml.YAMLError as exc:
                self._problem(0, f"invalid YAML: {exc}")

    def _located(self, exc: yaml.reader.ReaderError) -> tuple[int, str]:
        """The line and message for a character YAML refuses, from the byte offset libyaml gives."""
        with self.path.open("rb") as handle:
            before = handle.read(max(exc.position, 0))
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        return (
            line,
            f"control character U+{character:04X} at column {column}; only tab and newline are allowed",
        )

    # -- event walking ---------------------------------------------------------------

    def _entries(self, handle: BinaryIO) -> Iterator[Entry]:
        loader = _Loader(handle)
        try:
            events = iter(loader.get_event, None)
            next(events)  # StreamStart
            event = next(events)
            if isinstance(event, yaml.StreamEndEvent):
                self._problem(0, "file is empty; expected a mapping with reviewers, sources and claims")
                return
            event = next(events)  # first node after DocumentStart
            if not isinstance(event, yaml.MappingStartEvent):
                kind = _describe(event)
                self._problem(_line(event), f"top level is {kind}; expected a mapping")
                return
            self._anchors: dict[str, Any] = {}
            seen: dict[str, int] = {}
            while not isinstance(event := next(events), yaml.MappingEndEvent):
                key_line = _line(event)
                key = self._build(event, events)
                if not isinstance(key, str):
                    raise YamlProblem(Problem(self.name, key_line, "", f"top-level key {key!r} is not text"))
                if key in seen:
                    self._problem(key_line, f"duplicate key; first given on line {seen[key]}", key)
                seen[key] = key_line
                yield from self._section(key, key_line, events)
            self._report_progress(self.size)
            if not isinstance(next(events), yaml.DocumentEndEvent):  # pragma: no cover
                return
            event = next(events)
            if isinstance(event, yaml.DocumentStartEvent):
                self._problem(_line(event), "more than one YAML document; keep one per file")
        finally:
            loader.dispose()

    def _section(self, key: str, key_line: int, events: Iterator[Any]) -> Iterator[Entry]:
        event = next(events)
        if not isinstance(event, yaml.SequenceStartEvent):
            value = self._build(event, events)
            yield Entry(key, None, value, _line(event), key_line)
            return
        index = 0
        while not isinstance(event := next(events), yaml.SequenceEndEvent):
            if index == 0:
                # Announce the section even when its list is empty, so its key gets checked.
                yield Entry(key, None, LSeq(key_line), key_line, key_line)
            line = _line(event)
            if index % 256 == 0:
                self._report_progress(event.start_mark.index)
            yield Entry(key, index, self._build(event, events), line, key_line)
            index += 1
        if index == 0:
            yield Entry(key, None, LSeq(key_line), key_line, key_line)

    def _report_progress(self, position: int) -> None:
        if self.progress is not None:
            self.progress(min(position, self.size), self.size)

    def _build(self, event: Any, events: Iterator[Any]) -> Any:
        """Build the value that starts with `event`, consuming events up to its end."""
        if isinstance(event, yaml.ScalarEvent):
            value: Any = event.value
            tag = event.tag
            if tag in (None, "!") and event.implicit[0]:
                value = resolve_plain(value)
            elif tag not in (None, "!", "tag:yaml.org,2002:str"):
                value = self._tagged(tag, value, event)
        elif isinstance(event, yaml.MappingStartEvent):
            self._plain_collection(event, "tag:yaml.org,2002:map")
            value = LMap(_line(event))
            while not isinstance(key_event := next(events), yaml.MappingEndEvent):
                key_line = _line(key_event)
                key = self._build(key_event, events)
                if not isinstance(key, str):
                    key = str(key)
                item = self._build(next(events), events)
                if key in value:
                    # YAML forbids it and PyYAML silently keeps the last; say so, keep the first.
                    self._problem(key_line, f"duplicate key; first given on line {value.lines[key]}", key)
                    continue
                value[key] = item
                value.lines[key] = key_line
        elif isinstance(event, yaml.SequenceStartEvent):
            self._plain_collection(event, "tag:yaml.org,2002:seq")
            value = LSeq(_line(event))
            while not isinstance(item_event := next(events), yaml.SequenceEndEvent):
                value.lines.append(_line(item_event))
                value.append(self._build(item_event, events))
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in self._anchors:
                raise YamlProblem(Problem(self.name, _line(event), "", f"unknown alias *{event.anchor}"))
            return self._anchors[event.anchor]
        else:  # pragma: no cover - libyaml emits nothing else inside a document
            raise YamlProblem(Problem(self.name, _line(event), "", "unexpected YAML structure"))
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._anchors[anchor] = value
        return value

    def _plain_collection(self, event: Any, standard_tag: str) -> None:
        # Tags such as !!python/object would construct arbitrary objects elsewhere; refuse them.
        if event.tag not in (None, "!", standard_tag):
            raise YamlProblem(Problem(self.name, _line(event), "", f"unsupported YAML tag {event.tag}"))

    def _tagged(self, tag: str, value: str, event: Any) -> Any:
        converters: dict[str, Callable[[str], Any]] = {
            "tag:yaml.org,2002:int": int,
            "tag:yaml.org,2002:float": float,
            "tag:yaml.org,2002:null": lambda _v: None,
            "tag:yaml.org,2002:bool": lambda v: v.lower() == "true",
            "tag:yaml.org,2002:timestamp": resolve_plain,
        }
        if tag not in converters:
            raise YamlProblem(Problem(self.name, _line(event), "", f"unsupported YAML tag {tag}"))
        try:
            return converters[tag](value)
        except ValueError:
            raise YamlProblem(
                Problem(self.name, _line(event), "", f"{value!r} does not fit tag {tag}")
            ) from None


def _line(event: Any) -> int:
    """The 1-based line an event starts on."""
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else 0


def _describe(event: Any) -> str:
    if isinstance(event, yaml.SequenceStartEvent):
        return "a list"
    if isinstance(event, yaml.ScalarEvent):
        return f"the text {event.value[:40]!r}" if event.value else "empty"
    return "not a mapping"
