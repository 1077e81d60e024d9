"""Export over an existing claims file: change what the database changed, keep the rest as written.

A team edits claims.yaml by hand. Its comments carry the reviewers' reasoning, and its
quoting, flow or block style, key order and blank lines are choices people made. So an
export over a file loads it in ruamel.yaml's round-trip mode, compares each entry with
the database's canonical entry and changes only the values that differ. Values are
compared for what they mean, not how they are written: a date and its text, 0.9 and
"0.9", a flow and a block list, tags in any order, and a field left to its default are
all alike. Entries new in the database are appended to their list in the style of their
neighbours. Entries found only in the file are kept and reported, just as an import
keeps (and reports) claims found only in the database: they may be work not yet imported.

ruamel.yaml writes a few unchanged things differently from how they were typed (an
escaped non-breaking space comes back as the raw character, a plain scalar that spans
lines comes back on one). A three-way merge of the text then puts back the original
lines wherever the database changed nothing, so an export of an unchanged database
rewrites the file byte for byte.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tokens import CommentToken

from tracker.errors import TrackerError

Path = tuple[str, ...]

# (section, the field that identifies an entry, what an entry is called in messages)
SECTIONS = (("reviewers", "handle", "reviewer"), ("sources", "slug", "source"), ("claims", "id", "claim"))

# Where a new key goes: after the keys that come before it in the canonical layout.
KEY_ORDER: dict[Path, tuple[str, ...]] = {
    ("reviewers",): ("handle", "name", "email", "timezone", "role"),
    ("sources",): ("slug", "name", "kind", "url", "notes", "member_of"),
    ("claims",): (
        "id",
        "source",
        "kind",
        "statement",
        "quote",
        "appeared_in",
        "made_on",
        "recorded_after_outcome",
        "probability",
        "probability_basis",
        "confidence",
        "resolution",
        "as_of",
        "reviewers",
        "tags",
        "progress",
        "outcome",
    ),
    ("claims", "appeared_in"): ("url", "title", "author", "published"),
    ("claims", "resolution"): ("criteria", "deadline", "window_start", "timezone"),
    ("claims", "outcome"): ("verdict", "resolved_on", "by", "evidence", "note"),
    ("claims", "progress"): ("status", "rated_on", "by", "evidence", "note"),
}

# The database keeps these as sets (the importer dedupes them), so their order is the file's.
SET_LIKE: frozenset[Path] = frozenset({("claims", "reviewers"), ("claims", "tags")})

# Values the importer fills in when the file leaves them out.
DEFAULTS: dict[Path, str] = {("reviewers", "timezone"): "UTC", ("reviewers", "role"): "reviewer"}

# A long text with no sibling to copy the style of is folded at this many characters.
FOLD_AT = 80
_MISSING: Any = object()
_PLAIN: Any = object()  # "no style to copy": a plain scalar


class NotMergeable(TrackerError):
    """The existing file cannot be read as a claims file, so its layout cannot be kept."""


@dataclass
class Merged:
    """The merged text, and the entries kept because only the file has them."""

    text: str
    only_in_file: list[str] = field(default_factory=list)


def merge_claims_file(
    text: str,
    name: str,
    reviewers: Sequence[Mapping[str, Any]],
    sources: Sequence[Mapping[str, Any]],
    claims: Iterable[Mapping[str, Any]],
) -> Merged:
    """The file `text` (called `name` in messages), changed where the database's entries differ."""
    yaml = YAML()  # round-trip mode: comments, styles, quotes and anchors survive
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never re-wrap what people wrote; folds are kept by position
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        mark = exc.problem_mark if isinstance(exc, MarkedYAMLError) else None
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = exc.problem if isinstance(exc, MarkedYAMLError) and exc.problem else str(exc)
        raise NotMergeable(f"{where}: invalid YAML: {problem}; {_ADVICE}") from None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise NotMergeable(f"{name}:1: the top level is not a mapping; {_ADVICE}")
    mapping, sequence, offset = _indentation(document)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)

    lines = text.splitlines()
    wanted = {"reviewers": list(reviewers), "sources": list(sources), "claims": list(claims)}
    # A first pass only looks: when nothing differs, the file is left exactly as it is.
    looking = _Merger(document, lines, name, look_only=True)
    try:
        for section, key_field, what in SECTIONS:
            looking.section(section, key_field, what, wanted[section])
    except _WouldChange:
        pass
    else:
        return Merged(text, looking.only_in_file)
    as_loaded = _dump(yaml, document)
    merger = _Merger(document, lines, name)
    for section, key_field, what in SECTIONS:
        merger.section(section, key_field, what, wanted[section])
    merged = _dump(yaml, document)
    return Merged(_keep_unchanged_lines(text, as_loaded, merged), merger.only_in_file)


class _WouldChange(Exception):
    """Raised by a look-only merge at the first change it would make."""


_ADVICE = "fix it, or export with --canonical to replace the file"


def _dump(yaml: YAML, document: Any) -> str:
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


def _indentation(document: CommentedMap) -> tuple[int, int, int]:
    """The file's (mapping, sequence, offset) indents; the canonical layout's when it shows none."""
    mapping, sequence, offset = 2, 2, 0
    for section, _, _ in SECTIONS:
        items = document.get(section)
        if isinstance(items, CommentedSeq) and items and not items.fa.flow_style():
            key_column = document.lc.key(section)[1]
            offset = items.lc.col - key_column
            sequence = items.lc.item(0)[1] - key_column
            break
    for section, _, _ in SECTIONS:
        for item in document.get(section) or []:
            if not isinstance(item, CommentedMap) or item.fa.flow_style():
                continue
            for key, value in item.items():
                if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
                    mapping = value.lc.key(next(iter(value)))[1] - item.lc.key(key)[1]
                    return mapping, max(sequence, offset + 2), offset
    return mapping, max(sequence, offset + 2), offset


class _Merger:
    """Walks the loaded document and brings it in line with the database's entries."""

    def __init__(self, document: CommentedMap, lines: list[str], name: str, look_only: bool = False) -> None:
        self.document = document
        self.lines = lines
        self.name = name
        self.look_only = look_only
        self.only_in_file: list[str] = []
        self._templates: dict[Path, Any] = {}

    def _change(self) -> None:
        """Called before each change to the document."""
        if self.look_only:
            raise _WouldChange

    # -- sections and entries ---------------------------------------------------------

    def section(self, section: str, key_field: str, what: str, wanted: Iterable[Mapping[str, Any]]) -> None:
        items = self.document.get(section)
        entries: Iterable[Mapping[str, Any]] = wanted
        if items is None:
            entries = list(wanted)
            if not entries:
                return
            items = CommentedSeq()
            self._change()
            if section in self.document:  # `claims:` with nothing after it
                self.document[section] = items
            else:
                self._add_section(section, items)
        elif not isinstance(items, CommentedSeq):
            line = self.document.lc.key(section)[0] + 1
            raise NotMergeable(f"{self.name}:{line}: {section}: expected a list; {_ADVICE}")
        elif not items:
            items.fa.set_block_style()  # `claims: []` grows into a list of entries
        where: dict[str, int] = {}
        for index, item in enumerate(items):
            if isinstance(item, CommentedMap) and isinstance(item.get(key_field), str):
                where.setdefault(item[key_field].strip(), index)
        seen: set[int] = set()
        new: list[Mapping[str, Any]] = []
        for entry in entries:
            index = where.get(entry[key_field], -1)
            if index < 0:
                new.append(entry)
            else:
                seen.add(index)
                self._mapping(items[index], entry, (section,), items[index])
        for index, item in enumerate(items):
            if index not in seen:
                line = items.lc.item(index)[0] + 1
                key = item.get(key_field) if isinstance(item, CommentedMap) else None
                label = f"{what} {key}" if isinstance(key, str) else f"{section}[{index}]"
                self.only_in_file.append(f"{self.name}:{line}: {label}")
        for entry in new:
            self._change()
            self._append(items, entry, section)

    def _add_section(self, section: str, items: CommentedSeq) -> None:
        order = [s for s, _, _ in SECTIONS]
        position = 0
        for index, key in enumerate(self.document):
            if key in order and order.index(key) < order.index(section):
                position = index + 1
        self.document.insert(position, section, items)

    def _append(self, items: CommentedSeq, entry: Mapping[str, Any], section: str) -> None:
        neighbour = items[-1] if items and isinstance(items[-1], CommentedMap) else None
        blanks = _take_trailing_blanks(neighbour) if neighbour is not None else 0
        items.append(self._new(entry, neighbour, (section,)))
        _give_trailing_blanks(items[-1], blanks)  # the list still ends as it did
        if neighbour is not None and self._blank_line_before(items, len(items) - 2):
            blank = CommentToken("\n", CommentMark(0), None)
            items.ca.items[len(items) - 1] = [None, [blank], None, None]

    def _blank_line_before(self, items: CommentedSeq, index: int) -> bool:
        """Whether the file separates item `index` from what precedes it with a blank line."""
        line = items.lc.item(index)[0] - 1
        while 0 <= line < len(self.lines) and self.lines[line].lstrip().startswith("#"):
            line -= 1
        return 0 <= line < len(self.lines) and not self.lines[line].strip()

    # -- mappings, sequences and scalars ----------------------------------------------

    def _mapping(self, node: CommentedMap, want: Mapping[str, Any], path: Path, entry: CommentedMap) -> None:
        for key in [k for k in node if k not in want]:
            here = (*path, key)
            if not _empty(node[key]) and not _equal(node[key], self._default(here, entry), here):
                self._change()
                last = key == list(node)[-1]
                blanks = _take_trailing_blanks(node) if last else 0
                del node[key]
                _give_trailing_blanks(node, blanks)
        for key, value in want.items():
            here = (*path, key)
            if key not in node:
                default = self._default(here, entry)
                if default is _MISSING or not _equal(default, value, here):
                    self._change()
                    position = self._position(node, key, path)
                    blanks = _take_trailing_blanks(node) if position == len(node) else 0
                    node.insert(position, key, self._new(value, self._like(node, value, here), here))
                    _give_trailing_blanks(node, blanks)
            elif not _equal(node[key], value, here):
                self._update(node, key, value, here, entry)

    def _like(self, node: CommentedMap, value: Any, path: Path) -> Any:
        """What a new value at `path` in `node` should look like: the file's other values
        at `path`, or failing those a list or mapping beside it (flow or block alike)."""
        template = self._template(path)
        if template is None and isinstance(value, list | Mapping):
            kind = CommentedSeq if isinstance(value, list) else CommentedMap
            template = next((v for v in node.values() if isinstance(v, kind) and v), None)
        return template

    def _position(self, node: CommentedMap, key: str, path: Path) -> int:
        order = KEY_ORDER.get(path, ())
        if key not in order:
            return len(node)
        position = 0
        for index, existing in enumerate(node):
            if existing in order and order.index(existing) < order.index(key):
                position = index + 1
        return position

    def _default(self, path: Path, entry: CommentedMap) -> Any:
        if path in DEFAULTS:
            return DEFAULTS[path]
        if path == ("claims", "as_of") and entry.get("kind") == "fact":
            return entry.get("made_on", _MISSING)  # facts are judged as of the day they were said
        if path == ("claims", "recorded_after_outcome"):
            return False  # the export leaves the mark out when it is not set
        return _MISSING

    def _update(self, node: CommentedMap, key: str, value: Any, path: Path, entry: CommentedMap) -> None:
        self._change()
        old = node[key]
        if isinstance(value, Mapping) and isinstance(old, CommentedMap):
            # An anchored article is shared by the claims that alias it: a changed title is
            # the same article's (the importer lets one URL have one description), a changed
            # URL is another article, which this claim alone now cites.
            if old.anchor.value is None or _equal(old.get("url"), value.get("url"), (*path, "url")):
                self._mapping(old, value, path, entry)
                return
        elif isinstance(value, list) and isinstance(old, CommentedSeq):
            self._sequence(old, value, path)
            return
        node[key] = self._new(value, old, path)

    def _sequence(self, items: CommentedSeq, want: list[Any], path: Path) -> None:
        template = items[0] if items else None
        if path in SET_LIKE:
            wanted = {_text(v) for v in want}
            for index in reversed(range(len(items))):
                if _text(items[index]) not in wanted:
                    del items[index]
            present = {_text(v) for v in items}
            items.extend(self._new(v, template, path) for v in want if _text(v) not in present)
            return
        # Ordered (evidence, progress): keep the items that stay, in the database's order.
        matcher = difflib.SequenceMatcher(
            None, [_meaning(v) for v in items], [_meaning(v) for v in want], False
        )
        for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
            if tag == "equal":
                continue
            del items[i1:i2]
            for offset, value in enumerate(want[j1:j2]):
                items.insert(i1 + offset, self._new(value, template, path))

    def _new(self, value: Any, template: Any, path: Path) -> Any:
        """A node for `value`, in the style of `template` (or of the file's other values at `path`)."""
        if template is None:
            template = self._template(path)
        if isinstance(value, Mapping):
            node = CommentedMap()
            if isinstance(template, CommentedMap) and template.fa.flow_style():
                node.fa.set_flow_style()
            for key, item in value.items():
                child = template.get(key) if isinstance(template, CommentedMap) else None
                node[key] = self._new(item, child, (*path, key))
            return node
        if isinstance(value, list):
            items = CommentedSeq()
            item_template: Any = _PLAIN
            if isinstance(template, CommentedSeq):
                if template.fa.flow_style():
                    items.fa.set_flow_style()
                item_template = template[0] if template else _PLAIN
            items.extend(self._new(item, item_template, path) for item in value)
            return items
        if isinstance(value, str):
            return _styled(value, template)
        return value

    def _template(self, path: Path) -> Any:
        """The last value at `path` in the file (e.g. some claim's outcome), whose style new values copy."""
        if path not in self._templates:
            found = None
            items = self.document.get(path[0])
            if isinstance(items, CommentedSeq):
                for item in reversed(items):
                    value: Any = item
                    for key in path[1:]:
                        value = value.get(key) if isinstance(value, CommentedMap) else None
                    if value is not None and not (isinstance(value, CommentedSeq) and not value):
                        found = value
                        break
            self._templates[path] = found
        return self._templates[path]


# -- the blank lines that end an entry ---------------------------------------------------
# ruamel.yaml keeps the blank lines after an entry as a comment on its last value. When a
# value is added after that one, or removed, they move to the new last value, so that
# the entry still ends where it did.


def _last_scalar(node: Any) -> tuple[Any, Any] | None:
    """The collection and key (or index) holding the last scalar or flow collection of `node`."""
    while True:
        if isinstance(node, CommentedMap) and node and not node.fa.flow_style():
            key = list(node)[-1]
            value = node[key]
            if isinstance(value, CommentedMap | CommentedSeq) and value and not value.fa.flow_style():
                node = value
                continue
            return node, key
        if isinstance(node, CommentedSeq) and node and not node.fa.flow_style():
            if isinstance(node[-1], CommentedMap | CommentedSeq) and node[-1]:
                node = node[-1]
                continue
            return node, len(node) - 1
        return None


def _block_scalar(value: Any) -> bool:
    return isinstance(value, FoldedScalarString | LiteralScalarString)


def _take_trailing_blanks(node: Any) -> int:
    """Remove the blank lines that follow `node`'s last value; returns how many there were."""
    found = _last_scalar(node)
    if found is None:
        return 0
    owner, key = found
    slot = 0 if isinstance(owner, CommentedSeq) else 2
    comments = owner.ca.items.get(key)
    token = comments[slot] if comments and len(comments) > slot else None
    if token is None or not isinstance(token.value, str):
        return 0
    text = token.value
    kept = text.rstrip("\n")
    # After a block scalar the comment starts on a line of its own; otherwise the first
    # newline ends the value's own line (or its trailing comment).
    line_end = 0 if _block_scalar(owner[key]) and not kept else 1
    blanks = len(text) - len(kept) - line_end
    if blanks <= 0:
        return 0
    if kept or line_end:
        token.value = kept + "\n" * line_end
    else:
        comments[slot] = None
    return blanks


def _give_trailing_blanks(node: Any, blanks: int) -> None:
    """Put `blanks` blank lines after `node`'s last value."""
    found = _last_scalar(node) if blanks > 0 else None
    if found is None:
        return
    owner, key = found
    line_end = "" if _block_scalar(owner[key]) else "\n"
    token = CommentToken(line_end + "\n" * blanks, CommentMark(0), None)
    if isinstance(owner, CommentedSeq):
        owner.ca.items[key] = [token, None]
    else:
        owner.ca.items[key] = [None, None, token, None]


def _styled(text: str, template: Any) -> Any:
    """`text` as a scalar quoted or folded like `template`."""
    if isinstance(template, bool) and text in ("true", "false"):
        return text == "true"  # `verdict: false` beside others written so (the importer reads it as text)
    if isinstance(template, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(text)
    if isinstance(template, SingleQuotedScalarString) and "\n" not in text:
        return SingleQuotedScalarString(text)
    if isinstance(template, LiteralScalarString) or "\n" in text:
        return LiteralScalarString(text)
    if isinstance(template, FoldedScalarString):
        return _folded(text, _fold_width(template))
    if template is None and len(text) > FOLD_AT:
        return _folded(text, FOLD_AT)
    return text


def _fold_width(template: FoldedScalarString) -> int:
    """The longest line of a folded text, which a new text in its place should not exceed."""
    cuts = [-1, *getattr(template, "fold_pos", []), len(template)]
    return max([FOLD_AT // 2, *(int(b) - int(a) - 1 for a, b in itertools.pairwise(cuts))])


def _folded(text: str, width: int) -> FoldedScalarString:
    """A `>-` scalar broken at single spaces so that no line is longer than `width` (unless a word is)."""
    folded: FoldedScalarString = FoldedScalarString(text)
    positions: list[int] = []
    start = 0
    last_space = -1
    for index, char in enumerate(text):
        # Only a space between two non-spaces folds back into a space when read.
        if char == " " and 0 < index < len(text) - 1 and text[index - 1] != " " and text[index + 1] != " ":
            if index - start > width and last_space > start:
                positions.append(last_space)
                start = last_space + 1
            last_space = index
    if len(text) - start > width and last_space > start:
        positions.append(last_space)
    # The positions round-trip mode records for a loaded `>` scalar; the emitter folds there.
    folded.fold_pos = positions  # type: ignore[attr-defined]
    return folded


# -- comparing values for what they mean -----------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or value is _MISSING or (isinstance(value, str | list | dict) and not value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _meaning(value: Any) -> Any:
    """A hashable form of a list item that is alike for alike values (a progress entry's
    mapping, with its dates as text and empty fields left out, or a scalar's text)."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _meaning(v)) for k, v in value.items() if not _empty(v)))
    if isinstance(value, list):
        return tuple(_meaning(v) for v in value)
    return _text(value)


def _equal(found: Any, wanted: Any, path: Path) -> bool:
    """Whether the file's value means what the database's value means."""
    if _empty(wanted) or _empty(found):
        return _empty(wanted) and _empty(found)
    if isinstance(wanted, Mapping):
        return isinstance(found, Mapping) and all(
            _equal(found.get(k, _MISSING), wanted.get(k, _MISSING), (*path, k)) for k in {*found, *wanted}
        )
    if isinstance(wanted, list):
        if not isinstance(found, list):
            return False
        if path in SET_LIKE:
            return {_text(v) for v in found} == {_text(v) for v in wanted}
        return len(found) == len(wanted) and all(
            _equal(f, w, path) for f, w in zip(found, wanted, strict=True)
        )
    if isinstance(wanted, bool) or isinstance(found, Mapping | list):
        return False
    if isinstance(wanted, int | float):
        if isinstance(found, bool):
            return False
        try:
            return float(found) == float(wanted)
        except (TypeError, ValueError):
            return False
    if isinstance(wanted, dt.date):
        if isinstance(found, dt.datetime):
            return False
        if isinstance(found, dt.date):
            return found == wanted
        try:
            return dt.date.fromisoformat(str(found).strip()) == wanted
        except ValueError:
            return False
    if isinstance(found, float):
        return False  # `note: 1.50` is not the text "1.5"
    return _text(found) == _text(wanted)


# -- putting back the lines nothing changed --------------------------------------------


def _keep_unchanged_lines(original: str, as_loaded: str, merged: str) -> str:
    """`merged`, with the original's text wherever ruamel re-wrote a line the merge left alone.

    `as_loaded` is ruamel's dump of the file before any change. Lines where it differs
    from the original are ruamel's way of writing the same thing; where the merge did
    not touch them, the original text goes back in.
    """
    if as_loaded == original:
        return merged
    if as_loaded == merged:
        return original
    old = original.splitlines(keepends=True)
    dumped = as_loaded.splitlines(keepends=True)
    new = merged.splitlines(keepends=True)

    # Blocks of dumped lines and the original lines they stand for.
    starts: list[int] = []  # first dumped line of each block
    ends: list[int] = []
    texts: list[list[str]] = []
    leading: list[str] = []  # original lines before the first dumped one (e.g. a `---`)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, dumped, old).get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                starts.append(i1 + k)
                ends.append(i1 + k + 1)
                texts.append([old[j1 + k]])
        elif i1 == i2:  # lines only the original has: they go with the line before them
            (texts[-1] if texts else leading).extend(old[j1:j2])
        else:
            starts.append(i1)
            ends.append(i2)
            texts.append(old[j1:j2])
    block = [0] * len(dumped)
    for number, (start, end) in enumerate(zip(starts, ends, strict=True)):
        for k in range(start, end):
            block[k] = number

    opcodes = difflib.SequenceMatcher(None, dumped, new).get_opcodes()
    touched: set[int] = set()
    for _, i1, i2, _, _ in (op for op in opcodes if op[0] != "equal"):
        touched.update(block[k] for k in range(i1, i2))
        if i1 == i2 and 0 < i1 < len(dumped) and block[i1 - 1] == block[i1]:
            touched.add(block[i1])  # an insertion inside a block rewrites it
    out: list[str] = []
    if not (touched and 0 in touched):
        out.extend(leading)
    for tag, i1, i2, j1, j2 in opcodes:
        if tag != "equal":
            out.extend(new[j1:j2])
            continue
        for k in range(i1, i2):
            number = block[k]
            if number in touched:
                out.append(dumped[k])
            elif k == starts[number]:
                out.extend(texts[number])
    result = "".join(out)
    # The merge must never change what the file says: if it would, keep ruamel's text.
    return result if _load(result) == _load(merged) else merged


def _load(text: str) -> Any:
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError:
        return _MISSING
