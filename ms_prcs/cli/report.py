"""``ms-prcs report activity|impact|cycle-time``: read-only reports as a table, CSV, JSON or HTML.

Each command builds the scope, runs one report in one (read-only) transaction and prints or writes it. The
figures, their definitions and the rendering live in :mod:`ms_prcs.reports`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, pass_app
from ms_prcs.cli.params import DATE, whole
from ms_prcs.reports.formats import FORMATS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ms_prcs.reports import Report, ReportScope

# The report modules (pandas, matplotlib) are imported inside the commands: every other command starts
# without paying for them.

F = TypeVar("F", bound=Callable[..., Any])


def report_options(f: F) -> F:
    """The options every report takes: its scope, its format and where to write it."""
    options = [
        click.option(
            "--bu",
            "business_units",
            multiple=True,
            metavar="BU",
            help="Only this business unit (repeat for several; default all).",
        ),
        click.option(
            "--from",
            "date_from",
            type=DATE,
            help="Only milestones with a status change on or after this day.",
        ),
        click.option(
            "--to",
            "date_to",
            type=DATE,
            help="Only milestones with a status change on or before this day.",
        ),
        click.option(
            "--as-of",
            "as_of",
            type=DATE,
            help="The report's today: decides Past Due and how long open stays have run (default today).",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            help="Output format (default table, or json with --json).",
        ),
        click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            help="Write the report to this file instead of printing it.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@main.group()
def report() -> None:
    """Reports: Activity, Impact and Cycle Time by Milestone (table, CSV, JSON or HTML with a chart)."""


@report.command("activity")
@report_options
@click.option(
    "--top",
    type=whole(1),
    default=5,
    show_default=True,
    help="How many bottlenecks (longest-waiting Ready milestones) to list.",
)
@pass_app
def activity(app: AppContext, /, top: int, **options: Any) -> None:
    """Milestones per milestone id by status, Past Due counts, and the bottlenecks.

    Past Due: not Completed or Cancelled, with an estimated completion date before the as-of date.
    """
    from ms_prcs.reports import activity_report

    _run(app, options, lambda session, scope: activity_report(session, scope, top))


@report.command("impact")
@report_options
@click.option(
    "--by",
    "by",
    type=click.Choice(("flow", "own-milestone")),
    default="flow",
    show_default=True,
    help="flow: on the earliest milestones of the contract's flow not yet approved (what the money waits "
    "on); own-milestone: on each event's own milestone.",
)
@pass_app
def impact(app: AppContext, /, by: str, **options: Any) -> None:
    """Billing and revenue amounts waiting on milestones not yet approved, with totals per business unit."""
    from ms_prcs.reports import impact_report

    _run(app, options, lambda session, scope: impact_report(session, scope, by))


@report.command("cycle-time")
@report_options
@pass_app
def cycle_time(app: AppContext, /, **options: Any) -> None:
    """Days spent in each status per milestone id: count, mean, median and 90th percentile.

    Stays of one milestone in a status are added up first; a milestone still in a status counts up to the
    end of the as-of day.
    """
    from ms_prcs.reports import cycle_time_report

    _run(app, options, cycle_time_report)


def _run(app: AppContext, options: dict[str, Any], build: Callable[[Session, ReportScope], Report]) -> None:
    """One report command: the scope from :func:`report_options`, one read-only transaction, the output."""
    from ms_prcs.reports import ReportScope

    scope = ReportScope.asked(
        as_of=options["as_of"] or app.settings.today(),
        business_units=options["business_units"],
        date_from=options["date_from"],
        date_to=options["date_to"],
    )
    with app.session() as session:
        result = build(session, scope)
    _emit(app, result, options["fmt"], options["output"])


def _emit(app: AppContext, result: Report, fmt: str | None, output: Path | None) -> None:
    from ms_prcs.reports.render import render

    chosen = fmt or ("json" if app.json_output else "table")
    text = render(result, chosen)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"{result.title} ({chosen}) written to {output}")
