"""``ms-prcs schedule``: run jobs at their times until stopped (SIGINT/SIGTERM).

The scheduler lives in ``jobs``, the layer above ``ms_prcs`` (DESIGN 9), while the command line lives
here. The command imports ``jobs`` inside its function, at the edge, so that importing ``ms_prcs`` (the
engine, the other commands) never imports the layer above it.
"""

from __future__ import annotations

import logging
import shlex
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from contracts.errors import InvalidInput
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
) -> None:
    """Run CA_MS_PRCS on a schedule until stopped. Each run is an ordinary process instance (trigger
    schedule). SIGINT or SIGTERM stops the run in flight after its chunk, records it, and exits 0."""
    import schedule

    from jobs.config import JobSpec, load_jobs, parse_time, parse_zone
    from jobs.runner import run_job
    from jobs.scheduler import add_every, add_nightly, serve

    if config_file is not None:
        if at_text or every_minutes or business_units or contract or milestone or pre or post or force:
            raise InvalidInput(
                "--config takes the jobs from the file: give no --at, --every-minutes or run options"
                " (a job's 'force: true' goes in the file)"
            )
        specs = load_jobs(config_file, default_tz=tz or app.settings.tz)
    else:
        if (at_text is None) == (every_minutes is None):
            raise InvalidInput("give exactly one of --at HH:MM and --every-minutes N (or --config FILE)")
        specs = [
            JobSpec(
                name=job_name,
                tz=parse_zone(tz or app.settings.tz, "--tz"),
                at=parse_time(at_text, "--at") if at_text else None,
                every_minutes=every_minutes,
                business_units=tuple(bu.upper() for bu in business_units),
                contract=contract,
                milestone=milestone,
                pre=tuple(tuple(shlex.split(c)) for c in pre),
                post=tuple(tuple(shlex.split(c)) for c in post),
                force=force,
            )
        ]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("ms_prcs.jobs").info(
            "%s: the run in flight stops after its chunk", signal.Signals(signum).name
        )
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        scheduler = schedule.Scheduler()
        for spec in specs:

            def action(spec: JobSpec = spec) -> None:
                run_job(spec, app.settings, stop.is_set)

            if spec.at is not None:
                add_nightly(scheduler, spec.at, spec.tz, spec.name, action)
            else:
                assert spec.every_minutes is not None
                add_every(scheduler, spec.every_minutes, spec.name, action)
            click.echo(f"scheduled {spec.describe()}", err=True)
        if run_now:
            for job in list(scheduler.jobs):
                if not stop.is_set():
                    job.run()  # type: ignore[no-untyped-call]
        serve(scheduler, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("scheduler stopped", err=True)
