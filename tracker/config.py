"""Settings: one frozen, typed object read from the config file and `TRACKER_*` variables.

Precedence, lowest first: built-in defaults, the TOML config file, the environment.
The config file is `$TRACKER_CONFIG`, or `./tracker.toml` when it exists.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tracker.errors import TrackerError
from tracker.estimative import EstimativeScale

ENV_PREFIX = "TRACKER_"
DEFAULT_CONFIG_FILE = "tracker.toml"


class Settings(BaseModel):
    """Everything tracker can be configured with; see README "Configuration"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = Field(
        default="sqlite:///tracker.db",
        description="SQLAlchemy URL of the database; SQLite file in the working directory by default.",
    )
    timezone: str = Field(
        default="UTC",
        description="Timezone that deadlines are read in when a claim names none.",
    )
    claims_max_bytes: int = Field(
        default=256 * 1024 * 1024,
        gt=0,
        description="Largest claims file that `tracker import` accepts, in bytes.",
    )
    # A TOML number (`"coin flip" = 0.5`) arrives as a float; keep it as text for the scale to parse.
    estimative_phrases: dict[str, Annotated[str, Field(coerce_numbers_to_str=True)]] = Field(
        default_factory=dict,
        description=(
            "Extra or overriding phrases for the estimative scale: phrase = band name "
            '(e.g. likely), a probability such as 0.7, or "unscored".'
        ),
    )

    @field_validator("estimative_phrases")
    @classmethod
    def _valid_phrases(cls, value: dict[str, str]) -> dict[str, str]:
        # Fail when the settings load, not later when a claims file happens to use the phrase.
        try:
            EstimativeScale.with_overrides(value)
        except TrackerError as exc:
            raise ValueError(str(exc).removeprefix("estimative_phrases: ")) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value


def _env_values(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        # Mappings cannot be spelled in one variable without a format; use JSON-ish TOML.
        if field.annotation is not str and raw.strip().startswith("{"):
            values[name] = tomllib.loads(f"v = {raw}")["v"]
        else:
            values[name] = raw
    return values


def _file_values(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise TrackerError(f"{path}: cannot read config file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TrackerError(f"{path}: invalid TOML: {exc}") from exc
    # Allow either top-level keys or a [tracker] table.
    return dict(data.get("tracker", data))


def load_settings(
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings from the config file, the environment and explicit overrides."""
    env = os.environ if env is None else env
    path: Path | None = None
    if config_file is not None:
        path = Path(config_file)
    elif env.get(ENV_PREFIX + "CONFIG"):
        path = Path(env[ENV_PREFIX + "CONFIG"])
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)

    merged: dict[str, Any] = {}
    if path is not None:
        merged.update(_file_values(path))
    env_values = _env_values(env)
    merged.update(env_values)
    merged.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "?"
            origin = f"{ENV_PREFIX}{key.upper()}" if key in env_values else f"{path or 'settings'}: {key}"
            messages.append(f"{origin}: {error['msg']}")
        raise TrackerError("invalid configuration: " + "; ".join(messages)) from exc
