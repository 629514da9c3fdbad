"""The ``ms-prcs`` command line: parse, call a service, print. Errors are mapped to exit codes in one place.

Exit codes: 0 done; 1 refused by a rule; 2 usage or input error; 3 a run finished with error messages.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from contracts.audit import default_user
from contracts.errors import MsPrcsError
from ms_prcs.cli.context import AppContext
from ms_prcs.settings import Settings


class MsPrcsGroup(click.Group):
    """Turns every MsPrcsError into ``Error: <message>`` on stderr and its exit code (``--debug`` re-raises)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MsPrcsError as exc:
            if _debug(ctx):
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (OperationalError, ProgrammingError) as exc:
            if _debug(ctx):
                raise
            if "no such table" in str(exc) or "does not exist" in str(exc):
                click.echo(
                    "Error: the database has no ms-prcs schema (or an old one): run `ms-prcs init`", err=True
                )
            else:
                click.echo(f"Error: database error: {exc.orig}", err=True)
            ctx.exit(1)
        except DBAPIError as exc:
            if _debug(ctx):
                raise
            click.echo(f"Error: database error: {exc.orig}", err=True)
            ctx.exit(1)


def _debug(ctx: click.Context) -> bool:
    app = ctx.find_object(AppContext)
    return bool(app and app.debug)


@click.group(cls=MsPrcsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db", envvar="MS_PRCS_DB", help="Database URL (default sqlite:///ms_prcs.db; env MS_PRCS_DB)."
)
@click.option("--user", "user", help="The audit identity of this command (default: your login name).")
@click.option("--json", "json_output", is_flag=True, help="Print JSON for programs instead of tables.")
@click.option("--debug", is_flag=True, help="Show the full traceback of errors.")
@click.version_option(package_name="ms-prcs")
@click.pass_context
def main(ctx: click.Context, db: str | None, user: str | None, json_output: bool, debug: bool) -> None:
    """ms-prcs: milestone processing (CA_MS_PRCS) for contracts, billing and revenue plans."""
    settings = Settings.from_env(db_url=db)
    ctx.obj = AppContext(settings=settings, user=user or default_user(), json_output=json_output, debug=debug)
    ctx.call_on_close(lambda: ctx.obj._engine.dispose() if ctx.obj._engine is not None else None)


def _register() -> None:
    """Command modules register themselves on import; keeping the list here makes the CLI's shape visible."""
    from ms_prcs.cli import (  # noqa: F401
        admin,
        alerts,
        approvals,
        bu,
        classification,
        condition,
        contracts,
        demo,
        event,
        feed,
        gate,
        holds,
        load,
        milestones,
        optional,
        plans,
        projects,
        report,
        role,
        run,
        runs,
        schedule,
        service,
        templates,
        user,
        webhooks,
        workqueue,
    )


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
