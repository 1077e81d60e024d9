"""A Slack-compatible incoming webhook: each message is one JSON POST of {"text": ...}.

The standard library's urllib is enough for one POST per message, so tracker needs no
HTTP client dependency. The webhook URL is a secret (whoever has it can post): it never
appears in an error message or a log line, only its host does.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message as HttpHeaders
from typing import IO
from urllib.parse import urlsplit

from pydantic import SecretStr

from tracker import __version__
from tracker.channels.base import Message, PermanentFailure, TemporaryFailure
from tracker.errors import TrackerError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Report a redirect as a failure: urllib would follow it with a GET and drop the JSON."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HttpHeaders,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def escape(text: str) -> str:
    """Escape the three characters Slack's message format reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(message: Message) -> dict[str, str]:
    """The JSON body for `message`: subject in bold, recipient, then the plain-text body."""
    to = f"{message.to_name} ({message.to_address})" if message.to_name else message.to_address
    return {"text": f"*{escape(message.subject)}*\nTo: {escape(to)}\n\n{escape(message.text)}"}


class WebhookChannel:
    """POSTs each message as JSON to a Slack-compatible incoming webhook."""

    name: str = "slack"

    def __init__(self, webhook_url: SecretStr | None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if webhook_url is None or not webhook_url.get_secret_value().strip():
            raise TrackerError(
                "the slack channel needs a webhook: set TRACKER_SLACK_WEBHOOK_URL (or webhook_url in [slack])"
            )
        url = webhook_url.get_secret_value().strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TrackerError("TRACKER_SLACK_WEBHOOK_URL is not an http(s) URL")
        self._url = url
        self.timeout = timeout
        # Naming the host is safe and tells the user which service failed.
        self.where = f"slack webhook at {parts.hostname}"
        self._opener = urllib.request.build_opener(_NoRedirects)

    @contextmanager
    def open(self) -> Iterator[WebhookChannel]:
        """Each POST is its own request, so the channel is its own sender."""
        yield self

    def send(self, message: Message) -> None:
        """POST one message; raises TemporaryFailure or PermanentFailure."""
        body = json.dumps(payload(message), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            self._url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": f"tracker/{__version__}",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            self._raise_for_status(exc.code, exc.headers.get("Retry-After"), _read(exc))
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):  # a timeout while connecting
                raise TemporaryFailure(f"the {self.where} did not answer in time") from None
            text = getattr(reason, "strerror", None) or str(reason)
            raise TemporaryFailure(f"cannot reach the {self.where}: {self._hide(text)}") from None
        except TimeoutError:  # a timeout while waiting for the answer
            raise TemporaryFailure(f"the {self.where} did not answer in time") from None
        except OSError as exc:  # a reset or a broken pipe mid-request
            raise TemporaryFailure(f"the {self.where} failed: {self._hide(str(exc))}") from None
        log.debug("posted %s to the %s", message.message_id, self.where)

    def _raise_for_status(self, status: int, retry_after: str | None, body: str) -> None:
        # Chaining is avoided throughout: urllib's exceptions carry the secret URL.
        text = f"the {self.where} answered HTTP {status}" + (f": {self._hide(body)}" if body else "")
        if status == 429 or status >= 500:
            raise TemporaryFailure(text, retry_after=_seconds(retry_after)) from None
        if 300 <= status < 400:
            text += " (redirects are not followed: configure the final URL)"
        raise PermanentFailure(text) from None

    def _hide(self, text: str) -> str:
        path = urlsplit(self._url).path
        text = text.replace(self._url, "<webhook>")
        return text.replace(path, "/…") if len(path) > 1 else text


def _read(error: urllib.error.HTTPError) -> str:
    """The start of an error response's body, on one line (Slack explains itself there)."""
    try:
        raw = error.read(300)
    except OSError:
        return ""
    return " ".join(raw.decode("utf-8", "replace").split())[:200]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: rare for webhooks, and backoff covers it
        return None
