"""The `tracker` command line: one module per command group, wired together in `root`."""

from __future__ import annotations

from tracker.cli.root import cli, main

__all__ = ["cli", "main"]
