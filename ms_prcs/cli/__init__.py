"""The ``ms-prcs`` command line: parse, call a service, print. Errors are mapped to exit codes in one place.

Exit codes: 0 done; 1 refused by a rule; 2 usage or input error; 3 a run finished with error messages.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import click
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from contracts.audit import default_user
from contracts.errors import MsPrcsError
from ms_prcs.cli.context import AppContext
from ms_prcs.settings import Settings


class MsPrcsGroup(click.Group):
    """Turns every MsPrcsError into ``Error: <message>`` on stderr and its exit code (``--debug`` re-raises),
    and imports a command's module when the command is first asked for (:data:`COMMANDS`)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and self is main and cmd_name in COMMANDS:
            import_module(f"ms_prcs.cli.{COMMANDS[cmd_name]}")
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        if self is main:
            load_all()
        return super().list_commands(ctx)

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


COMMANDS: dict[str, str] = {
    "alerts": "alerts",
    "approval": "approvals",
    "bu": "bu",
    "classification": "classification",
    "condition": "condition",
    "contract": "contracts",
    "demo": "demo",
    "event": "event",
    "feed": "feed",
    "gate": "gate",
    "hold": "holds",
    "inbox": "approvals",
    "init": "admin",
    "load": "load",
    "milestone": "milestones",
    "optional": "optional",
    "plan": "plans",
    "project": "projects",
    "queue": "workqueue",
    "report": "report",
    "role": "role",
    "run": "run",
    "runs": "runs",
    "schedule": "schedule",
    "serve": "service",
    "template": "templates",
    "token": "service",
    "user": "user",
    "webhook": "webhooks",
}
"""Each top-level command and the module of ``ms_prcs.cli`` that defines it (registering itself on
:data:`main` when imported). The modules are imported only when their command is asked for: ``ms-prcs
run`` does not import the service, the reports or pandas, which made every command's start about twice as
long. ``tests/cli/test_help.py`` checks this list against what the modules register."""


def load_all() -> None:
    """Import every command module (the help's list, the docs' CLI reference and the tests read them all)."""
    for module in sorted(set(COMMANDS.values())):
        import_module(f"ms_prcs.cli.{module}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
