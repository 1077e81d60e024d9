"""The repository's claims.yaml as tests need it: read as data, or with its predictions reopened."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml


def project_claims(repo_root: Path) -> dict[str, Any]:
    """The repository's claims.yaml, parsed."""
    data: dict[str, Any] = yaml.safe_load((repo_root / "claims.yaml").read_text(encoding="utf-8"))
    return data


def last_recorded(data: dict[str, Any]) -> dt.date:
    """The latest date a verdict in the file was recorded: the file cannot be imported before it."""
    return max(claim["outcome"]["resolved_on"] for claim in data["claims"] if "outcome" in claim)


def with_predictions_reopened(repo_root: Path, dest: Path) -> Path:
    """Write to `dest` the repository's claims with every prediction's outcome removed.

    The file records no open prediction, since its sources forecast nothing that is still
    open; tests of reminders need some that are due. These are its own predictions as they
    stood before anyone resolved them, each with its reviewers and its past deadline.
    """
    data = project_claims(repo_root)
    for claim in data["claims"]:
        if claim["kind"] == "prediction":
            claim.pop("outcome", None)
    dest.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest
