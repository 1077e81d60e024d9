"""The one Jinja environment: the site, the reminder and report digests, and the web app draw with it.

`make_environment(settings)` builds it from the settings. Its loader looks first in
`settings.templates_dir`, when set, then in the packaged templates, which are also
reachable as "default/<name>": an override of `base.html` can extend
"default/base.html" and change one block. HTML and XML are autoescaped; plain text
(.txt) is not. Every template shares one set of filters (`tracker.templating.filters`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)

from tracker.config import Settings
from tracker.errors import TrackerError
from tracker.resources import resource_dir
from tracker.templating.filters import FILTERS, GLOBALS, TESTS

__all__ = ["environment", "make_environment", "packaged_templates"]


def packaged_templates() -> Path:
    """The templates folder shipped with tracker (the checkout's, or the installed wheel's)."""
    return resource_dir("templates")


def make_environment(settings: Settings) -> Environment:
    """The environment for these settings (built once per templates folder in a process)."""
    return environment(settings.templates_dir)


@functools.lru_cache(maxsize=8)
def environment(templates_dir: str | None = None) -> Environment:
    """The environment whose overrides live in `templates_dir` (None: the packaged templates only).

    Cached: compiling the templates is the slow part, and parallel build workers each
    make the same one from the same settings.
    """
    packaged = FileSystemLoader(str(packaged_templates()))
    loaders: list[BaseLoader] = []
    if templates_dir:
        folder = Path(templates_dir).expanduser()
        if not folder.is_dir():
            # A mistyped folder would otherwise be ignored without a word, and the site
            # built with the packaged look.
            raise TrackerError(f"templates_dir: {templates_dir}: no such folder")
        loaders.append(FileSystemLoader(str(folder)))
    loaders += [PrefixLoader({"default": packaged}), packaged]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    env.globals.update(GLOBALS)
    return env
