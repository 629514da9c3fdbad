"""``ms-prcs run``: one CA_MS_PRCS run over a run control, with a summary (or JSON) of what it did.

Exit code 3 when the run finished with error messages (a SQL condition that failed, a chain the guard
stopped): the run itself went through, but someone should read its log (``ms-prcs runs show N``).
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from contextlib import ExitStack
from dataclasses import replace

import click

from contracts.errors import InvalidInput, JobAlreadyRan
from contracts.keys import ContractKey, MilestoneKey
from jobs.signals import stop_on_signals
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import format_table, print_json
from ms_prcs.cli.params import CONTRACT_KEY, DATE, MILESTONE_KEY, plural, whole
from ms_prcs.engine import RunControl, RunResult, Severity, process
from ms_prcs.engine import workers as parallel
from ms_prcs.engine.process import ProgressCallback
from ms_prcs.engine.runlock import LockPolicy

EXIT_RUN_ERRORS = 3
SHOWN_MESSAGES = 20
SHOWN_KEYS = 50


@main.command("run")
@click.option(
    "--bu", "business_units", multiple=True, metavar="BU", help="Business unit (repeat for several)."
)
@click.option("--contract", type=CONTRACT_KEY, help="Only this contract (BU/CONTRACT).")
@click.option("--milestone", type=MILESTONE_KEY, help="Only this milestone (BU/CONTRACT/MS_ID/NUM).")
@click.option("--as-of", type=DATE, help="The run's as-of date (default: today in MS_PRCS_TZ).")
@click.option("--dry-run", is_flag=True, help="Report what would complete; write nothing.")
@click.option(
    "--chunk-size",
    type=whole(1),
    help="Milestones per committed chunk (default: MS_PRCS_CHUNK_SIZE or 50000).",
)
@click.option(
    "--job", "job_name", metavar="NAME", help="The job this run is: one finished run per job and as-of date."
)
@click.option(
    "--force", is_flag=True, help="Run the --job again although it already ran for this as-of date."
)
@click.option("--wait", is_flag=True, help="Wait for a run holding an overlapping scope instead of refusing.")
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="With --wait: give up after this long (default: wait as long as it takes).",
)
@click.option(
    "--workers",
    type=whole(1),
    default=1,
    show_default=True,
    help="Worker processes sharing the scope in milestone id ranges (PostgreSQL).",
)
@click.option(
    "--join",
    "join_run",
    type=whole(1),
    metavar="RUN",
    help="Help the running run RUN (process instance, started with --workers) from this host, then stop.",
)
@json_option
@pass_app
@click.pass_context
def run_command(
    ctx: click.Context,
    app: AppContext,
    business_units: tuple[str, ...],
    contract: ContractKey | None,
    milestone: MilestoneKey | None,
    as_of: dt.date | None,
    dry_run: bool,
    chunk_size: int | None,
    job_name: str | None,
    force: bool,
    wait: bool,
    wait_timeout: float | None,
    workers: int,
    join_run: int | None,
) -> None:
    """Process Ready milestones once (CA_MS_PRCS): complete those whose conditions are met as of the as-of
    date, chains included, committing in chunks. Exit code 3 if the run logged errors."""
    if join_run is not None:
        given = {
            "--bu": bool(business_units),
            "--contract": contract is not None,
            "--milestone": milestone is not None,
            "--as-of": as_of is not None,
            "--dry-run": dry_run,
            "--chunk-size": chunk_size is not None,
            "--job": job_name is not None,
            "--force": force,
            "--wait": wait or wait_timeout is not None,
            "--workers": workers != 1,
        }
        _join(app, join_run, [name for name, on in given.items() if on])
        return
    control = RunControl(
        as_of=as_of or app.settings.today(),
        business_units=business_units,
        contract=contract,
        milestone=milestone,
        dry_run=dry_run,
        job_name=job_name,
        force=force,
    )
    settings = replace(app.settings, chunk_size=chunk_size) if chunk_size else app.settings
    if workers > 1 and app.engine.dialect.name != "postgresql":
        click.echo("SQLite has one writer: running with 1 worker", err=True)
        workers = 1
    policy = LockPolicy(
        settings.heartbeat_limit_s,
        wait_s=(math.inf if wait_timeout is None else wait_timeout)
        if wait or wait_timeout is not None
        else 0.0,
    )
    try:
        with ExitStack() as stack:
            on_progress = None if app.json_output else _progress_bar(stack)
            result = process(app.engine, control, settings, on_progress, lock=policy, workers=workers)
    except JobAlreadyRan as done:  # not a refusal: the night's work is done (exit 0)
        if app.json_output:
            print_json({"process_instance": None, "already_ran": done.process_instance, "message": str(done)})
        else:
            click.echo(str(done))
        return
    if app.json_output:
        print_json(result.to_json())
    else:
        click.echo(summary(result, control))
    if result.has_errors:
        ctx.exit(EXIT_RUN_ERRORS)


def _join(app: AppContext, process_instance: int, conflicting: list[str]) -> None:
    """``--join RUN``: work ranges of the run until none is left; the run's own summary counts them."""
    if conflicting:
        raise InvalidInput(
            f"--join {process_instance} works on that run's scope, as-of date and ranges: leave out "
            + ", ".join(conflicting)
        )
    with stop_on_signals() as stop:  # Ctrl-C or SIGTERM: finish the chunk in flight, hand the range back
        worked = parallel.join(app.engine, app.settings, process_instance, should_stop=stop.is_set)
    tally = worked.tally
    if app.json_output:
        print_json(
            {
                "process_instance": process_instance,
                "ranges": worked.ranges,
                "milestones_processed": tally.processed,
                "milestones_completed": tally.milestones_completed,
                "conditions_completed": dict(tally.conditions),
                "chunks": tally.chunks,
                "feed_entries": tally.feed_entries,
            }
        )
        return
    click.echo(
        f"Joined process instance {process_instance}: {plural(worked.ranges, 'range')} worked,"
        f" {tally.processed} Ready milestones processed, {tally.milestones_completed} completed"
        f"\n  the run's summary: ms-prcs runs show {process_instance}"
    )


def _progress_bar(stack: ExitStack) -> ProgressCallback | None:
    """A progress bar on a terminal (never in pipes, logs or tests, where it would only be noise)."""
    if not sys.stdout.isatty():
        return None
    state: dict[str, object] = {}

    def update(processed: int, total: int | None) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = stack.enter_context(click.progressbar(length=total or 0, label="Processing milestones"))
            state["bar"] = bar
            state["done"] = 0
        done = int(state["done"])  # type: ignore[call-overload]
        bar.update(processed - done)  # type: ignore[attr-defined]
        state["done"] = processed

    return update


def summary(result: RunResult, control: RunControl) -> str:
    """The run for people: what it did in a few lines, then its warnings and errors."""
    by_type = ", ".join(f"{t} {n}" for t, n in result.conditions_completed.items())
    counts = result.message_counts
    if result.dry_run:
        head = f"Dry run as of {result.as_of} ({control.describe()}): nothing was written"
        verb = "would complete"
    else:
        head = f"Process instance {result.process_instance}: {result.outcome} as of {result.as_of} ({control.describe()})"
        verb = "completed"
    lines = [
        head,
        f"  Ready milestones processed  {result.milestones_processed}"
        f" ({plural(result.chunks, 'chunk')}, {result.passes} {'pass' if result.passes == 1 else 'passes'})",
        f"  milestones {verb:<16} {result.milestones_completed}",
        f"  conditions {verb:<16} {by_type}",
    ]
    if not result.dry_run:
        lines.append(f"  feed entries                {result.feed_entries}")
    lines.append(
        f"  messages                    {plural(counts.get(Severity.ERROR.value, 0), 'error')},"
        f" {plural(counts.get(Severity.WARNING.value, 0), 'warning')}"
    )
    if result.dry_run and result.completed:
        shown = list(result.completed[:SHOWN_KEYS])
        lines += ["", f"Milestones that {verb}:", *(f"  {k}" for k in shown)]
        if len(result.completed) > SHOWN_KEYS:
            lines.append(f"  ... and {len(result.completed) - SHOWN_KEYS} more (--json lists them all)")
    problems = [m for m in result.messages if m.severity != Severity.INFO]
    if problems:
        rows = [
            {"severity": m.severity, "object": m.object_key, "text": m.text}
            for m in problems[:SHOWN_MESSAGES]
        ]
        lines += ["", format_table(rows)]
        hidden = counts.get(Severity.ERROR.value, 0) + counts.get(Severity.WARNING.value, 0) - len(rows)
        if hidden > 0 and result.process_instance is not None:
            lines.append(f"... and {hidden} more: ms-prcs runs show {result.process_instance}")
    return "\n".join(lines)
