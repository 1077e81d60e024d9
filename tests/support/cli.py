"""Run the `tracker` command in-process on a test database, as every CLI test does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from tracker.cli import cli


@dataclass
class Tracker:
    """Runs `tracker --database-url URL ...` in-process, checking the exit code."""

    db_url: str
    config: Path
    # Variables every run sees (a test may set them), merged under a run's own `env`.
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self,
        *args: str,
        code: int = 0,
        input: str | None = None,
        env: dict[str, str] | None = None,
        traceback: bool = False,
    ) -> Result:
        runner = CliRunner()
        argv = ["--config", str(self.config), "--database-url", self.db_url, *args]
        # catch_exceptions=False: anything that escapes main() would reach a user as a traceback.
        result = runner.invoke(
            cli, argv, input=input, env={**self.env, **(env or {})}, catch_exceptions=False
        )
        assert result.exit_code == code, (
            f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        assert ("Traceback" in result.output) is traceback
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def error(self, *args: str, code: int = 1, input: str | None = None) -> str:
        """Run a failing command; its error is exactly one line on stderr, and stdout is empty."""
        result = self.run(*args, code=code, input=input)
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("tracker: error: ")
        if input is None:
            assert result.stdout == ""
        return lines[0]
