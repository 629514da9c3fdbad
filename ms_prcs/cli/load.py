"""``ms-prcs load FILE...``: load YAML/JSON files in one transaction (see :mod:`ms_prcs.load`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import format_table, print_json
from ms_prcs.load import json_schema, load_files


@main.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--schema", is_flag=True, help="Print the JSON Schema of a load file and exit.")
@json_option
@pass_app
def load(app: AppContext, files: tuple[Path, ...], schema: bool) -> None:
    """Load business units, users, roles, classifications, project activities, milestone templates,
    contracts (lines, attributes, milestones, conditions), plans, approvals and structure from YAML, JSON
    or JSON Lines FILES.

    Every file is validated whole first, then all are loaded in one transaction: a bad entry refuses
    everything, naming its path (e.g. contracts[1].milestones[0].conditions[2].date), and nothing is
    written. --schema prints the JSON Schema the files are validated against.
    """
    if schema:
        click.echo(json.dumps(json_schema(), indent=2))
        return
    if not files:
        raise click.MissingParameter(param_type="argument", param_hint="'FILES...'")
    with app.session() as session:
        summary = load_files(session, files, app.who(), app.settings.sql_rules)
    if app.json_output:
        print_json({"files": summary.files, "counts": summary.counts, "warnings": summary.warnings})
        return
    for warning in summary.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"loaded {', '.join(summary.files)}")
    click.echo(format_table([{"loaded": kind, "count": n} for kind, n in summary.counts.items()]))
