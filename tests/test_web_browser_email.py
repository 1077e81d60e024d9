"""The signed link in a real reminder email, followed in Debian's Chromium.

The reminder pass mails a digest to a test SMTP server (aiosmtpd); its HTML part's
"Resolve it online" link is opened in a browser that is signed out: it leads to the
sign-in page, and after signing in to the claim's resolve form. Opening it records nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from conftest import SmtpTestServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.browser import browser, sign_in, watch
from support.web import make_web, seed, served

from tracker.app import App
from tracker.channels import make_channel
from tracker.models import Claim, Delivery, Reminder, Resolution
from tracker.reminders import run_pass

__all__ = ["browser"]


def _config(tmp_path: Path, db_url: str, smtp: SmtpTestServer, resolve_url: str = "") -> Path:
    config = tmp_path / ("tracker.toml" if not resolve_url else "mailer.toml")
    lines = [
        f'database_url = "{db_url}"',
        f'[report]\nout_dir = "{tmp_path / "site"}"',
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"',
        f'[reminders]\nchannel = "smtp"\nresolve_url = "{resolve_url}"' if resolve_url else "",
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _recorded(session: Session) -> tuple[Any, ...]:
    """What a click must not change: verdicts, their history, the reminders and their deliveries."""
    return (
        tuple(session.execute(select(Claim.key, Claim.status, Claim.verdict).order_by(Claim.key))),
        session.scalar(select(func.count()).select_from(Resolution)),
        tuple(session.execute(select(Reminder.id, Reminder.status).order_by(Reminder.id))),
        tuple(session.execute(select(Delivery.id, Delivery.status, Delivery.attempts).order_by(Delivery.id))),
    )


def test_the_signed_link_in_a_reminder_email_in_chromium(
    browser: Any, db_url: str, tmp_path: Path, now: dt.datetime, smtp_server: SmtpTestServer
) -> None:
    web_app = App(config_file=_config(tmp_path, db_url, smtp_server))
    try:
        scene = seed(web_app, now)
        with served(make_web(web_app, now)) as base:
            # The mailer knows the app's address (it is only known once the app is served).
            mailer = App(config_file=_config(tmp_path, db_url, smtp_server, resolve_url=f"{base}/"))
            try:
                result = run_pass(
                    mailer.session_factory,
                    settings=mailer.settings,
                    now=now,
                    channel=make_channel(mailer.settings),
                    worker_id="w",
                )
            finally:
                mailer.close()
            assert result.sent >= 1
            mail = next(m for m in smtp_server.messages if f"{scene.assigned}@example.org" in m["To"])
            html = BeautifulSoup(mail.get_body(preferencelist=("html",)).get_content(), "html.parser")
            item = html.select_one(f"#claim-{scene.overdue}")
            assert item is not None
            link = str(item.select_one("a.resolve")["href"])
            assert link.startswith(f"{base}/r/"), link
            with web_app.begin() as session:
                before = _recorded(session)

            problems: list[str] = []
            page = watch(browser.new_context().new_page(), problems)
            page.goto(link)
            assert page.url.startswith(f"{base}/login?next=")
            with web_app.begin() as session:
                assert _recorded(session) == before  # opening the link recorded nothing
            sign_in(page, base, scene.assigned, lands=f"/claims/{scene.overdue}#resolve")
            # The destination survived the sign-in: the claim's resolve form, scrolled to.
            form = page.locator("#resolve form")
            assert form.is_visible() and form.get_by_role("button", name="Record the verdict").is_visible()
            assert page.locator("h1").inner_text() == f"The claim {scene.overdue} will come true."
            assert page.evaluate("document.querySelector('#resolve').getBoundingClientRect().top") < 900
            # Opened again while signed in, it goes straight to the form.
            page.goto(link)
            page.wait_for_url(f"{base}/claims/{scene.overdue}#resolve")
            with web_app.begin() as session:
                assert _recorded(session) == before
            assert problems == []
    finally:
        web_app.close()
