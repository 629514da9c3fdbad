"""``ms-prcs runs list|show``: the process monitor, one row per run and one run's log."""

from __future__ import annotations

import click

from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table
from ms_prcs.cli.params import whole
from ms_prcs.engine import runlog

LIST_COLUMNS = (
    "process_instance",
    "as_of",
    "scope",
    "trigger",
    "job",
    "started_at",
    "ended_at",
    "outcome",
    "milestones_completed",
    "errors",
    "warnings",
)


@main.group()
def runs() -> None:
    """The process monitor: past runs, their counts and messages."""


@runs.command("list")
@click.option("--limit", type=whole(1), default=20, show_default=True, help="How many runs.")
@json_option
@pass_app
def runs_list(app: AppContext, limit: int) -> None:
    """The most recent runs, newest first, with their trigger (manual, schedule) and job. A run still
    Processing either runs now or died; the next run over its business units marks a dead one Died."""
    with app.engine.connect() as conn:
        rows = runlog.list_runs(conn, limit)
    emit(app, rows, [{c: r[c] for c in LIST_COLUMNS} for r in rows])


@runs.command("show")
@click.argument("process_instance", type=whole(1))
@json_option
@pass_app
def runs_show(app: AppContext, process_instance: int) -> None:
    """One run: its run control, timings, outcome, counts per condition type and every message."""
    with app.engine.connect() as conn:
        detail = runlog.run_detail(conn, process_instance)
    if app.json_output:
        emit_fields(app, detail)
        return
    shown = {k: v for k, v in detail.items() if k not in ("run_control", "conditions_by_type", "messages")}
    emit_fields(app, shown)
    by_type = detail["conditions_by_type"]
    click.echo("conditions completed by type: " + ", ".join(f"{t} {n}" for t, n in by_type.items()))
    click.echo("")
    click.echo(format_table(detail["messages"], ("severity", "object", "text")))
