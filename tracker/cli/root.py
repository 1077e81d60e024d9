"""The `tracker` root command: builds the App once and turns failures into one-line messages."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from tracker import __version__, audit
from tracker.app import App
from tracker.cli import calendar as calendar_cmd
from tracker.cli import claims, dbcmds, files, people, review, scale, site
from tracker.cli import reminders as reminders_cmd
from tracker.cli import report as report_cmd
from tracker.cli import scheduler as scheduler_cmd
from tracker.cli import scores as scores_cmd
from tracker.cli import status as status_cmd
from tracker.cli import web as web_cmd
from tracker.cli.errors import PREFIX, USER_ERROR, Failure, translate, usage_line


class TrackerGroup(click.Group):
    """A group whose commands never show a traceback: every failure becomes one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            # A closed pipe (`tracker export | head`) is not an error; click quiets it.
            raise
        except Exception as exc:
            app = ctx.find_object(App)
            url, password = app.url_and_password() if app is not None else (None, None)
            raise translate(exc, url, password) from exc

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the CLI; exits with 0, 1 (user error) or 2 (usage), or returns it when not standalone."""
        try:
            result = super().main(args, prog_name or "tracker", complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except Failure as exc:
            exc.show()
            code = exc.exit_code
        except click.UsageError as exc:
            click.echo(usage_line(exc), err=True)
            code = exc.exit_code
        except click.ClickException as exc:
            click.echo(PREFIX + exc.format_message(), err=True)
            code = exc.exit_code
        except click.Abort:
            click.echo(PREFIX + "aborted", err=True)
            code = USER_ERROR
        except Exception as exc:  # raised outside any command, e.g. while parsing
            translate(exc).show()
            code = USER_ERROR
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(name="tracker", cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (default: $TRACKER_CONFIG, or ./tracker.toml when present).",
)
@click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help="Database URL; overrides TRACKER_DATABASE_URL and the config file (default: sqlite:///tracker.db).",
)
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, database_url: str | None) -> None:
    """Record predictions, checkable claims and promises, resolve them with evidence, score sources."""
    app = App(config_file=config_file, database_url=database_url)
    ctx.obj = app
    ctx.call_on_close(app.close)
    # Every write of this command is recorded as the OS user's, through the command line.
    ctx.with_resource(audit.acting(audit.Actor(audit.Interface.CLI, audit.os_user())))


for command in (
    dbcmds.init,
    dbcmds.db,
    files.import_,
    files.export,
    people.sources,
    people.reviewers,
    claims.claims,
    review.assign,
    review.unassign,
    review.resolve,
    review.unresolve,
    review.progress,
    scale.scale,
    reminders_cmd.remind,
    reminders_cmd.reminders,
    site.scorecards,
    scores_cmd.scores,
    scores_cmd.score,
    report_cmd.report,
    calendar_cmd.calendar,
    scheduler_cmd.scheduler,
    status_cmd.status,
    web_cmd.up,
    web_cmd.serve,
):
    cli.add_command(command)
people.reviewers.add_command(web_cmd.set_password_cmd)


def main() -> None:
    """Entry point of the `tracker` console script."""
    cli.main(prog_name="tracker")
