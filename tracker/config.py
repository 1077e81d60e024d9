"""Settings: one frozen, typed object read from the config file and `TRACKER_*` variables.

Precedence, lowest first: built-in defaults, the TOML config file, the environment.
The config file is `$TRACKER_CONFIG`, or `./tracker.toml` when it exists.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tracker.errors import TrackerError
from tracker.estimative import EstimativeScale

ENV_PREFIX = "TRACKER_"
DEFAULT_CONFIG_FILE = "tracker.toml"


class _Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SmtpSettings(_Group):
    """The mail server reminders and report digests are sent through ([smtp], TRACKER_SMTP_*)."""

    host: str | None = Field(
        default=None, description="SMTP server host; unset means email is not configured."
    )
    port: int = Field(default=587, gt=0, lt=65536, description="SMTP server port.")
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="starttls (port 587), ssl (implicit TLS, port 465) or none (local relays).",
    )
    user: str | None = Field(default=None, description="SMTP user name, when the server needs a login.")
    password: SecretStr | None = Field(default=None, description="SMTP password; never printed or logged.")
    sender: str = Field(default="tracker@localhost", description="The From address of tracker's mail.")
    # Finite: an endless timeout cannot be given to a socket (it fails every delivery).
    timeout: float = Field(
        default=30.0, gt=0, allow_inf_nan=False, description="Seconds to wait for the SMTP server."
    )


class SlackSettings(_Group):
    """A Slack-compatible incoming webhook ([slack], TRACKER_SLACK_*)."""

    webhook_url: SecretStr | None = Field(
        default=None, description="Incoming-webhook URL that reminders are POSTed to as JSON; a secret."
    )


class ReminderSettings(_Group):
    """When reminders go out and how ([reminders], TRACKER_REMINDERS_*)."""

    channel: Literal["console", "smtp", "slack"] = Field(
        default="console", description="Where reminders go: console (stdout or console_file), smtp or slack."
    )
    console_file: str | None = Field(
        default=None, description="With the console channel, append messages to this file instead of stdout."
    )
    days_before: tuple[Annotated[int, Field(ge=0)], ...] = Field(
        default=(7, 1),
        description="Remind this many days before a deadline (comma-separated in the environment).",
    )
    on_deadline: bool = Field(default=True, description="Remind on the deadline day itself.")
    overdue_every_days: int = Field(default=3, gt=0, description="Nudge every this many days while overdue.")
    escalate_after_days: int = Field(
        default=14, gt=0, description="After this many overdue days, nudges also go to the admin reviewers."
    )
    send_hour: int = Field(
        default=9, ge=0, le=23, description="Local hour (reviewer's timezone) digests go out."
    )
    pass_minutes: int = Field(default=5, gt=0, description="Minutes between the scheduler's reminder passes.")
    max_attempts: int = Field(
        default=8, gt=0, description="Delivery attempts before a reminder is marked failed."
    )
    retry_seconds: int = Field(default=60, gt=0, description="First retry delay; it doubles on each attempt.")
    resolve_url: str | None = Field(
        default=None, description="Base URL of the review web app, for links in messages (optional)."
    )


class ReportSettings(_Group):
    """The periodic scorecard report ([report], TRACKER_REPORT_*)."""

    cron: str = Field(default="0 8 * * mon", description="Cron expression (UTC) for the periodic report.")
    out_dir: str = Field(default="site", description="Folder the scorecard site and digests are written to.")
    email: bool = Field(default=True, description="Email the digest to the reviewers subscribed to reports.")
    jobs: int = Field(
        default=0, ge=0, description="Processes that render a large scorecard site; 0: one per CPU."
    )
    reviewer_name: str = Field(
        default="tracker", description="The reviewing organisation named as author in ClaimReview markup."
    )


class WebSettings(_Group):
    """The reviewers' web app ([web], TRACKER_WEB_*)."""

    session_idle_minutes: int = Field(
        default=12 * 60,
        gt=0,
        description="A signed-in session ends after this many minutes without a request.",
    )
    link_days: int = Field(
        default=14,
        gt=0,
        description="Days a signed link in a reminder email leads to its claim's resolve form.",
    )
    host: str = Field(default="127.0.0.1", description="Address `tracker up` and `tracker serve` listen on.")
    port: int = Field(
        default=8000, gt=0, lt=65536, description="Port `tracker up` and `tracker serve` listen on."
    )
    threads: int = Field(default=8, gt=0, description="Request threads of the waitress server.")


class AuditSettings(_Group):
    """The audit log of every write ([audit], TRACKER_AUDIT_*)."""

    enabled: bool = Field(
        default=True,
        description="Record every write in the audit log; off only to measure what the log costs.",
    )


GROUPS = ("smtp", "slack", "reminders", "report", "web", "audit")
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


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
    site_url: str | None = Field(
        default=None,
        description=(
            "Address the scorecard site is published at (https://example.org/scorecards/); "
            "makes ClaimReview urls and the Atom feed's links and ids absolute."
        ),
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

    templates_dir: str | None = Field(
        default=None,
        description="Folder of templates that override the packaged ones of the same name (optional).",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs the web app's cookies and links; unset: generated once and kept in the "
            "database, shared by every process. Never printed."
        ),
    )

    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="Mail server settings.")
    slack: SlackSettings = Field(default_factory=SlackSettings, description="Slack webhook settings.")
    reminders: ReminderSettings = Field(default_factory=ReminderSettings, description="Reminder policy.")
    report: ReportSettings = Field(default_factory=ReportSettings, description="Periodic report settings.")
    web: WebSettings = Field(default_factory=WebSettings, description="Web app settings.")
    audit: AuditSettings = Field(default_factory=AuditSettings, description="Audit log settings.")

    @field_validator("estimative_phrases")
    @classmethod
    def _valid_phrases(cls, value: dict[str, str]) -> dict[str, str]:
        # Fail when the settings load, not later when a claims file happens to use the phrase.
        try:
            EstimativeScale.with_overrides(value)
        except TrackerError as exc:
            raise ValueError(str(exc).removeprefix("estimative_phrases: ")) from None
        return value

    @field_validator("site_url")
    @classmethod
    def _absolute_site_url(cls, value: str | None) -> str | None:
        # Feeds and ClaimReview need an address a reader can open: scheme and host, nothing else.
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"{value!r} is not an absolute http(s) address such as https://example.org/scorecards/"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r} must not have a query or a fragment")
        # One trailing slash, so that page paths join onto it.
        return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", ""))

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        # Here, not when the engine is made: a URL for a backend tracker has no driver for
        # would otherwise fail deep inside SQLAlchemy, as a missing Python module.
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL: {value!r}") from None
        if url.drivername not in SUPPORTED_DRIVERS:
            backend = url.get_backend_name()
            what = f"driver {url.drivername!r}" if backend in SUPPORTED_BACKENDS else f"backend {backend!r}"
            raise ValueError(
                f"unsupported database {what}: tracker supports sqlite:///PATH and postgresql://... "
                "(postgresql+psycopg)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value


def _fields() -> dict[str, tuple[tuple[str, ...], Any]]:
    """Every TRACKER_* variable: the setting it sets (e.g. ("smtp", "host")) and that setting's type."""
    found: dict[str, tuple[tuple[str, ...], Any]] = {}
    for name, field in Settings.model_fields.items():
        if name in GROUPS:
            group = field.annotation
            assert isinstance(group, type) and issubclass(group, BaseModel)
            for sub, subfield in group.model_fields.items():
                found[f"{ENV_PREFIX}{name}_{sub}".upper()] = ((name, sub), subfield.annotation)
        else:
            found[(ENV_PREFIX + name).upper()] = ((name,), field.annotation)
    return found


def env_names() -> dict[str, tuple[str, ...]]:
    """Every TRACKER_* variable, mapped to the setting it sets (e.g. TRACKER_SMTP_HOST: smtp.host)."""
    return {variable: path for variable, (path, _) in _fields().items()}


def _structured(annotation: Any) -> bool:
    """Whether a setting is a mapping or a list (spelled in TOML in a variable), not a scalar."""
    return get_origin(annotation) in (dict, list, tuple)


def _parse_env(variable: str, raw: str, annotation: Any) -> Any:
    text = raw.strip()
    # Only a mapping or a list needs a format to be spelled in one variable: use TOML's.
    # Anything else is taken literally (a password may well start with "{").
    if not _structured(annotation) or not text.startswith(("{", "[")):
        return raw
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError as exc:
        raise TrackerError(f"{variable}: invalid TOML value: {exc}") from None


def _env_values(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    values: dict[str, Any] = {}
    origins: dict[tuple[str, ...], str] = {}
    for variable, (path, annotation) in _fields().items():
        raw = env.get(variable)
        if raw is None:
            continue
        value = _parse_env(variable, raw, annotation)
        if path == ("reminders", "days_before") and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if len(path) == 1:
            values[path[0]] = value
        else:
            values.setdefault(path[0], {})[path[1]] = value
        origins[path] = variable
    return values, origins


def _file_values(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise TrackerError(f"{path}: cannot read config file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TrackerError(f"{path}: invalid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise TrackerError(f"{path}: not UTF-8 text (byte {exc.start}); TOML files must be UTF-8") from exc
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
    env_values, origins = _env_values(env)
    for key, value in env_values.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    merged.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            loc = tuple(str(part) for part in error["loc"][:2]) or ("?",)
            origin = origins.get(loc) or origins.get(loc[:1]) or f"{path or 'settings'}: {'.'.join(loc)}"
            messages.append(f"{origin}: {error['msg'].removeprefix('Value error, ')}")
        raise TrackerError("invalid configuration: " + "; ".join(messages)) from exc
