"""``ms-prcs schedule``: run jobs at their times until stopped (SIGINT/SIGTERM).

The command parses and hands over: the jobs (:mod:`jobs.config`), the scheduler and its signal handling
(:func:`jobs.scheduler.run_schedule`) live in ``jobs``, the layer below the CLI (DESIGN 9).
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from contracts.errors import InvalidInput
from jobs.config import job_from_options, load_jobs, schema_text
from jobs.scheduler import run_schedule
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, pass_app
from ms_prcs.cli.params import whole

DEFAULT_JOB_NAME = "nightly"


@main.command("schedule")
@click.option("--at", "at_text", metavar="HH:MM", help="Run every night at this wall-clock time.")
@click.option("--tz", help="Time zone of --at and of the as-of date (default: MS_PRCS_TZ).")
@click.option("--every-minutes", type=whole(1), help="Run every N minutes instead of nightly.")
@click.option(
    "--bu", "business_units", multiple=True, metavar="BU", help="Business unit (repeat for several)."
)
@click.option("--contract", metavar="BU/CONTRACT", help="Only this contract.")
@click.option("--milestone", metavar="BU/CONTRACT/MS_ID/NUM", help="Only this milestone.")
@click.option(
    "--job",
    "job_name",
    default=DEFAULT_JOB_NAME,
    show_default=True,
    help="The job's name: one finished run per job and as-of date.",
)
@click.option("--force", is_flag=True, help="Run even if the job already ran for today's as-of date.")
@click.option(
    "--pre", multiple=True, metavar="CMD", help="Command to run before the engine (repeatable; no shell)."
)
@click.option(
    "--post",
    multiple=True,
    metavar="CMD",
    help="Command to run after a run without errors, e.g. billing (repeatable; no shell).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Several jobs from a YAML file instead of the options above.",
)
@click.option("--run-now", is_flag=True, help="Also run every job once at start, then on its schedule.")
@click.option("--schema", is_flag=True, help="Print the JSON Schema of a --config job file and exit.")
@pass_app
def schedule_command(
    app: AppContext,
    at_text: str | None,
    tz: str | None,
    every_minutes: int | None,
    business_units: tuple[str, ...],
    contract: str | None,
    milestone: str | None,
    job_name: str,
    force: bool,
    pre: tuple[str, ...],
    post: tuple[str, ...],
    config_file: Path | None,
    run_now: bool,
    schema: bool,
) -> None:
    """Run CA_MS_PRCS on a schedule until stopped. Each run is an ordinary process instance (trigger
    schedule). SIGINT or SIGTERM stops the run in flight after its chunk, records it, and exits 0."""
    if schema:
        click.echo(schema_text())
        return
    if config_file is not None:
        if at_text or every_minutes or business_units or contract or milestone or pre or post or force:
            raise InvalidInput(
                "--config takes the jobs from the file: give no --at, --every-minutes or run options"
                " (a job's 'force: true' goes in the file)"
            )
        specs = load_jobs(config_file, default_tz=tz or app.settings.tz)
    else:
        specs = [
            job_from_options(
                job_name,
                tz or app.settings.tz,
                at_text,
                every_minutes,
                business_units,
                contract,
                milestone,
                pre,
                post,
                force,
            )
        ]
    app.engine  # noqa: B018 - the schema guard, before the first night rather than at it
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run_schedule(specs, app.settings, run_now=run_now, announce=lambda text: click.echo(text, err=True))
    click.echo("scheduler stopped", err=True)
