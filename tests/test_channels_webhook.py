"""The Slack-compatible webhook channel against a real local HTTP server."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

from tracker.channels import Message, PermanentFailure, TemporaryFailure, WebhookChannel, make_channel
from tracker.config import load_settings
from tracker.errors import TrackerError

if TYPE_CHECKING:
    from conftest import WebhookTestServer

SECRET = "s3cr3t-t0ken-xyz"  # the last part of the test server's path


def message(n: int = 1, **overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "message_id": f"<reminder-{n}@tracker.example.org>",
        "to_address": "ann@example.org",
        "to_name": "Ann Lee",
        "subject": f"Deadline reminder {n}",
        "text": f"Claim {n} is due on 2026-11-30.\nResolve: tracker resolve claim-{n} --verdict true",
        "html": "<p>ignored by webhooks</p>",
        "headers": (("X-Tracker-Reminders", "12"),),
    }
    fields.update(overrides)
    return Message(**fields)


def channel(server: WebhookTestServer, timeout: float = 5.0) -> WebhookChannel:
    return WebhookChannel(SecretStr(server.url), timeout=timeout)


def send(chan: WebhookChannel, m: Message) -> None:
    with chan.open() as sender:
        sender.send(m)


def assert_secret_kept(failure: BaseException, server: WebhookTestServer) -> None:
    text = str(failure)
    assert SECRET not in text and server.url not in text and server.path not in text
    assert len(text.splitlines()) == 1
    # urllib's exceptions carry the URL: none may ride along as the cause or context shown.
    assert failure.__cause__ is None and failure.__suppress_context__


def test_posts_json_text(webhook_server: WebhookTestServer) -> None:
    send(channel(webhook_server), message())
    [post] = webhook_server.requests
    assert post.path == webhook_server.path
    assert post.headers["Content-Type"] == "application/json; charset=utf-8"
    assert post.headers["User-Agent"].startswith("tracker/")
    assert json.loads(post.body) == {
        "text": (
            "*Deadline reminder 1*\nTo: Ann Lee (ann@example.org)\n\n"
            "Claim 1 is due on 2026-11-30.\nResolve: tracker resolve claim-1 --verdict true"
        )
    }


def test_slack_control_characters_are_escaped(webhook_server: WebhookTestServer) -> None:
    send(channel(webhook_server), message(subject="A & B <now>", text="x < y > z & <!channel>"))
    text = json.loads(webhook_server.requests[0].body)["text"]
    assert text.startswith("*A &amp; B &lt;now&gt;*\n")
    assert text.endswith("x &lt; y &gt; z &amp; &lt;!channel&gt;")


def test_non_ascii_is_sent_as_utf8(webhook_server: WebhookTestServer) -> None:
    send(channel(webhook_server), message(to_name="김정은", text="마감 — dépassé"))
    body = webhook_server.requests[0].body
    assert "마감 — dépassé".encode() in body
    assert json.loads(body)["text"].endswith("마감 — dépassé")


def test_one_batch_many_posts(webhook_server: WebhookTestServer) -> None:
    chan = channel(webhook_server)
    with chan.open() as sender:
        for n in range(5):
            sender.send(message(n))
    assert len(webhook_server.requests) == 5


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_rate_limits_and_server_errors_are_temporary(webhook_server: WebhookTestServer, status: int) -> None:
    webhook_server.statuses = [status]
    webhook_server.retry_after = "30"
    with pytest.raises(TemporaryFailure) as caught:
        send(channel(webhook_server), message())
    assert f"answered HTTP {status}" in str(caught.value)
    assert f"error {status}: invalid_payload" in str(caught.value)  # the service's explanation
    assert caught.value.retry_after == (30.0 if status == 429 else None)
    assert_secret_kept(caught.value, webhook_server)


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_client_errors_are_permanent(webhook_server: WebhookTestServer, status: int) -> None:
    webhook_server.statuses = [status]
    with pytest.raises(PermanentFailure) as caught:
        send(channel(webhook_server), message())
    assert str(caught.value).startswith(f"the slack webhook at 127.0.0.1 answered HTTP {status}")
    assert_secret_kept(caught.value, webhook_server)


def test_a_redirect_is_not_followed(webhook_server: WebhookTestServer) -> None:
    webhook_server.statuses = [302]
    with pytest.raises(PermanentFailure, match="redirects are not followed"):
        send(channel(webhook_server), message())
    assert len(webhook_server.requests) == 1


def test_a_retry_after_the_failure_succeeds(webhook_server: WebhookTestServer) -> None:
    webhook_server.statuses = [503]
    chan = channel(webhook_server)
    with pytest.raises(TemporaryFailure):
        send(chan, message())
    send(chan, message())
    assert len(webhook_server.requests) == 2


def test_connection_refused_is_temporary(unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}/services/T0/B0/{SECRET}"
    with pytest.raises(TemporaryFailure) as caught:
        send(WebhookChannel(SecretStr(url)), message())
    assert str(caught.value) == "cannot reach the slack webhook at 127.0.0.1: Connection refused"
    assert SECRET not in str(caught.value)


def test_a_slow_webhook_times_out(
    webhook_server: WebhookTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    webhook_server.hold = threading.Event()
    with pytest.raises(TemporaryFailure) as caught:
        send(channel(webhook_server, timeout=0.3), message())
    assert str(caught.value) == "the slack webhook at 127.0.0.1 did not answer in time"
    assert_secret_kept(caught.value, webhook_server)
    assert SECRET not in caplog.text


def test_the_webhook_url_is_required_and_checked() -> None:
    with pytest.raises(TrackerError, match="TRACKER_SLACK_WEBHOOK_URL"):
        WebhookChannel(None)
    with pytest.raises(TrackerError, match="not an http"):
        WebhookChannel(SecretStr(f"ftp://example.org/{SECRET}"))
    try:
        WebhookChannel(SecretStr(f"ftp://example.org/{SECRET}"))
    except TrackerError as exc:
        assert SECRET not in str(exc)


def test_make_channel_slack(webhook_server: WebhookTestServer, tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    env = {"TRACKER_REMINDERS_CHANNEL": "slack", "TRACKER_SLACK_WEBHOOK_URL": webhook_server.url}
    chan = make_channel(load_settings(config, env=env))
    assert chan.name == "slack"
    with chan.open() as sender:
        sender.send(message())
    assert len(webhook_server.requests) == 1

    with pytest.raises(TrackerError) as caught:
        make_channel(load_settings(config, env={"TRACKER_REMINDERS_CHANNEL": "slack"}))
    assert "TRACKER_SLACK_WEBHOOK_URL" in str(caught.value)
