"""End to end in Chromium: two reviewers disagree, blind; an admin adjudicates; the public
scorecard shows the adjudicated verdict and the double-review note; /audit shows every step."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.browser import browser, shoot, sign_in, watch
from support.web import FAST_HASHER, axe_violations, make_app, seed, served

from tracker import services
from tracker.accounts import passwords
from tracker.app import App
from tracker.scorecards.build import build_site
from tracker.web import create_app

__all__ = ["browser"]

SECRET = "Ada's blind reasoning 5e1d"


@pytest.fixture
def two_app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)
    app = make_app(db_url, tmp_path, "[review]", "verdicts_required = 2")
    yield app
    app.close()


def _give(page: Any, verdict: str, evidence: str, note: str, button: str) -> None:
    page.get_by_label(verdict, exact=True).check()
    page.get_by_label("Evidence URLs, one per line (http or https)").fill(evidence)
    page.get_by_label("Note", exact=False).fill(note)
    page.get_by_role("button", name=button).click()


def test_two_reviewers_disagree_and_an_admin_adjudicates_in_chromium(
    browser: Any, two_app: App, now: dt.datetime, tmp_path: Path
) -> None:
    scene = seed(two_app, now, statement="Rates will fall by March.")
    with two_app.begin() as session:
        services.assign(session, scene.overdue, scene.unassigned)
        build_site(session, Path(two_app.settings.report.out_dir), settings=two_app.settings, now=now, jobs=1)
    shots = tmp_path / "screens"
    shots.mkdir()
    problems: list[str] = []
    claim = f"/claims/{scene.overdue}"
    with served(create_app(two_app, clock=lambda: now, rebuild=True)) as base:
        ada = watch(browser.new_context().new_page(), problems)
        sign_in(ada, base, scene.assigned)
        ada.goto(base + claim)
        _give(ada, "true", "https://example.org/ada", SECRET, "Record the verdict")
        assert "First of two verdicts recorded" in ada.locator("[role=status]").inner_text()

        # Bob is asked for the second verdict and cannot see the first.
        bob = watch(browser.new_context().new_page(), problems)
        sign_in(bob, base, scene.unassigned)
        assert bob.locator("#second .queue-item").count() == 1
        bob.locator("#second .queue-item").get_by_role("link").click()
        bob.wait_for_url(base + claim)
        assert SECRET not in bob.content() and "example.org/ada" not in bob.content()
        assert bob.locator("#resolve-heading").inner_text() == "Give the second verdict"
        shoot(bob, shots, "second-verdict")
        _give(bob, "false", "https://example.org/bob", "No cut happened.", "Record the verdict")
        assert "Disputed: ada said true, bob said false" in bob.locator("[role=status]").inner_text()

        # The admin finds it among the disputes, sees both verdicts and settles it.
        boss = watch(browser.new_context().new_page(), problems)
        sign_in(boss, base, scene.admin)
        boss.locator("#disputed .queue-item").get_by_role("link").click()
        boss.wait_for_url(base + claim)
        history = boss.locator("section:has(#verdicts-heading)").inner_text()
        assert SECRET in history and "No cut happened." in history
        shoot(boss, shots, "adjudicate")
        _give(boss, "false", "https://example.org/boss", "The minutes show no cut.", "Adjudicate")
        assert "Adjudicated rates-fall: false" in boss.locator("[role=status]").inner_text()

        # The public scorecard catches up (rebuilt in the background).
        entry = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            boss.goto(f"{base}/scorecards/sources/{scene.source}.html")
            entry = boss.locator(f"#claim-{scene.overdue}").inner_text()
            if "Double-reviewed" in entry:
                break
            time.sleep(0.5)
        assert "Did not come true" in entry
        assert (
            "Double-reviewed: the verdicts differed (Ada: Came true; Bob: Did not come true); Boss adjudicated"
            in (" ".join(entry.split()))
        )
        tally = boss.locator(".double-review-tally").inner_text()
        assert tally == (
            "Double review: 1 of its 2 verdicts was double-reviewed; the reviewers agreed on 0 (0%)."
        )

        # The audit log has every step: who gave which verdict, and what each did to the claim.
        boss.goto(f"{base}/audit?claim={scene.overdue}")
        rows = [" ".join(r.inner_text().split()) for r in boss.locator("table.audit tbody tr").all()]
        verdicts = [r for r in rows if "verdict.add" in r]
        assert len(verdicts) == 3, rows
        for who, role in (("boss", "adjudication"), ("bob", "second"), ("ada", "first")):
            assert any(who in r and f"role {role}" in r for r in verdicts), (who, role, verdicts)
        statuses = [r for r in rows if "claim.update" in r]
        for status in ("awaiting", "disputed", "resolved"):
            assert any(f"status {status}" in r for r in statuses), (status, statuses)

        checker = browser.new_context(bypass_csp=True).new_page()
        sign_in(checker, base, scene.admin)
        checker.goto(f"{base}/reviewers/agreement")
        assert checker.locator("table.agreement").is_visible()
        found = {"agreement": axe_violations(checker)}
        checker.goto(base + claim)
        found["claim"] = axe_violations(checker)
        assert found == {"agreement": [], "claim": []}
    assert problems == [], problems
