"""Settings: defaults, the TOML file, TRACKER_* variables, and loud failures."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pydantic
import pytest

from tracker.config import ENV_PREFIX, Settings, env_names, load_settings
from tracker.errors import TrackerError
from tracker.estimative import EstimativeScale

WriteFile = Callable[[str, str], Path]
SUPPORTED = "tracker supports sqlite:///PATH and postgresql://... (postgresql+psycopg)"


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path, so a developer's ./tracker.toml cannot leak in."""
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = load_settings(env={})
    assert settings == Settings()
    assert settings.database_url == "sqlite:///tracker.db"
    assert settings.timezone == "UTC"
    assert settings.claims_max_bytes == 256 * 1024 * 1024
    assert settings.estimative_phrases == {}


def test_settings_are_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        load_settings(env={}).timezone = "Europe/Paris"  # type: ignore[misc]


def test_values_from_a_toml_file(write_file: WriteFile) -> None:
    path = write_file(
        "site.toml",
        """
        database_url = "postgresql://tracker@db/tracker"
        timezone = "Europe/Paris"
        claims_max_bytes = 1000
        """,
    )
    settings = load_settings(config_file=path, env={})
    assert settings.database_url == "postgresql://tracker@db/tracker"
    assert settings.timezone == "Europe/Paris"
    assert settings.claims_max_bytes == 1000


def test_tracker_table_form(write_file: WriteFile) -> None:
    path = write_file(
        "pyproject-like.toml",
        """
        [tracker]
        timezone = "Asia/Tokyo"
        """,
    )
    assert load_settings(config_file=path, env={}).timezone == "Asia/Tokyo"


def test_tracker_toml_in_the_working_directory_is_read(write_file: WriteFile) -> None:
    write_file("tracker.toml", 'timezone = "America/Chicago"\n')
    assert load_settings(env={}).timezone == "America/Chicago"


def test_tracker_config_variable_selects_the_file(write_file: WriteFile) -> None:
    write_file("tracker.toml", 'timezone = "America/Chicago"\n')
    chosen = write_file("elsewhere/chosen.toml", 'timezone = "Europe/Berlin"\n')
    assert load_settings(env={"TRACKER_CONFIG": str(chosen)}).timezone == "Europe/Berlin"


def test_environment_overrides_the_file(write_file: WriteFile) -> None:
    path = write_file("tracker.toml", 'timezone = "Europe/Paris"\nclaims_max_bytes = 10\n')
    settings = load_settings(config_file=path, env={"TRACKER_TIMEZONE": "Asia/Tokyo"})
    assert settings.timezone == "Asia/Tokyo"
    assert settings.claims_max_bytes == 10


def test_environment_values_are_converted() -> None:
    settings = load_settings(env={"TRACKER_CLAIMS_MAX_BYTES": "4096"})
    assert settings.claims_max_bytes == 4096


def test_explicit_overrides_win_over_everything(write_file: WriteFile) -> None:
    path = write_file("tracker.toml", 'database_url = "sqlite:///file.db"\n')
    settings = load_settings(
        config_file=path, env={"TRACKER_DATABASE_URL": "sqlite:///env.db"}, database_url="sqlite:///cli.db"
    )
    assert settings.database_url == "sqlite:///cli.db"


def test_bad_timezone_names_the_variable() -> None:
    with pytest.raises(TrackerError, match=r"TRACKER_TIMEZONE: .*unknown timezone 'Mars/Olympus_Mons'"):
        load_settings(env={"TRACKER_TIMEZONE": "Mars/Olympus_Mons"})


def test_bad_value_in_the_file_names_the_file_and_key(write_file: WriteFile) -> None:
    path = write_file("tracker.toml", "claims_max_bytes = 0\n")
    with pytest.raises(TrackerError, match=re.escape(f"{path}: claims_max_bytes")):
        load_settings(config_file=path, env={})


def test_unknown_key_is_refused(write_file: WriteFile) -> None:
    path = write_file("tracker.toml", 'timezon = "UTC"\n')
    with pytest.raises(TrackerError, match=re.escape(f"{path}: timezon")):
        load_settings(config_file=path, env={})


def test_bad_toml_names_the_file(write_file: WriteFile) -> None:
    path = write_file("tracker.toml", "timezone = \n")
    with pytest.raises(TrackerError, match=re.escape(f"{path}: invalid TOML")):
        load_settings(config_file=path, env={})


def test_missing_config_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(TrackerError, match=re.escape(f"{path}: cannot read config file")):
        load_settings(env={"TRACKER_CONFIG": str(path)})


def test_estimative_phrases_as_a_toml_table(write_file: WriteFile) -> None:
    path = write_file(
        "tracker.toml",
        """
        [tracker.estimative_phrases]
        "odds-on" = "likely"
        "coin flip" = 0.5
        "we shall see" = "unscored"
        """,
    )
    phrases = load_settings(config_file=path, env={}).estimative_phrases
    assert phrases == {"odds-on": "likely", "coin flip": "0.5", "we shall see": "unscored"}

    scale = EstimativeScale.with_overrides(phrases)
    assert scale.estimate("odds-on").band == "likely"
    assert scale.estimate("coin flip").probability == 0.5
    assert scale.estimate("we shall see").probability is None


def test_estimative_phrases_from_the_environment() -> None:
    settings = load_settings(
        env={"TRACKER_ESTIMATIVE_PHRASES": '{ "odds-on" = "likely", "coin flip" = 0.5 }'}
    )
    assert settings.estimative_phrases == {"odds-on": "likely", "coin flip": "0.5"}


def test_every_setting_is_documented_in_the_readme(repo_root: Path) -> None:
    readme_path = repo_root / "README.md"
    assert readme_path.is_file(), "README.md is missing"
    readme = readme_path.read_text(encoding="utf-8")
    names = [ENV_PREFIX + "CONFIG", *env_names()]
    missing = [name for name in names if name not in readme]
    assert missing == [], "document these settings in README.md"


def test_grouped_settings_from_file_and_environment(tmp_path: Path) -> None:
    """[smtp] in the file and TRACKER_SMTP_* in the environment merge, the environment winning."""
    config = tmp_path / "tracker.toml"
    config.write_text(
        '[smtp]\nhost = "mail.example.org"\nport = 465\nsecurity = "ssl"\n[reminders]\ndays_before = [14, 2]\n'
    )
    settings = load_settings(
        config_file=config,
        env={
            "TRACKER_SMTP_PORT": "2525",
            "TRACKER_SMTP_PASSWORD": "hunter2",
            "TRACKER_REMINDERS_SEND_HOUR": "8",
        },
    )
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == (
        "mail.example.org",
        2525,
        "ssl",
    )
    assert settings.smtp.password is not None and settings.smtp.password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert settings.reminders.days_before == (14, 2) and settings.reminders.send_hour == 8
    listed = load_settings(config_file=config, env={"TRACKER_REMINDERS_DAYS_BEFORE": "7, 1"})
    assert listed.reminders.days_before == (7, 1)


def test_bad_grouped_setting_names_its_variable(tmp_path: Path) -> None:
    with pytest.raises(TrackerError, match="TRACKER_SMTP_SECURITY"):
        load_settings(env={"TRACKER_SMTP_SECURITY": "tls"})
    config = tmp_path / "tracker.toml"
    config.write_text("[reminders]\nsend_hour = 25\n")
    with pytest.raises(TrackerError, match=r"reminders\.send_hour"):
        load_settings(config_file=config, env={})


def test_site_url_is_an_absolute_address_ending_in_a_slash() -> None:
    assert load_settings(env={}).site_url is None
    settings = load_settings(env={"TRACKER_SITE_URL": "https://example.org/scorecards"})
    assert settings.site_url == "https://example.org/scorecards/"
    assert load_settings(env={"TRACKER_SITE_URL": "https://example.org"}).site_url == "https://example.org/"
    for bad in ("example.org/scorecards", "ftp://example.org/", "/scorecards/", "https://example.org/?a=1"):
        with pytest.raises(TrackerError, match=r"^invalid configuration: TRACKER_SITE_URL: "):
            load_settings(env={"TRACKER_SITE_URL": bad})


def test_a_string_setting_is_taken_literally_even_when_it_looks_like_toml() -> None:
    for password in ("{s3cret-pw", "[not a list", "{ a = 1 }"):
        settings = load_settings(env={"TRACKER_SMTP_PASSWORD": password, "TRACKER_SMTP_SENDER": "[x"})
        assert settings.smtp.password is not None and settings.smtp.password.get_secret_value() == password
        assert settings.smtp.sender == "[x"


def test_a_structured_setting_that_is_not_toml_names_its_variable() -> None:
    with pytest.raises(TrackerError, match=r"^TRACKER_ESTIMATIVE_PHRASES: invalid TOML value: "):
        load_settings(env={"TRACKER_ESTIMATIVE_PHRASES": '{ "odds-on" = '})
    with pytest.raises(TrackerError, match=r"^TRACKER_REMINDERS_DAYS_BEFORE: invalid TOML value: "):
        load_settings(env={"TRACKER_REMINDERS_DAYS_BEFORE": "[7, 1"})
    assert load_settings(env={"TRACKER_REMINDERS_DAYS_BEFORE": "[3, 0]"}).reminders.days_before == (3, 0)


def test_a_config_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tracker.toml"
    path.write_bytes('timezone = "Europe/Z\u00fcrich"\n'.encode("latin-1"))
    with pytest.raises(TrackerError, match=re.escape(f"{path}: not UTF-8 text (byte 20)")):
        load_settings(config_file=path, env={})


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity", "0", "-5"])
def test_the_smtp_timeout_must_be_a_finite_positive_number(value: str) -> None:
    with pytest.raises(TrackerError, match=r"^invalid configuration: TRACKER_SMTP_TIMEOUT: Input should be"):
        load_settings(env={"TRACKER_SMTP_TIMEOUT": value})
    assert load_settings(env={"TRACKER_SMTP_TIMEOUT": "2.5"}).smtp.timeout == 2.5


def test_days_before_must_not_be_negative(tmp_path: Path) -> None:
    with pytest.raises(TrackerError, match=r"TRACKER_REMINDERS_DAYS_BEFORE: .*greater than or equal to 0"):
        load_settings(env={"TRACKER_REMINDERS_DAYS_BEFORE": "7, -1"})
    config = tmp_path / "tracker.toml"
    config.write_text("[reminders]\ndays_before = [-3]\n")
    with pytest.raises(TrackerError, match=re.escape(f"{config}: reminders.days_before")):
        load_settings(config_file=config, env={})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@db/tracker", f"unsupported database backend 'mysql': {SUPPORTED}"),
        ("oracle://u@db", f"unsupported database backend 'oracle': {SUPPORTED}"),
        ("postgresql+psycopg2://u@db/t", f"unsupported database driver 'postgresql+psycopg2': {SUPPORTED}"),
        ("not a url", "not a database URL: 'not a url'"),
    ],
)
def test_an_unsupported_database_says_which_are_supported(url: str, message: str) -> None:
    with pytest.raises(TrackerError) as raised:
        load_settings(env={"TRACKER_DATABASE_URL": url})
    assert str(raised.value) == f"invalid configuration: TRACKER_DATABASE_URL: {message}"
    for good in ("sqlite:///t.db", "sqlite://", "postgresql://u@db/t", "postgresql+psycopg://u@db/t"):
        assert load_settings(env={"TRACKER_DATABASE_URL": good}).database_url == good


def test_the_command_line_reports_each_bad_setting_in_one_line(tmp_path: Path) -> None:
    """Every case above, through `tracker`: one line naming the variable or file, exit 1."""
    from click.testing import CliRunner

    from tracker.cli import cli

    db = f"sqlite:///{tmp_path / 'tracker.db'}"
    runner = CliRunner()
    literal = runner.invoke(
        cli, ["db", "current"], env={"TRACKER_DATABASE_URL": db, "TRACKER_SMTP_PASSWORD": "{s3cret-pw"}
    )
    assert literal.exit_code == 0 and "has no schema" in literal.stdout, literal.output
    latin = tmp_path / "latin.toml"
    latin.write_bytes('timezone = "Z\u00fcrich"\n'.encode("latin-1"))
    cases = {
        "TRACKER_ESTIMATIVE_PHRASES: invalid TOML value": {"TRACKER_ESTIMATIVE_PHRASES": "{oops"},
        f"{latin}: not UTF-8 text": {"TRACKER_CONFIG": str(latin)},
        "TRACKER_SMTP_TIMEOUT: Input should be a finite number": {"TRACKER_SMTP_TIMEOUT": "inf"},
        "TRACKER_REMINDERS_DAYS_BEFORE: Input should be greater than or equal to 0": {
            "TRACKER_REMINDERS_DAYS_BEFORE": "-1"
        },
        "TRACKER_DATABASE_URL: unsupported database backend 'mysql'": {"TRACKER_DATABASE_URL": "mysql://x/y"},
    }
    for expected, env in cases.items():
        result = runner.invoke(cli, ["db", "current"], env={"TRACKER_DATABASE_URL": db, **env})
        assert result.exit_code == 1, result.output
        assert len(result.stderr.splitlines()) == 1 and expected in result.stderr, result.stderr
        assert "unexpected" not in result.stderr
