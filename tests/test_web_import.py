"""Uploading a claims.yaml in the web app: problems with their lines, a preview, then confirm or cancel.

The preview is the real import, rolled back; nothing is written before the confirm. The
confirm imports only when the database is as the preview saw it; otherwise it says so and
shows a fresh preview. The export is `tracker export`'s file, downloaded.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support.web import (
    ORIGIN,
    PASSWORD,
    Scene,
    give_password,
    make_web,
    post,
    seed,
    signed_in,
    soup,
    text,
    tracker_app,
    web,
)
from test_web_processes import two_servers

from tracker import services
from tracker.app import App
from tracker.claimsfile import export_claims, import_claims
from tracker.staging import PendingImport

__all__ = ["tracker_app", "two_servers", "web"]

EDITOR = "eda"


def _seed(app: App, now: dt.datetime) -> Scene:
    """The web tests' scene as its own export imports it (probabilities from the words, facts without
    criteria), so that re-importing the export changes nothing."""
    scene = seed(app, now)
    with app.begin() as session:
        services.get_claim(session, scene.resolved).criteria = None
    path = Path(app.settings.report.out_dir + ".claims.yaml")
    path.write_text(_database(app), encoding="utf-8")
    with app.begin() as session:
        import_claims(session, path, settings=app.settings, now=now)
    return scene


def _editor(app: App, now: dt.datetime, handle: str = EDITOR) -> str:
    with app.begin() as session:
        reviewer = services.add_reviewer(session, handle, "Eda", f"{handle}@example.org", role="editor")
        give_password(session, reviewer, now)
    return handle


def _database(app: App) -> str:
    with app.begin(write=False) as session:
        return export_claims(session)


def _pending(app: App) -> int:
    with app.begin(write=False) as session:
        return session.scalar(select(func.count()).select_from(PendingImport)) or 0


def _upload(client: FlaskClient, content: bytes, name: str = "claims.yaml") -> Any:
    return post(client, "/import", {"file": (io.BytesIO(content), name)}, token_from="/import")


def soup_of(html: str) -> Any:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def _words(element: Any) -> str:
    return " ".join(element.get_text().split())


def _confirm_form(response: Any) -> tuple[str, dict[str, str]]:
    form = soup(response).select_one("form[action$='/confirm']")
    assert form is not None, text(response)
    return str(form["action"]), {
        str(i["name"]): str(i["value"])
        for i in form.select("input[type=hidden]")
        if i["name"] != "csrf_token"
    }


def _changed(app: App, scene: Scene) -> bytes:
    """The database's own export with one claim's statement changed, one new criteria, and one claim more."""
    exported = _database(app)
    changed = exported.replace(f"The claim {scene.soon} will come true.", "Snow falls soon, says the edit.")
    changed = changed.replace(
        f"Resolves true if {scene.upcoming} is reported by the deadline.",
        f"Resolves true if {scene.upcoming} is reported by two outlets by the deadline.",
    )
    assert changed.count("Snow falls soon") == 1 and "two outlets" in changed, exported
    extra = (
        "- id: brand-new\n"
        "  kind: prediction\n"
        f"  source: {scene.source}\n"
        "  statement: A new claim from the upload.\n"
        "  quote: It will probably happen.\n"
        "  made_on: 2026-10-02\n"
        "  confidence: probably\n"
        "  resolution:\n"
        "    criteria: Resolves true if it happens.\n"
        "    deadline: 2027-06-30\n"
    )
    return (changed + extra).encode("utf-8")


def test_an_upload_with_problems_shows_them_with_their_lines_and_writes_nothing(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = _seed(tracker_app, now)
    client = signed_in(web, _editor(tracker_app, now))
    before = _database(tracker_app)
    content = _changed(tracker_app, scene).replace(b"deadline: 2027-06-30", b"deadline: 2026-09-01")
    content = content.replace(b"source: daily\n  statement: A new", b"source: dialy\n  statement: A new")
    response = _upload(client, content, "my claims.yaml")
    assert response.status_code == 400
    lines = [li.get_text(" ", strip=True) for li in soup(response).select("ol.file-problems li")]
    assert len(lines) == 2, lines
    new_claim_line = content.decode().splitlines().index("- id: brand-new") + 1
    assert any(
        line.startswith("my claims.yaml:")
        and "source" in line
        and "'dialy' is not defined" in line
        and "daily" in line
        for line in lines
    ), lines
    assert any("deadline" in line and "before" in line for line in lines), lines
    assert all(int(line.split(":")[1]) >= new_claim_line for line in lines), lines
    assert "2 problems found; nothing was written" in text(response)
    assert soup(response).select_one("form[action$='/confirm']") is None
    assert _database(tracker_app) == before and _pending(tracker_app) == 0


def test_a_file_that_is_not_utf8_or_not_yaml_is_a_clear_problem(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    _seed(tracker_app, now)
    client = signed_in(web, _editor(tracker_app, now))
    before = _database(tracker_app)
    latin1 = _upload(client, "reviewers: []\nsources:\n- slug: café\n".encode("latin-1"))
    assert latin1.status_code == 400
    assert "claims.yaml:3: not UTF-8 text (byte 0xe9); save the file as UTF-8" in text(latin1)
    broken = _upload(client, b"claims:\n  - id: x\n   kind: [\n")
    assert broken.status_code == 400 and "claims.yaml:3: invalid YAML" in text(broken)
    png = _upload(client, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png")
    assert png.status_code == 400 and "photo.png:1: not UTF-8 text" in text(png)
    empty = _upload(client, b"", "../../etc/\u202elmay.smialc")
    assert empty.status_code == 400 and "lmay.smialc: file is empty" in text(empty)
    assert "\u202e" not in empty.get_data(as_text=True) and "etc" not in text(empty)
    missing = post(client, "/import", {}, token_from="/import")
    assert missing.status_code == 400
    assert (
        soup(missing).select_one("#file-problem").get_text(strip=True).endswith("Choose a claims.yaml file.")
    )
    assert _database(tracker_app) == before and _pending(tracker_app) == 0


def test_a_good_upload_is_previewed_then_imported_on_confirm(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = _seed(tracker_app, now)
    client = signed_in(web, _editor(tracker_app, now))
    before = _database(tracker_app)
    content = _changed(tracker_app, scene)
    preview = _upload(client, content)
    assert preview.status_code == 200, text(preview)
    page = soup(preview)
    added = [_words(li) for li in page.select("#added-heading ~ ul li")]
    updated = [_words(li) for li in page.select("#updated-heading ~ ul li")]
    criteria = [_words(li) for li in page.select("#criteria-heading ~ ul li")]
    assert added == ["brand-new"]
    assert sorted(updated) == [f"{scene.upcoming}: resolution", f"{scene.soon}: statement"]
    assert sorted(criteria) == sorted(["brand-new", scene.upcoming])
    assert "Claims 1 added, 2 updated, 2 unchanged" in text(preview)
    # Nothing is written before the confirm, but the upload waits for it.
    assert _database(tracker_app) == before and _pending(tracker_app) == 1
    action, hidden = _confirm_form(preview)
    done = post(client, action, hidden, token_from="/import")
    assert done.status_code == 302 and done.headers["Location"] == "/import"
    assert "Imported claims.yaml: 1 claims added, 2 updated, 2 unchanged" in text(client.get("/import"))
    with tracker_app.begin(write=False) as session:
        assert services.get_claim(session, "brand-new").statement == "A new claim from the upload."
        assert services.get_claim(session, scene.soon).statement == "Snow falls soon, says the edit."
        assert [v.version for v in services.get_claim(session, scene.upcoming).criteria_versions] == [1, 2]
    assert _pending(tracker_app) == 0
    # The token is spent: confirming again does nothing.
    again = post(client, action, hidden, token_from="/import")
    assert again.status_code == 404


def test_a_change_between_preview_and_confirm_shows_a_fresh_preview_and_imports_nothing(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = _seed(tracker_app, now)
    client = signed_in(web, _editor(tracker_app, now))
    preview = _upload(client, _changed(tracker_app, scene))
    action, hidden = _confirm_form(preview)
    # Meanwhile, someone resolves a claim the file also describes (as still open).
    with tracker_app.begin() as session:
        services.resolve(
            session, scene.soon, "false", ["https://example.org/snow"], "No snow.", scene.admin, None, now
        )
    meanwhile = _database(tracker_app)
    stale = post(client, action, hidden, token_from="/import")
    assert stale.status_code == 409
    assert "The database changed since that preview" in text(stale) and "Nothing was imported" in text(stale)
    assert _database(tracker_app) == meanwhile  # the new claim is not there, the verdict stays
    fresh_action, fresh = _confirm_form(stale)
    assert fresh_action == action and fresh["seen"] != hidden["seen"]
    # The old preview's confirm still refuses; the fresh one imports.
    assert post(client, action, hidden, token_from="/import").status_code == 409
    assert post(client, fresh_action, fresh, token_from="/import").status_code == 302
    with tracker_app.begin(write=False) as session:
        assert services.get_claim(session, "brand-new").key == "brand-new"


def test_a_change_to_a_reviewer_or_source_also_invalidates_the_preview(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = _seed(tracker_app, now)
    client = signed_in(web, _editor(tracker_app, now))
    for change in (
        lambda s: services.edit_source(s, scene.source, "The Daily Planet", "outlet"),
        lambda s: services.edit_reviewer(
            s, scene.assigned, "Ada", "ada@new.example.org", "UTC", "reviewer", subscribed=False
        ),
    ):
        action, hidden = _confirm_form(_upload(client, _changed(tracker_app, scene)))
        with tracker_app.begin() as session:
            change(session)
        assert post(client, action, hidden, token_from="/import").status_code == 409
        post(client, action.replace("/confirm", "/cancel"), {}, token_from="/import")
    with tracker_app.begin(write=False) as session:
        assert "brand-new" not in {c.key for c in services.list_claims(session)}


def test_cancel_discards_the_upload_and_others_cannot_confirm_it(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = _seed(tracker_app, now)
    client = signed_in(web, _editor(tracker_app, now))
    before = _database(tracker_app)
    action, hidden = _confirm_form(_upload(client, _changed(tracker_app, scene)))
    other = signed_in(web, scene.admin)
    assert post(other, action, hidden, token_from="/import").status_code == 404
    assert post(other, action.replace("/confirm", "/cancel"), {}, token_from="/import").status_code == 302
    assert _pending(tracker_app) == 1  # another's cancel does not touch it
    cancelled = post(client, action.replace("/confirm", "/cancel"), {}, token_from="/import")
    assert cancelled.status_code == 302 and _pending(tracker_app) == 0
    assert post(client, action, hidden, token_from="/import").status_code == 404
    assert _database(tracker_app) == before


def test_a_preview_expires_after_an_hour(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = _seed(tracker_app, now)
    _editor(tracker_app, now)
    action, hidden = _confirm_form(_upload(signed_in(web, EDITOR), _changed(tracker_app, scene)))
    _upload(signed_in(web, EDITOR), _changed(tracker_app, scene))  # a second one, as old
    assert _pending(tracker_app) == 2
    later = make_web(tracker_app, now + dt.timedelta(minutes=61))
    client = signed_in(later, EDITOR)
    expired = post(client, action, hidden, token_from="/import")
    assert expired.status_code == 410 and "Upload the file again" in text(expired)
    assert _pending(tracker_app) == 1
    # The next upload clears the ones past their hour: only itself waits.
    assert _upload(client, _changed(tracker_app, scene)).status_code == 200
    assert _pending(tracker_app) == 1
    with tracker_app.begin(write=False) as session:
        assert "brand-new" not in {c.key for c in services.list_claims(session)}


def test_an_upload_over_the_limit_is_refused(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    _seed(tracker_app, now)
    client = signed_in(web, _editor(tracker_app, now))
    big = b"# " + b"x" * (16 * 1024 * 1024) + b"\n"
    response = client.post(
        "/import", data={"file": (io.BytesIO(big), "claims.yaml")}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 413 and "larger than this site accepts" in text(response)
    # Without a session, the app's usual 1 MB applies before anything else is looked at.
    stranger = web.test_client().post(
        "/import",
        data={"file": (io.BytesIO(b"#" * (1024 * 1024 + 1)), "claims.yaml")},
        headers={"Origin": ORIGIN},
    )
    assert stranger.status_code == 413
    assert _pending(tracker_app) == 0


def test_export_downloads_the_database_as_claims_yaml(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    _seed(tracker_app, now)
    client = signed_in(web, _editor(tracker_app, now))
    response = client.get("/export/claims.yaml")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="claims.yaml"'
    assert response.headers["Content-Type"] == "application/yaml; charset=utf-8"
    assert response.get_data(as_text=True) == _database(tracker_app)
    # Uploading the export back changes nothing.
    preview = _upload(client, response.get_data())
    assert preview.status_code == 200 and "Importing it would change nothing" in text(preview)


def _multipart(fields: dict[str, str], content: bytes) -> tuple[bytes, str]:
    """A form with a claims.yaml, encoded as a browser sends it (multipart/form-data)."""
    boundary = "tracker-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="claims.yaml"\r\n'
        "Content-Type: application/yaml\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_a_preview_made_by_one_process_is_confirmed_by_another_while_a_third_party_resolves(
    tracker_app: App, now: dt.datetime, two_servers: list[str]
) -> None:
    """The upload waits in the database, not in a process; a confirm and a verdict racing it never
    both act on a state they did not see: either the import goes first and the verdict's form is
    refused as stale, or the verdict goes first and the confirm shows a fresh preview."""
    import threading
    import urllib.request

    from test_web_processes import Browser

    scene = _seed(tracker_app, now)
    _editor(tracker_app, now)
    first, second = two_servers
    eda = Browser()
    eda.open(
        f"{first}/login", {**eda.hidden(f"{first}/login", "form"), "login": EDITOR, "password": PASSWORD}
    )
    body, content_type = _multipart(eda.hidden(f"{first}/import", "form"), _changed(tracker_app, scene))
    request = urllib.request.Request(
        f"{first}/import", data=body, headers={"Origin": first, "Content-Type": content_type}
    )
    with eda.opener.open(request, timeout=60) as response:
        assert response.status == 200
        page = soup_of(response.read().decode())
    form = page.select_one("form[action$='/confirm']")
    assert form is not None
    confirm = {str(i["name"]): str(i["value"]) for i in form.select("input[type=hidden]")}
    for cookie in list(eda.jar):  # the session cookie, good on the second process too
        eda.jar.set_cookie(cookie)

    ada = Browser()
    ada.open(
        f"{second}/login",
        {**ada.hidden(f"{second}/login", "form"), "login": scene.assigned, "password": PASSWORD},
    )
    path = f"/claims/{scene.soon}"
    resolve = {
        **ada.hidden(f"{second}{path}", "#resolve form"),
        "verdict": "false",
        "evidence": "https://example.org/snow",
        "note": "No snow.",
    }
    results: dict[str, tuple[int, str]] = {}
    start = threading.Barrier(2)

    def run(name: str, who: Browser, url: str, data: dict[str, str]) -> None:
        start.wait()
        results[name] = who.open(url, data)

    threads = [
        threading.Thread(target=run, args=("confirm", eda, f"{second}{form['action']}", confirm)),
        threading.Thread(target=run, args=("resolve", ada, f"{first}{path}/resolve", resolve)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (confirmed, confirm_page), (resolved, resolve_page) = results["confirm"], results["resolve"]
    with tracker_app.begin(write=False) as session:
        keys = {c.key for c in services.list_claims(session)}
        verdict = services.get_claim(session, scene.soon).verdict
    if confirmed == 200 and "Imported claims.yaml" in confirm_page:
        # The import went first: the verdict's form was loaded before it, so it is refused as stale.
        assert resolved == 409 and "brand-new" in keys and verdict is None, resolve_page[:500]
    else:
        # The verdict went first: the preview no longer describes the database; nothing imported.
        assert confirmed == 409 and "The database changed since that preview" in confirm_page, confirm_page[
            :500
        ]
        assert resolved == 200 and "brand-new" not in keys and verdict == "false"
