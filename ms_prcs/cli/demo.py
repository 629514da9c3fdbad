"""``ms-prcs demo``: build a demo SQLite database, run the engine over it, and say what happened."""

from __future__ import annotations

import datetime as dt

import click

from ms_prcs import demo as demo_builder
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, pass_app
from ms_prcs.cli.output import format_table
from ms_prcs.cli.params import DATE, plural, whole
from ms_prcs.settings import DEFAULT_DB_URL


@main.command("demo")
@click.option(
    "--contracts",
    type=whole(1),
    default=12,
    show_default=True,
    help="How many contracts to build.",
)
@click.option("--as-of", type=DATE, help="The as-of date of the demo's run (default: today in MS_PRCS_TZ).")
@pass_app
def demo_command(app: AppContext, contracts: int, as_of: dt.date | None) -> None:
    """Build a demo database (SQLite, --db; rebuilt from scratch each time, and only ever a file the demo
    made itself), run the milestone processor over it, and print a summary."""
    from ms_prcs.service.pages import story  # here: FastAPI costs a second at every CLI start

    result = demo_builder.build(
        app.settings.db_url,
        contracts=contracts,
        as_of=as_of or app.settings.today(),
        settings=app.settings,
        steps=[*demo_builder.STEPS, story.demo_step],
    )
    click.echo(render(result, app.settings.db_url))


def render(d: demo_builder.Demo, db_url: str) -> str:
    cmd = "ms-prcs" if db_url == DEFAULT_DB_URL else f"ms-prcs --db {db_url}"
    units = [u for u, _, _ in demo_builder.UNITS]
    statuses = ("Completed", "Ready", "Pending", "Cancelled")
    rows = [
        {"status": status, **{u: d.by_status.get(status, {}).get(u, 0) for u in units}}
        for status in statuses
        if status in d.by_status
    ]
    h, t = d.history, d.today
    by_type = ", ".join(f"{k} {v}" for k, v in t.conditions_completed.items())
    lines = [
        f"Demo database {d.path}: {d.contracts} contracts in {', '.join(units)}, {d.milestones} milestones",
        "",
        f"Run {h.process_instance} as of {h.as_of} (two weeks earlier): {h.milestones_completed} milestones completed",
        f"Run {t.process_instance} as of {t.as_of}: {t.milestones_completed} of {t.milestones_processed} Ready"
        f" milestones completed ({t.outcome}: {plural(t.message_counts.get('error', 0), 'error')},"
        f" {plural(t.message_counts.get('warning', 0), 'warning')})",
        f"  conditions completed: {by_type}",
        "",
        "Milestones by status and business unit:",
        format_table(rows),
        "",
        "Why some are not complete (as of the run):",
        *(f"  {key}: {why}" for key, why in d.explained),
        "",
        "Try:",
        f"  {cmd} runs show {t.process_instance}",
    ]
    waiting = [key for key, why in d.explained if not why.startswith("it is Completed")]
    lines += [f"  {cmd} milestone show {waiting[-1]} --as-of {d.as_of}"] if waiting else []
    lines += [f"  {cmd} run --as-of {d.as_of + dt.timedelta(days=30)} --dry-run"]
    if d.people:
        lines += [
            "",
            "The pages: write the service's secret key once, serve, open http://127.0.0.1:8000/ and sign in:",
            f"  {cmd} init && {cmd} serve",
            *(f"  {p.user:<10} password {p.password:<20} {p.does}" for p in d.people),
            "  Contract US001/K9001 has the approvals: http://127.0.0.1:8000/contracts/US001/K9001",
        ]
    return "\n".join(lines)
