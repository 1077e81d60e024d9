"""Hostile and odd text in a claims file: control characters, over-long values, false addresses.

Each file here was once accepted by SQLite and refused by PostgreSQL with a bare
database message (or accepted by both and broke the feed or the mail later); now
both backends refuse it the same way, naming file, line and field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.claimsfile import ImportReport, import_claims
from tracker.config import Settings
from tracker.errors import InvalidInput
from tracker.models import Appearance, Claim, Reviewer, Source
from tracker.textrules import max_length

Run = Callable[[Path], ImportReport]


@pytest.fixture
def run_import(session_factory: sessionmaker[Session], settings: Settings, now: dt.datetime) -> Run:
    def run(path: Path) -> ImportReport:
        with session_factory.begin() as session:
            return import_claims(session, path, settings=settings, now=now, display_name="claims.yaml")

    return run


def claims_file(
    *,
    name: str = "Ann Lee",
    email: str = "ann@example.org",
    handle: str = "ann",
    slug: str = "sino",
    source_name: str = "SinoInsider",
    statement: str = "Kim will tone down.",
    quote: str = "we believe",
    title: str = "Trump Hints",
    author: str = "Staff",
    confidence: str = "we believe",
    note: str = "Hwasong-15.",
    tag: str = "north-korea",
    key: str = "kim",
) -> str:
    """A one-claim file whose text fields are double-quoted YAML, so escapes such as \\e work."""

    def q(text: str) -> str:
        return '"' + text + '"'

    return f"""\
reviewers:
  - handle: {q(handle)}
    name: {q(name)}
    email: {q(email)}
sources:
  - slug: {q(slug)}
    name: {q(source_name)}
    kind: outlet
claims:
  - id: {q(key)}
    source: {q(slug)}
    kind: prediction
    statement: {q(statement)}
    quote: {q(quote)}
    appeared_in: {{url: 'https://sinoinsider.com/a', title: {q(title)}, author: {q(author)}}}
    made_on: 2017-11-16
    confidence: {q(confidence)}
    resolution: {{criteria: No ICBM test., deadline: 2018-01-31}}
    reviewers: [{q(handle)}]
    tags: [{q(tag)}]
    outcome: {{verdict: false, resolved_on: 2017-11-29, by: {q(handle)}, evidence: ['https://bbc.com/x'], note: {q(note)}}}
"""


def problems(run: Run, path: Path) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        run(path)
    found = [str(p) for p in caught.value.problems]
    assert not any("unexpected" in p for p in found)
    return found


def rows(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return sum(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Reviewer, Source, Claim)
        )


@pytest.mark.parametrize(
    ("field", "escaped", "expected"),
    [
        (
            "statement",
            "Kim \\e[31m will",
            "claims.yaml:13: claims[0].statement: contains a control character "
            "(U+001B) at position 5; only tab and newline are allowed",
        ),
        (
            "note",
            "NUL\\0here",
            "claims.yaml:21: claims[0].outcome.note: contains a control character (U+0000) at position 4",
        ),
        (
            "quote",
            "\\x01start",
            "claims.yaml:14: claims[0].quote: contains a control character (U+0001) at position 1",
        ),
        (
            "statement",
            "odd \\uFFFE",
            "claims.yaml:13: claims[0].statement: contains a control character (U+FFFE)",
        ),
        (
            "statement",
            "dos\\r\\nline",
            "claims.yaml:13: claims[0].statement: contains a control character (U+000D, carriage return)",
        ),
        (
            "name",
            "Ann\\nLee",
            "claims.yaml:3: reviewers[0].name: contains a control character (U+000A, newline) "
            "at position 4; this field takes one line, no tab",
        ),
        ("source_name", "Si\\x85no", "claims.yaml:7: sources[0].name: contains a control character (U+0085"),
        (
            "title",
            "T\\x7f",
            "claims.yaml:15: claims[0].appeared_in.title: contains a control character (U+007F",
        ),
    ],
)
def test_control_characters_are_refused(
    run_import: Run,
    session_factory: sessionmaker[Session],
    write_file: Callable[[str, str], Path],
    field: str,
    escaped: str,
    expected: str,
) -> None:
    found = problems(run_import, write_file("claims.yaml", claims_file(**{field: escaped})))
    assert any(p.startswith(expected) for p in found), found
    assert rows(session_factory) == 0


def test_a_statement_keeps_its_tabs_and_newlines(
    run_import: Run, session_factory: sessionmaker[Session], write_file: Callable[[str, str], Path]
) -> None:
    run_import(write_file("claims.yaml", claims_file(statement="one\\n\\ttwo")))
    with session_factory() as session:
        assert session.scalar(select(Claim.statement)) == "one\n\ttwo"


@pytest.mark.parametrize(
    ("field", "column", "where"),
    [
        ("name", Reviewer.name, "3: reviewers[0].name"),
        ("handle", Reviewer.handle, "2: reviewers[0].handle"),
        ("slug", Source.slug, "6: sources[0].slug"),
        ("source_name", Source.name, "7: sources[0].name"),
        ("title", Appearance.title, "15: claims[0].appeared_in.title"),
        ("author", Appearance.author, "15: claims[0].appeared_in.author"),
        ("key", Claim.key, "10: claims[0].id"),
    ],
)
def test_text_longer_than_its_column_is_refused_on_every_backend(
    run_import: Run,
    session_factory: sessionmaker[Session],
    write_file: Callable[[str, str], Path],
    field: str,
    column: object,
    where: str,
) -> None:
    limit = max_length(column)  # type: ignore[arg-type]
    assert limit is not None
    found = problems(run_import, write_file("claims.yaml", claims_file(**{field: "a" * (limit + 1)})))
    assert any(
        p.startswith(f"claims.yaml:{where}: ") and f"the limit is {limit:,}" in p for p in found
    ) or any(
        p.startswith(f"claims.yaml:{where}: ") and f"longer than {limit} characters" in p for p in found
    ), found
    assert rows(session_factory) == 0


def test_text_as_long_as_its_column_is_stored_on_every_backend(
    run_import: Run, session_factory: sessionmaker[Session], write_file: Callable[[str, str], Path]
) -> None:
    def full(column: object) -> str:
        limit = max_length(column)  # type: ignore[arg-type]
        assert limit is not None
        return "a" * limit

    text = claims_file(
        name=full(Reviewer.name),
        handle=full(Reviewer.handle),
        slug=full(Source.slug),
        source_name=full(Source.name),
        title=full(Appearance.title),
        author=full(Appearance.author),
        key=full(Claim.key),
        tag=full(Claim.tags.property.mapper.class_.tag),
    )
    run_import(write_file("claims.yaml", text))
    with session_factory() as session:
        assert len(session.scalar(select(Reviewer.name)) or "") == max_length(Reviewer.name)


def test_a_confidence_over_its_column_is_refused(
    run_import: Run, write_file: Callable[[str, str], Path]
) -> None:
    found = problems(run_import, write_file("claims.yaml", claims_file(confidence="very " * 41)))
    assert any(p.startswith("claims.yaml:17: claims[0].confidence: is ") for p in found), found


@pytest.mark.parametrize(
    "email",
    [
        "<script>x</script>@example.org",
        "ann@@example.org",
        "ann@example",
        "ann lee@example.org",
        "ann@exämple.org",
    ],
)
def test_false_addresses_are_refused_at_import(
    run_import: Run,
    session_factory: sessionmaker[Session],
    write_file: Callable[[str, str], Path],
    email: str,
) -> None:
    found = problems(run_import, write_file("claims.yaml", claims_file(email=email)))
    assert any(p.startswith(f"claims.yaml:4: reviewers[0].email: {email!r} is not") for p in found), found
    assert rows(session_factory) == 0


@pytest.mark.parametrize("raw", [b"\x1b", b"\x00", b"\xef\xbf\xbe", b"\x07"])
def test_a_raw_control_character_in_the_file_is_located(run_import: Run, tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "claims.yaml"
    text = claims_file(statement="Kim will \u00e9 tone down.").encode("utf-8")
    # Line 13 holds the statement: put the raw byte after "Kim will é " (a multi-byte character).
    path.write_bytes(text.replace("Kim will \u00e9 ".encode(), "Kim will \u00e9 ".encode() + raw))
    [problem] = problems(run_import, path)
    code = ord(raw.decode("utf-8"))
    assert problem == (
        f"claims.yaml:13: control character U+{code:04X} at column 28; only tab and newline are allowed"
    )


def test_verdicts_in_the_file_take_any_case(
    run_import: Run, session_factory: sessionmaker[Session], write_file: Callable[[str, str], Path]
) -> None:
    run_import(write_file("claims.yaml", claims_file().replace("verdict: false", "verdict: 'False'")))
    with session_factory() as session:
        assert session.scalar(select(Claim.verdict)) == "false"
