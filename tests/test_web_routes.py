"""Every route, every role, with and without a CSRF token: a table that must name every route.

Adding a route without a row here fails `test_every_route_is_in_the_table`, so no page
escapes the access rules by being forgotten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.web import ORIGIN, Scene, csrf, seed, signed_in, tracker_app, web

from tracker.accounts.links import link_serializer
from tracker.app import App

__all__ = ["tracker_app", "web"]

ROLES = ("anonymous", "assigned", "unassigned", "editor", "admin")


@dataclass(frozen=True)
class Row:
    """One route: how to call it, and the status each role gets (with a valid CSRF token on POST)."""

    rule: str
    method: str
    path: str
    expect: tuple[int, int, int, int, int]  # anonymous, assigned, unassigned, editor, admin
    data: tuple[tuple[str, str], ...] = ()


S = Scene()
RESOLVE = (("verdict", "true"), ("evidence", "https://example.org/x"), ("note", "n"))
TABLE = [
    Row("/login", "GET", "/login", (200, 200, 200, 200, 200)),
    Row(
        "/login",
        "POST",
        "/login",
        (302, 302, 302, 302, 302),
        (("login", S.assigned), ("password", "correct horse battery")),
    ),
    Row("/logout", "POST", "/logout", (302, 302, 302, 302, 302)),
    Row("/setup/<token>", "GET", "/setup/forged", (404, 404, 404, 404, 404)),
    Row("/setup/<token>", "POST", "/setup/forged", (404, 404, 404, 404, 404)),
    Row("/settings", "GET", "/settings", (302, 200, 200, 200, 200)),
    Row(
        "/settings",
        "POST",
        "/settings",
        (302, 400, 400, 400, 400),
        (("password", "short"), ("repeat", "short")),
    ),
    Row("/settings/calendar", "POST", "/settings/calendar", (302, 302, 302, 302, 302)),
    Row("/", "GET", "/", (302, 200, 200, 200, 200)),
    Row("/claims/<key>", "GET", f"/claims/{S.overdue}", (302, 200, 200, 200, 200)),
    Row("/claims/<key>/resolve", "GET", f"/claims/{S.overdue}/resolve", (302, 302, 302, 302, 302)),
    Row("/claims/<key>/resolve", "POST", f"/claims/{S.overdue}/resolve", (302, 302, 403, 403, 302), RESOLVE),
    Row(
        "/claims/<key>/unresolve",
        "POST",
        f"/claims/{S.resolved}/unresolve",
        (302, 302, 403, 403, 302),
        (("reason", "r"),),
    ),
    # Only an admin adjudicates. This claim is not disputed (its page has no adjudication form
    # to take a version from), so the admin's POST is refused as out of date (409).
    Row(
        "/claims/<key>/adjudicate",
        "POST",
        f"/claims/{S.overdue}/adjudicate",
        (302, 403, 403, 403, 409),
        RESOLVE,
    ),
    Row("/reviewers/agreement", "GET", "/reviewers/agreement", (302, 200, 200, 200, 200)),
    Row(
        "/claims/<key>/assign",
        "POST",
        f"/claims/{S.upcoming}/assign",
        (302, 403, 403, 403, 302),
        (("handle", S.unassigned),),
    ),
    Row("/new-claim", "GET", "/new-claim", (302, 403, 403, 200, 200)),
    Row("/new-claim", "POST", "/new-claim", (302, 403, 403, 400, 400), (("kind", "prediction"),)),
    Row("/claims/<key>/edit", "GET", f"/claims/{S.upcoming}/edit", (302, 403, 403, 200, 200)),
    Row(
        "/claims/<key>/edit",
        "POST",
        f"/claims/{S.upcoming}/edit",
        (302, 403, 403, 400, 400),
        (("statement", ""), ("quote", "q")),
    ),
    Row("/scale.json", "GET", "/scale.json?words=likely", (302, 200, 200, 200, 200)),
    Row("/r/<token>", "GET", "/r/forged", (404, 404, 404, 404, 404)),
    Row("/status", "GET", "/status", (302, 200, 200, 200, 200)),
    Row("/healthz", "GET", "/healthz", (503, 503, 503, 503, 503)),  # no scheduler has ever run
    Row("/scorecards", "GET", "/scorecards", (302, 302, 302, 302, 302)),
    Row(
        "/scorecards/", "GET", "/scorecards/", (404, 404, 404, 404, 404)
    ),  # the site is not built in this test
    Row("/scorecards/<path:path>", "GET", "/scorecards/index.html", (404, 404, 404, 404, 404)),
    Row("/static/scorecards.css", "GET", "/static/scorecards.css", (200, 200, 200, 200, 200)),
    Row("/static/<path:filename>", "GET", "/static/web.css", (200, 200, 200, 200, 200)),
    Row("/calendar/<token>.ics", "GET", "/calendar/nobody.ics", (404, 404, 404, 404, 404)),
    Row("/audit", "GET", "/audit", (302, 403, 403, 403, 200)),
    Row("/audit.csv", "GET", "/audit.csv", (302, 403, 403, 403, 200)),
]

# -- Recording: sources, reviewers, invitations, claims.yaml import and export (issue 13) --------------
# Editors and admins keep the sources and the claims file; only admins keep the reviewers and invite
# them (an invitation decides who may sign in, and a role what they may do).
NEW_SOURCE = (("slug", "new-src"), ("name", "New"), ("kind", "outlet"))
EDIT_SOURCE = (("name", "The Daily, renamed"), ("kind", "outlet"))
REVIEWER = (("name", "Bob"), ("email", "bob@example.org"), ("timezone", "UTC"), ("role", "reviewer"))
RECORDING = [
    Row("/sources", "GET", "/sources", (302, 403, 403, 200, 200)),
    Row("/sources/new", "GET", "/sources/new", (302, 403, 403, 200, 200)),
    Row("/sources/new", "POST", "/sources/new", (302, 403, 403, 302, 302), NEW_SOURCE),
    Row("/sources/<slug>/edit", "GET", f"/sources/{S.source}/edit", (302, 403, 403, 200, 200)),
    Row("/sources/<slug>/edit", "POST", f"/sources/{S.source}/edit", (302, 403, 403, 302, 302), EDIT_SOURCE),
    Row("/reviewers", "GET", "/reviewers", (302, 403, 403, 403, 200)),
    Row("/reviewers/new", "GET", "/reviewers/new", (302, 403, 403, 403, 200)),
    Row(
        "/reviewers/new",
        "POST",
        "/reviewers/new",
        (302, 403, 403, 403, 302),
        (("handle", "newbie"), *REVIEWER),
    ),
    Row("/reviewers/<handle>/edit", "GET", f"/reviewers/{S.unassigned}/edit", (302, 403, 403, 403, 200)),
    Row(
        "/reviewers/<handle>/edit",
        "POST",
        f"/reviewers/{S.unassigned}/edit",
        (302, 403, 403, 403, 302),
        REVIEWER,
    ),
    # bob has a password already: nothing is sent, the list says so.
    Row("/reviewers/<handle>/invite", "POST", f"/reviewers/{S.unassigned}/invite", (302, 403, 403, 403, 302)),
    Row("/import", "GET", "/import", (302, 403, 403, 200, 200)),
    Row("/import", "POST", "/import", (302, 403, 403, 400, 400)),  # no file: the form says so
    Row(
        "/import/<token>/confirm",
        "POST",
        "/import/forged/confirm",
        (302, 403, 403, 404, 404),
        (("seen", "x"),),
    ),
    Row("/import/<token>/cancel", "POST", "/import/forged/cancel", (302, 403, 403, 302, 302)),
    Row("/export/claims.yaml", "GET", "/export/claims.yaml", (302, 403, 403, 200, 200)),
]
TABLE += RECORDING


def test_every_route_is_in_the_table(web: Flask) -> None:
    routes = {(rule.rule, method) for rule in web.url_map.iter_rules() for method in rule.methods or ()}
    routes = {(rule, method) for rule, method in routes if method in ("GET", "POST")}
    covered = {(row.rule, row.method) for row in TABLE}
    assert routes - covered == set(), "add these routes to TABLE"
    assert covered - routes == set(), "these rows name no route"


def _client(flask_app: Flask, role: str, scene: Scene) -> FlaskClient:
    if role == "anonymous":
        return flask_app.test_client()
    handles = {
        "assigned": scene.assigned,
        "unassigned": scene.unassigned,
        "editor": scene.editor,
        "admin": scene.admin,
    }
    return signed_in(flask_app, handles[role])


def _token(client: FlaskClient) -> str:
    return csrf(client, "/login")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_says(
    web: Flask, tracker_app: App, now: dt.datetime, role: str
) -> None:
    scene = seed(tracker_app, now)
    got: dict[tuple[str, str], tuple[int, int]] = {}
    for row in TABLE:
        client = _client(web, role, scene)
        if row.method == "GET":
            status = client.get(row.path).status_code
            got[(row.method, row.path)] = (status, status)
            continue
        data = dict(row.data)
        if "version" not in data and "claims" in row.path:
            from support.web import soup

            # The form is on the claim's page, or (the edit form) on a page of its own.
            admin = _client(web, "admin", scene)
            hidden = None
            for page in (row.path.rsplit("/", 1)[0], row.path):
                hidden = hidden or soup(admin.get(page)).select_one(
                    f"form[action='{row.path}'] input[name=version]"
                )
            data["version"] = str(hidden["value"]) if hidden is not None else ""
        without = client.post(row.path, data=data, headers={"Origin": ORIGIN}).status_code
        with_token = client.post(
            row.path, data={**data, "csrf_token": _token(client)}, headers={"Origin": ORIGIN}
        ).status_code
        got[(row.method, row.path)] = (without, with_token)
    index = ROLES.index(role)
    for row in TABLE:
        without, with_token = got[(row.method, row.path)]
        expected = row.expect[index]
        if row.method == "GET":
            assert without == expected, f"{role} GET {row.path}: {without}, expected {expected}"
            continue
        # Without a token nothing happens: refused (400), or first sent to sign in (302), or 404.
        assert without in (400, 302, 404) and (
            without != 302 or role == "anonymous" or expected == 404 or row.rule == "/login"
        ), f"{role} POST {row.path} without CSRF: {without}"
        assert with_token == expected, f"{role} POST {row.path}: {with_token}, expected {expected}"


def test_a_signed_link_opens_the_form_after_sign_in_and_records_nothing(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    token = link_serializer(str(web.secret_key)).dumps(scene.overdue)
    anonymous = web.test_client()
    response = anonymous.get(f"/r/{token}")
    target = f"/claims/{scene.overdue}#resolve"
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    from support.web import post

    signed = post(
        anonymous, "/login", {"login": scene.assigned, "password": "correct horse battery", "next": target}
    )
    assert signed.headers["Location"] == target
    assert signed_in(web, scene.assigned).get(f"/r/{token}").headers["Location"] == target
    with tracker_app.begin() as session:
        from tracker.services import get_claim

        assert get_claim(session, scene.overdue).verdict is None
