"""The console channel (the default): stdout, a given stream, or a file it appends to."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from tracker.channels import ConsoleChannel, Message, TemporaryFailure, make_channel
from tracker.config import load_settings

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

EXPECTED = """\
========================================================================
Date: Mon, 23 Nov 2026 12:00:00 +0000
Message-ID: <reminder-1@tracker.example.org>
To: Ann Lee <ann@example.org>
Subject: Deadline reminder 1
X-Tracker-Reminders: 12,13

Claim 1 is due on 2026-11-30.
Resolve it: tracker resolve claim-1 --verdict true

"""


def message(n: int = 1, **overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "message_id": f"<reminder-{n}@tracker.example.org>",
        "to_address": "ann@example.org",
        "to_name": "Ann Lee",
        "subject": f"Deadline reminder {n}",
        "text": f"Claim {n} is due on 2026-11-30.\nResolve it: tracker resolve claim-{n} --verdict true\n",
        "html": "<p>not shown on the console</p>",
        "headers": (("X-Tracker-Reminders", "12,13"),),
    }
    fields.update(overrides)
    return Message(**fields)


def test_writes_to_a_stream() -> None:
    stream = io.StringIO()
    with ConsoleChannel(stream=stream, clock=lambda: NOW).open() as sender:
        sender.send(message())
    assert stream.getvalue() == EXPECTED


def test_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    with ConsoleChannel(clock=lambda: NOW).open() as sender:
        sender.send(message())
    assert capsys.readouterr().out == EXPECTED


def test_appends_to_a_file_creating_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "reminders.txt"
    chan = ConsoleChannel(path=path, clock=lambda: NOW)
    with chan.open() as sender:
        sender.send(message(1))
        # Flushed per message: readable before the batch ends.
        assert path.read_text(encoding="utf-8") == EXPECTED
    with chan.open() as sender:
        sender.send(message(2, to_name="", text="Zoë, 김정은: due.", headers=()))
    text = path.read_text(encoding="utf-8")
    assert text.startswith(EXPECTED)
    assert text[len(EXPECTED) :] == (
        "=" * 72 + "\n"
        "Date: Mon, 23 Nov 2026 12:00:00 +0000\n"
        "Message-ID: <reminder-2@tracker.example.org>\n"
        "To: ann@example.org\n"
        "Subject: Deadline reminder 2\n"
        "\n"
        "Zoë, 김정은: due.\n"
        "\n"
    )


def test_an_unwritable_file_is_a_temporary_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with ConsoleChannel(path=blocker / "reminders.txt").open() as sender, pytest.raises(TemporaryFailure):
        sender.send(message())


def test_make_channel_console_is_the_default(tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    stream = io.StringIO()
    chan = make_channel(load_settings(config, env={}), stream=stream)
    assert chan.name == "console"
    with chan.open() as sender:
        sender.send(message())
    assert "Subject: Deadline reminder 1" in stream.getvalue()


def test_make_channel_console_file_wins_over_the_stream(tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    path = tmp_path / "out.txt"
    stream = io.StringIO()
    chan = make_channel(
        load_settings(config, env={"TRACKER_REMINDERS_CONSOLE_FILE": str(path)}), stream=stream
    )
    with chan.open() as sender:
        sender.send(message())
    assert stream.getvalue() == ""
    assert "Subject: Deadline reminder 1" in path.read_text(encoding="utf-8")
