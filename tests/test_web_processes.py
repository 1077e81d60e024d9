"""Two `tracker serve` processes on one database behave as one: a sign-in made in one is valid
in the other, and two simultaneous resolves of one claim, one in each, give one verdict and
one conflict page with its text kept."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from support.web import PASSWORD, seed, tracker_app

from tracker.app import App
from tracker.services import get_claim

__all__ = ["tracker_app"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_servers(tracker_app: App, tmp_path: Path) -> Iterator[list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    argv = [sys.executable, "-c", "import sys; from tracker.cli import main; sys.argv[0] = 'tracker'; main()"]
    config = str(tracker_app.config_file)
    children, bases = [], []
    for _ in range(2):
        port = _free_port()
        child = subprocess.Popen(
            [*argv, "--config", config, "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        children.append(child)
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert "tracker is serving" in line, line + (
                child.stdout.read() if child.poll() is not None else ""
            )
        yield bases
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        outputs = [child.communicate(timeout=60)[0] for child in children]
        for child, out in zip(children, outputs, strict=True):
            assert child.returncode == 0, out
            assert "Traceback" not in out, out


class Browser:
    """A cookie jar and the forms' hidden fields, as a browser on the site keeps them."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, url: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
        request = urllib.request.Request(url, data=body, headers={"Origin": origin})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def hidden(self, url: str, form: str) -> dict[str, str]:
        _, page = self.open(url)
        found = BeautifulSoup(page, "html.parser").select_one(form)
        assert found is not None, page
        return {str(i["name"]): str(i.get("value", "")) for i in found.select("input[type=hidden]")}


def test_two_processes_share_sign_ins_and_one_of_two_resolves_wins(
    tracker_app: App, now: dt.datetime, two_servers: list[str]
) -> None:
    scene = seed(tracker_app, now)
    first, second = two_servers
    ada = Browser()
    status, page = ada.open(
        f"{first}/login", {**ada.hidden(f"{first}/login", "form"), "login": "ada", "password": PASSWORD}
    )
    assert status == 200 and "Your queue" in page
    # The cookie made by the first process is good in the second (the key is in the database).
    for cookie in list(ada.jar):
        ada.jar.set_cookie(cookie)
    status, page = ada.open(f"{second}/")
    assert status == 200 and "Your queue" in page, page[:500]

    boss = Browser()
    boss.open(
        f"{second}/login", {**boss.hidden(f"{second}/login", "form"), "login": "boss", "password": PASSWORD}
    )
    path = f"/claims/{scene.overdue}"
    forms = [
        (ada, first, ada.hidden(f"{first}{path}", "#resolve form")),
        (boss, second, boss.hidden(f"{second}{path}", "#resolve form")),
    ]
    results: list[tuple[int, str]] = [(0, "")] * 2
    start = threading.Barrier(2)

    def submit(index: int) -> None:
        who, base, hidden = forms[index]
        start.wait()
        results[index] = who.open(
            f"{base}{path}/resolve",
            {
                **hidden,
                "verdict": ["true", "false"][index],
                "evidence": f"https://example.org/{index}",
                "note": f"note {index}",
            },
        )

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], [r[1][:300] for r in results]
    loser = next(i for i, (status, _) in enumerate(results) if status == 409)
    page = BeautifulSoup(results[loser][1], "html.parser")
    assert page.select_one("#note").get_text() == f"note {loser}"
    assert page.select_one("section.conflict") is not None
    with tracker_app.begin() as session:
        claim = get_claim(session, scene.overdue)
        assert [r.note for r in claim.resolutions] == [f"note {1 - loser}"]


def _whole_form(who: Browser, url: str) -> dict[str, str]:
    """Every field of the edit form as loaded (checkboxes left out), as a browser would send it back."""
    _, page = who.open(url)
    form = BeautifulSoup(page, "html.parser").select_one("form.claim-form")
    assert form is not None, page[:500]
    fields = {
        str(i["name"]): str(i.get("value", ""))
        for i in form.select("input[name]")
        if i.get("type") not in ("checkbox", "radio")
    }
    fields.update({str(t["name"]): t.get_text() for t in form.select("textarea[name]")})
    return fields


def test_of_two_simultaneous_deadline_edits_in_two_processes_one_wins_and_one_is_told(
    tracker_app: App, now: dt.datetime, two_servers: list[str]
) -> None:
    scene = seed(tracker_app, now)
    browsers = []
    for base, handle in zip(two_servers, (scene.editor, scene.admin), strict=True):
        who = Browser()
        who.open(
            f"{base}/login", {**who.hidden(f"{base}/login", "form"), "login": handle, "password": PASSWORD}
        )
        browsers.append(who)
    path = f"/claims/{scene.upcoming}/edit"
    forms = [_whole_form(who, f"{base}{path}") for who, base in zip(browsers, two_servers, strict=True)]
    results: list[tuple[int, str]] = [(0, "")] * 2
    start = threading.Barrier(2)

    def submit(index: int) -> None:
        start.wait()
        deadline = ("2027-03-01", "2027-04-01")[index]
        results[index] = browsers[index].open(
            f"{two_servers[index]}{path}", {**forms[index], "deadline": deadline, "reason": f"reason {index}"}
        )

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200, 409], [r[1][:300] for r in results]
    loser = next(i for i, (status, _) in enumerate(results) if status == 409)
    page = BeautifulSoup(results[loser][1], "html.parser")
    assert page.select_one("section.conflict") is not None
    assert page.select_one("#reason").get_text() == f"reason {loser}"
    with tracker_app.begin() as session:
        claim = get_claim(session, scene.upcoming)
        assert [(v.version, v.reason) for v in claim.criteria_versions] == [
            (1, None),
            (2, f"reason {1 - loser}"),
        ]
