"""Concurrent writers, as real processes started at the same instant, on both backends.

Issue 11: two imports of one changed file doubled its verdict history on PostgreSQL;
two imports of new reviewers collided on their unique handle; two `tracker resolve`
of one claim left its cached verdict different from the latest history entry; and
SQLite failed at once with "database is locked" instead of waiting. Each race runs a
few rounds here (TRACKER_TEST_RACE_ROUNDS=N runs N of each, for the figures);
every round must end with both processes successful and the histories whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.race import Outcome, race, rounds, tracker_env

from tracker.claimsfile import import_claims
from tracker.config import Settings
from tracker.db import unit_of_work
from tracker.models import Claim, Resolution, Reviewer

CLAIMS = 100
CHANGED = 25
NOW = "2026-11-23T12:00:00Z"
EVIDENCE = "https://example.org/r"


def claims_file(prefix: str, *, handles: tuple[str, ...] = ("ann",), flipped: int = 0) -> str:
    """A claims file of CLAIMS resolved facts `prefix-N`; the first `flipped` are false, the rest true."""
    lines = ["reviewers:"]
    lines += [f"  - {{handle: {h}, name: {h.title()}, email: {h}@example.org}}" for h in handles]
    lines += ["sources:", f"  - {{slug: {prefix}-src, name: Source {prefix}, kind: outlet}}", "claims:"]
    for i in range(CLAIMS):
        verdict = "false" if i < flipped else "true"
        lines += [
            f"  - id: {prefix}-{i}",
            f"    source: {prefix}-src",
            "    kind: fact",
            f"    statement: Fact number {i} of {prefix}.",
            f"    quote: Fact {i}.",
            "    made_on: 2020-01-01",
            "    probability: 0.8",
            "    as_of: 2020-01-01",
            f"    reviewers: [{handles[0]}]",
            f"    outcome: {{verdict: {verdict}, resolved_on: 2020-02-01, by: {handles[0]},"
            " evidence: ['https://example.org/e']}",
        ]
    return "\n".join(lines) + "\n"


def seed(sessions: sessionmaker[Session], settings: Settings, path: Path, content: str) -> None:
    """Import `content` in-process: the state a race starts from."""
    path.write_text(content)
    with unit_of_work(sessions) as session:
        import_claims(session, path, settings=settings, now=dt.datetime.fromisoformat(NOW))


def mismatched(session: Session, pattern: str) -> list[str]:
    """Claims whose key is LIKE `pattern` and whose cached verdict is not their latest history entry's."""
    latest = (
        select(Resolution.claim_id, func.max(Resolution.id).label("id"))
        .group_by(Resolution.claim_id)
        .subquery()
    )
    rows = session.execute(
        select(Claim.key, Claim.verdict, Resolution.verdict)
        .join(latest, latest.c.claim_id == Claim.id)
        .join(Resolution, Resolution.id == latest.c.id)
        .where(Claim.key.like(pattern))
    )
    return [f"{key}: cached {cached}, latest {last}" for key, cached, last in rows if cached != last]


def history(session: Session, pattern: str) -> int:
    """Verdict history entries of the claims whose key is LIKE `pattern`."""
    return (
        session.scalar(
            select(func.count()).select_from(Resolution).join(Claim).where(Claim.key.like(pattern))
        )
        or 0
    )


class Races:
    """Runs rounds of one race and keeps what went wrong in each."""

    def __init__(self, name: str, backend: str, tmp_path: Path, db_url: str) -> None:
        self.name, self.backend = name, backend
        self.workdir = tmp_path
        self.env = tracker_env(db_url, tmp_path)
        self.failures: list[str] = []
        self.rounds = 0

    def round(
        self,
        commands: list[list[str]],
        check: Callable[[list[Outcome]], list[str]],
        expect_codes: list[int] | None = None,
    ) -> None:
        """Race `commands`; the round fails unless they exit with `expect_codes` (any order) and `check` finds nothing."""
        self.rounds += 1
        outcomes = race(commands, self.env, self.workdir)
        codes = sorted(o.code for o in outcomes)
        wanted = sorted(expect_codes or [0] * len(commands))
        wrong = [] if codes == wanted else [f"exit codes {codes}: {[o.output.strip() for o in outcomes]}"]
        wrong += check(outcomes)
        if wrong:
            self.failures.append(f"round {self.rounds}: " + "; ".join(wrong))

    def report(self, capsys: pytest.CaptureFixture[str]) -> None:
        with capsys.disabled():
            print(f"\n[race {self.name} {self.backend}] {self.rounds} rounds, {len(self.failures)} failed")
            for failure in self.failures[:3]:
                print(f"  {failure[:300]}")
        assert self.failures == []


def test_two_imports_of_one_changed_file_append_each_change_once(
    backend: str,
    db_url: str,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    races = Races("import-same-file", backend, tmp_path, db_url)
    for n in range(rounds(1)):
        prefix = f"r{n}"
        seed(session_factory, settings, tmp_path / f"{prefix}-base.yaml", claims_file(prefix))
        changed = tmp_path / f"{prefix}-changed.yaml"
        changed.write_text(claims_file(prefix, flipped=CHANGED))

        def check(_: list[Outcome], prefix: str = prefix) -> list[str]:
            with session_factory() as session:
                count = history(session, f"{prefix}-%")
                wrong = mismatched(session, f"{prefix}-%")
            expected = CLAIMS + CHANGED
            return ([f"{count} resolutions, not {expected}"] if count != expected else []) + wrong[:3]

        command = ["import", str(changed), "--now", NOW]
        races.round([command, command], check)
    races.report(capsys)


def test_two_imports_of_new_reviewers_both_succeed(
    backend: str,
    db_url: str,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    races = Races("import-new-reviewers", backend, tmp_path, db_url)
    for n in range(rounds(1)):
        handles = (f"ann{n}", f"bo{n}")
        files = [tmp_path / f"r{n}{side}.yaml" for side in "ab"]
        for side, path in zip("ab", files, strict=True):
            path.write_text(claims_file(f"r{n}{side}", handles=handles))

        def check(_: list[Outcome], handles: tuple[str, ...] = handles, n: int = n) -> list[str]:
            with session_factory() as session:
                found = session.scalar(select(func.count()).where(Reviewer.handle.in_(handles)))
                claims = session.scalar(select(func.count()).where(Claim.key.like(f"r{n}_-%")))
            wrong = [f"{found} reviewers, not 2"] if found != 2 else []
            return wrong + ([f"{claims} claims, not {2 * CLAIMS}"] if claims != 2 * CLAIMS else [])

        races.round([["import", str(path), "--now", NOW] for path in files], check)
    races.report(capsys)


def test_two_resolves_of_one_claim_keep_the_cached_verdict_latest(
    backend: str,
    db_url: str,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    races = Races("resolve", backend, tmp_path, db_url)
    seed(session_factory, settings, tmp_path / "seed.yaml", claims_file("c"))
    for n in range(rounds(2)):
        key = f"c-{n}"

        def check(_: list[Outcome], key: str = key) -> list[str]:
            with session_factory() as session:
                count = history(session, key)
                wrong = mismatched(session, key)
            return ([f"{count} resolutions, not 3"] if count != 3 else []) + wrong

        races.round(
            [
                [*("resolve", key, "--verdict", verdict, "--by", "ann", "--now", NOW), "--evidence", EVIDENCE]
                for verdict in ("false", "mostly-false")
            ],
            check,
        )
    races.report(capsys)


def test_two_unresolves_of_one_claim_reopen_it_once(
    backend: str,
    db_url: str,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    races = Races("unresolve", backend, tmp_path, db_url)
    seed(session_factory, settings, tmp_path / "seed.yaml", claims_file("u"))
    for n in range(rounds(2)):
        key = f"u-{n}"

        def check(outcomes: list[Outcome], key: str = key) -> list[str]:
            with session_factory() as session:
                count = history(session, key)
                wrong = mismatched(session, key)
            # The second reads what the first wrote, and refuses: the claim is open again.
            refused = [o for o in outcomes if o.code == 1 and f"claim {key!r} is not resolved" in o.output]
            said = [] if len(refused) == 1 else [f"expected one refusal, got {[o.output for o in outcomes]}"]
            return ([f"{count} resolutions, not 2"] if count != 2 else []) + wrong + said

        command = ["unresolve", key, "--by", "ann", "--note", "Withdrawn.", "--now", NOW]
        races.round([command, command], check, expect_codes=[0, 1])
    races.report(capsys)


def test_two_assigns_of_one_reviewer_assign_once(
    backend: str,
    db_url: str,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    races = Races("assign", backend, tmp_path, db_url)
    seed(session_factory, settings, tmp_path / "seed.yaml", claims_file("a", handles=("ann", "bo")))
    for n in range(rounds(1)):
        key = f"a-{n}"

        def check(outcomes: list[Outcome], key: str = key) -> list[str]:
            said = sorted(o.output.strip() for o in outcomes)
            expected = [f"assigned bo to {key}", f"bo was already assigned to {key}"]
            return [] if said == expected else [f"said {said}"]

        races.round([["assign", key, "bo"], ["assign", key, "bo"]], check)
    races.report(capsys)
