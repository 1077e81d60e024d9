"""Locate the templates and migrations, whether installed from a wheel or run from a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory `name` (templates, alembic) shipped with tracker."""
    # A wheel carries them inside the package (hatch force-include); a checkout
    # or editable install keeps them at the top level, next to the package.
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tracker is missing its {name!r} directory; reinstall the package")
