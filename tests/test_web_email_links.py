"""A real reminder email, captured at a test SMTP server, links to the resolve form by a signed link.

Opening the link records nothing (a mail scanner may open it); it leads through the
sign-in to the claim's form; a forged or expired link leads nowhere.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from conftest import SmtpTestServer
from support.web import PASSWORD, make_web, post, seed, soup

from tracker.app import App
from tracker.channels import make_channel
from tracker.reminders import run_pass
from tracker.services import get_claim


def test_the_link_in_a_reminder_email_opens_the_resolve_form(
    db_url: str, tmp_path: Path, now: dt.datetime, smtp_server: SmtpTestServer
) -> None:
    config = tmp_path / "tracker.toml"
    config.write_text(
        f'database_url = "{db_url}"\n'
        f'[report]\nout_dir = "{tmp_path / "site"}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "none"\n'
        '[reminders]\nchannel = "smtp"\nresolve_url = "http://localhost/"\n',
        encoding="utf-8",
    )
    app = App(config_file=config)
    try:
        scene = seed(app, now)
        result = run_pass(
            app.session_factory,
            settings=app.settings,
            now=now,
            channel=make_channel(app.settings),
            worker_id="w",
        )
        assert result.sent >= 1
        mail = next(m for m in smtp_server.messages if f"{scene.assigned}@example.org" in m["To"])
        body = mail.get_body(preferencelist=("plain",)).get_content()
        links = re.findall(r"http://localhost/r/\S+", body)
        assert links, body
        flask_app = make_web(app, now)
        client = flask_app.test_client()
        path = links[0].removeprefix("http://localhost")
        opened = client.get(path)
        assert opened.status_code == 302 and opened.headers["Location"].startswith("/login?next=")
        target = f"/claims/{scene.overdue}#resolve"
        signed = post(client, "/login", {"login": scene.assigned, "password": PASSWORD, "next": target})
        assert signed.headers["Location"] == target
        page = soup(client.get(f"/claims/{scene.overdue}"))
        assert page.select_one("#resolve form") is not None
        with app.begin() as session:
            assert get_claim(session, scene.overdue).verdict is None
        # Tampered with: it leads nowhere.
        assert client.get(path[:-3] + "xyz").status_code == 404
    finally:
        app.close()
