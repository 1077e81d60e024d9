"""The streaming YAML reader: located values, scalar typing and file-level problems."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from tracker.claimsfile.reader import ClaimsFileReader, LMap, LSeq, resolve_plain


def read(path: Path, max_bytes: int = 1 << 20) -> tuple[list, list[str]]:
    reader = ClaimsFileReader(path, max_bytes=max_bytes, display_name="claims.yaml")
    entries = list(reader)
    return entries, [str(p) for p in reader.problems]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        ("~", None),
        ("null", None),
        ("true", True),
        ("False", False),
        ("no", "no"),  # YAML 1.2 core: only true/false are booleans
        ("on", "on"),
        ("42", 42),
        ("-3", -3),
        ("0.8", 0.8),
        (".5", 0.5),
        ("1e-3", 0.001),
        ("2017-11-16", dt.date(2017, 11, 16)),
        ("2017-02-30", "2017-02-30"),  # not a date: left as text for the validator to name
        ("2017-11-16T10:00:00+00:00", dt.datetime(2017, 11, 16, 10, tzinfo=dt.UTC)),
        ("we believe", "we believe"),
        ("12 monkeys", "12 monkeys"),
    ],
)
def test_plain_scalars_follow_the_core_schema(text: str, value: object) -> None:
    assert resolve_plain(text) == value
    assert type(resolve_plain(text)) is type(value)


def test_entries_carry_lines_for_every_key(write_file: Callable[[str, str], Path]) -> None:
    path = write_file(
        "c.yaml",
        """
        reviewers:
          - handle: ann
            name: Ann
        claims:
          - id: one
            resolution:
              deadline: 2018-01-31
            tags: [a, b]
          - {id: two}
        """,
    )
    entries, problems = read(path)
    assert problems == []
    items = [e for e in entries if e.index is not None]
    assert [(e.section, e.index, e.line) for e in items] == [
        ("reviewers", 0, 2),
        ("claims", 0, 5),
        ("claims", 1, 9),
    ]
    first_claim = items[1].value
    assert isinstance(first_claim, LMap)
    assert first_claim.lines == {"id": 5, "resolution": 6, "tags": 8}
    assert first_claim["resolution"].lines["deadline"] == 7
    assert isinstance(first_claim["tags"], LSeq)
    assert first_claim["tags"] == ["a", "b"]
    assert first_claim["resolution"]["deadline"] == dt.date(2018, 1, 31)


def test_quoted_scalars_stay_text(write_file: Callable[[str, str], Path]) -> None:
    path = write_file("c.yaml", "claims:\n  - {id: '1', made_on: '2017-11-16', x: \"true\"}\n")
    entries, _ = read(path)
    claim = next(e.value for e in entries if e.index == 0)
    assert claim == {"id": "1", "made_on": "2017-11-16", "x": "true"}


def test_anchors_and_aliases(write_file: Callable[[str, str], Path]) -> None:
    path = write_file(
        "c.yaml",
        """
        claims:
          - id: a
            appeared_in: &article {url: 'https://example.org/a'}
          - id: b
            appeared_in: *article
        """,
    )
    entries, problems = read(path)
    assert problems == []
    claims = [e.value for e in entries if e.index is not None]
    assert claims[1]["appeared_in"] == {"url": "https://example.org/a"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "claims.yaml: file is empty; expected a mapping with reviewers, sources and claims"),
        (b"   \n# only a comment\n", "claims.yaml: file is empty"),
        (b"- a\n- b\n", "claims.yaml:1: top level is a list; expected a mapping"),
        (b"just text\n", "claims.yaml:1: top level is the text 'just text'; expected a mapping"),
        (b"claims:\n  - {id: a\n", "claims.yaml:3: invalid YAML"),
        (b"claims: [\n", "claims.yaml:2: invalid YAML"),
        (b"a: 1\n---\nb: 2\n", "claims.yaml:2: more than one YAML document"),
        (b"claims: []\nx: 1\nclaims: []\n", "claims.yaml:3: claims: duplicate key; first given on line 1"),
        (b"claims:\n  - {id: a, id: b}\n", "claims.yaml:2: id: duplicate key; first given on line 2"),
        (b"claims:\n  - !!python/object {}\n", "claims.yaml:2: unsupported YAML tag"),
        (b"claims:\n  - *nothing\n", "claims.yaml:2:"),
    ],
)
def test_file_level_problems_are_located(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "claims.yaml"
    path.write_bytes(content)
    _, problems = read(path)
    assert problems, "expected a problem"
    assert problems[0].startswith(expected), problems


def test_non_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_bytes("claims:\n  - id: a\n    quote: caf\u00e9\n".encode("latin-1"))
    _, problems = read(path)
    assert problems == ["claims.yaml:3: not UTF-8 text (byte 0xe9); save the file as UTF-8"]


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text("claims: []\n" + "# padding\n" * 200)
    entries, problems = read(path, max_bytes=100)
    assert entries == []
    assert len(problems) == 1
    assert "over the 100-byte limit (claims_max_bytes)" in problems[0]


def test_missing_file(tmp_path: Path) -> None:
    _, problems = read(tmp_path / "nope.yaml")
    assert problems == ["claims.yaml: cannot read file: No such file or directory"]


def test_progress_reaches_the_end(write_file: Callable[[str, str], Path]) -> None:
    path = write_file("c.yaml", "claims:\n" + "".join(f"  - {{id: c{i}}}\n" for i in range(600)))
    seen: list[tuple[int, int]] = []
    reader = ClaimsFileReader(
        path, max_bytes=1 << 20, progress=lambda done, total: seen.append((done, total))
    )
    assert len([e for e in reader if e.index is not None]) == 600
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
