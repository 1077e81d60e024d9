"""Double review in the web app: the blind second verdict, the dispute queue, adjudication,
and the agreement page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from flask import Flask
from flask.testing import FlaskClient
from support.web import (
    FAST_HASHER,
    ORIGIN,
    Scene,
    csrf,
    hidden_fields,
    make_app,
    make_web,
    seed,
    signed_in,
    soup,
    text,
)

from tracker import services
from tracker.accounts import passwords
from tracker.app import App
from tracker.services import get_claim

SECRET = "ada's private reasoning 91c2"
EVIDENCE = "https://example.org/evidence"


@pytest.fixture
def two_app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """An App that asks for two verdicts on every claim."""
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)
    app = make_app(db_url, tmp_path, "[review]", "verdicts_required = 2")
    yield app
    app.close()


@pytest.fixture
def scene(two_app: App, now: dt.datetime) -> Scene:
    """The usual scene, with bob assigned to the overdue claim too."""
    found = seed(two_app, now)
    with two_app.begin() as session:
        services.assign(session, found.overdue, found.unassigned)
    return found


@pytest.fixture
def web2(two_app: App, now: dt.datetime) -> Flask:
    return make_web(two_app, now)


def _at(page: BeautifulSoup, selector: str) -> Tag:
    found = page.select_one(selector)
    assert found is not None, selector
    return found


def _post(client: FlaskClient, path: str, action: str, hidden: dict[str, str], **data: str) -> str:
    response = client.post(f"{path}/{action}", data={**hidden, **data}, headers={"Origin": ORIGIN})
    assert response.status_code in (302, 400, 403, 409), response.status_code
    return f"{response.status_code} {response.get_data(as_text=True)}"


def test_two_reviewers_disagree_and_an_admin_adjudicates(web2: Flask, two_app: App, scene: Scene) -> None:
    ada, bob, boss = (signed_in(web2, h) for h in (scene.assigned, scene.unassigned, scene.admin))
    path = f"/claims/{scene.overdue}"
    result = _post(
        ada, path, "resolve", hidden_fields(ada, path), verdict="true", evidence=EVIDENCE, note=SECRET
    )
    assert result.startswith("302")
    assert "First of two verdicts recorded" in text(ada.get(path))

    # Blind: bob sees neither the verdict nor its note; ada sees hers and has no form.
    html = bob.get(path).get_data(as_text=True)
    assert SECRET not in html and EVIDENCE not in html
    page = soup(bob.get(path))
    assert "awaiting a second verdict" in _at(page, "dl.facts").get_text()
    assert _at(page, "#resolve-heading").get_text() == "Give the second verdict"
    assert "Needs a second verdict (1)" in text(bob.get("/"))
    mine = soup(ada.get(path))
    assert SECRET in mine.get_text() and mine.select_one("#resolve") is None
    assert "Needs a second verdict" not in text(ada.get("/"))

    result = _post(
        bob, path, "resolve", hidden_fields(bob, path), verdict="false", evidence=EVIDENCE, note="No."
    )
    assert result.startswith("302")
    assert "Disputed: ada said true, bob said false" in text(bob.get(path))
    assert SECRET in text(bob.get(path))  # both verdicts are in: no longer blind
    assert soup(bob.get(path)).select_one("#resolve") is None
    assert soup(bob.get(path)).select_one("#unresolve") is None  # a dispute is an admin's to settle
    assert "Disputed: to adjudicate (1)" in text(boss.get("/"))
    assert "Disputed" not in text(bob.get("/"))

    hidden = hidden_fields(boss, path)
    assert _at(soup(boss.get(path)), "#resolve-heading").get_text() == "Adjudicate"
    bobs = {**hidden, "csrf_token": csrf(bob, path)}
    assert _post(bob, path, "adjudicate", bobs, verdict="false", evidence=EVIDENCE, note="x").startswith(
        "403"
    )
    refused = _post(boss, path, "adjudicate", hidden, verdict="false", evidence=EVIDENCE, note=" ")
    assert refused.startswith("400") and "needs a note" in refused
    result = _post(
        boss, path, "adjudicate", hidden, verdict="false", evidence=EVIDENCE, note="The data say no."
    )
    assert result.startswith("302")
    with two_app.begin() as session:
        claim = get_claim(session, scene.overdue)
        assert (claim.status, claim.verdict) == ("resolved", "false")
        assert [(r.role, r.verdict) for r in claim.resolutions] == [
            ("first", "true"),
            ("second", "false"),
            ("adjudication", "false"),
        ]
    history = _at(soup(boss.get(path)), "section:has(#verdicts-heading)").get_text(" ")
    assert "(adjudication)" in history and "(first of two verdicts)" in history


def test_a_conflict_does_not_reveal_a_blind_first_verdict(web2: Flask, scene: Scene) -> None:
    ada, bob = signed_in(web2, scene.assigned), signed_in(web2, scene.unassigned)
    path = f"/claims/{scene.overdue}"
    stale = hidden_fields(bob, path)  # bob opens the form before ada's verdict
    _post(ada, path, "resolve", hidden_fields(ada, path), verdict="true", evidence=EVIDENCE, note=SECRET)
    result = _post(bob, path, "resolve", stale, verdict="false", evidence=EVIDENCE, note="mine")
    assert result.startswith("409")
    assert SECRET not in result and "Another reviewer gave a verdict" in result
    # Sent again with the page's new version, it is the second verdict.
    assert _post(
        bob, path, "resolve", hidden_fields(bob, path), verdict="true", evidence=EVIDENCE
    ).startswith("302")
    assert "Resolved rates-fall: true (agreeing with ada)" in text(bob.get(path))


def test_the_agreement_page(web2: Flask, scene: Scene) -> None:
    ada, bob = signed_in(web2, scene.assigned), signed_in(web2, scene.unassigned)
    assert "No double-reviewed claims yet" in text(bob.get("/reviewers/agreement"))
    path = f"/claims/{scene.overdue}"
    _post(ada, path, "resolve", hidden_fields(ada, path), verdict="true", evidence=EVIDENCE)
    _post(bob, path, "resolve", hidden_fields(bob, path), verdict="true", evidence=EVIDENCE)
    page = soup(bob.get("/reviewers/agreement"))
    rows = [" ".join(tr.get_text(" ").split()) for tr in page.select("table.agreement tbody tr")]
    assert rows == ["Everyone 1 1 100%", "ada 1 1 100%", "bob 1 1 100%"]
    kappa = [" ".join(tr.get_text(" ").split()) for tr in page.select("table.kappa tbody tr")]
    assert kappa == ["prediction 1 —"]  # one pair, one category: undefined
