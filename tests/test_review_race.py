"""Two second verdicts at once: the claim row lock lets one in, and the other is refused,
so a round never holds three verdicts (real processes, both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.race import Outcome, rounds
from test_concurrency import EVIDENCE, NOW, Races, history, seed

from tracker.config import Settings
from tracker.models import Claim

CLAIMS = 5


def awaiting_file() -> str:
    """CLAIMS predictions, each with ann's first verdict (true) awaiting a second."""
    lines = ["reviewers:"]
    lines += [f"  - {{handle: {h}, name: {h.title()}, email: {h}@example.org}}" for h in ("ann", "bo", "cy")]
    lines += ["sources:", "  - {slug: src, name: Source, kind: outlet}", "claims:"]
    for i in range(CLAIMS):
        lines += [
            f"  - id: d-{i}",
            "    source: src",
            "    kind: fact",
            f"    statement: Fact {i}.",
            f"    quote: Fact {i}.",
            "    made_on: 2020-01-01",
            "    reviews:",
            "      - {verdict: 'true', resolved_on: 2020-02-01, by: ann, evidence: ['https://example.org/e']}",
        ]
    return "\n".join(lines) + "\n"


def test_two_second_verdicts_at_once_make_one(
    backend: str,
    db_url: str,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    races = Races("second-verdict", backend, tmp_path, db_url)
    races.env["TRACKER_REVIEW_VERDICTS_REQUIRED"] = "2"
    seed(session_factory, settings, tmp_path / "seed.yaml", awaiting_file())
    for n in range(min(rounds(2), CLAIMS)):
        key = f"d-{n}"

        def check(outcomes: list[Outcome], key: str = key) -> list[str]:
            with session_factory() as session:
                count = history(session, key)
                claim = session.query(Claim).filter_by(key=key).one()
                state = (claim.status, claim.verdict)
            # bo agrees (resolved) or cy differs (disputed), whichever came first; the other is refused.
            wrong = [f"{count} resolutions, not 2"] if count != 2 else []
            if state not in (("resolved", "true"), ("disputed", None)):
                wrong.append(f"claim is {state}")
            refused = [
                o for o in outcomes if o.code == 1 and ("disputed" in o.output or "resolved by" in o.output)
            ]
            return wrong + (
                [] if len(refused) == 1 else [f"expected one refusal: {[o.output for o in outcomes]}"]
            )

        races.round(
            [
                ["resolve", key, "--verdict", verdict, "--by", by, "--now", NOW, "--evidence", EVIDENCE]
                for verdict, by in (("true", "bo"), ("false", "cy"))
            ],
            check,
            expect_codes=[0, 1],
        )
    races.report(capsys)
