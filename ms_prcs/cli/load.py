"""``ms-prcs load FILE...``: load YAML/JSON files in one transaction (see :mod:`ms_prcs.load`)."""

from __future__ import annotations

from pathlib import Path

import click

from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import format_table, print_json
from ms_prcs.load import load_files


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_app
def load(app: AppContext, files: tuple[Path, ...]) -> None:
    """Load business units, users, roles, classifications, project activities, milestone templates and
    contracts (lines, attributes, milestones, conditions) from YAML or JSON FILES.

    All files are loaded in one transaction: a bad entry refuses everything, naming its path
    (e.g. contracts[1].milestones[0].conditions[2].date), and nothing is written.
    """
    with app.session() as session:
        summary = load_files(session, files, app.who(), app.settings.sql_rules)
    if app.json_output:
        print_json({"files": summary.files, "counts": summary.counts, "warnings": summary.warnings})
        return
    for warning in summary.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"loaded {', '.join(summary.files)}")
    click.echo(format_table([{"loaded": kind, "count": n} for kind, n in summary.counts.items()]))
