"""Business units: ``bu add``."""

from __future__ import annotations

import click

from contracts import admin
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.params import done


@main.group()
def bu() -> None:
    """Business units: the scope of contracts, runs and security."""


@bu.command("add")
@click.argument("business_unit")
@click.option("--descr", default="", help="Description.")
@click.option("--currency", default="USD", show_default=True, help="Default currency of its contracts.")
@json_option
@pass_app
def bu_add(app: AppContext, business_unit: str, descr: str, currency: str) -> None:
    """Add a business unit (e.g. US001)."""
    with app.session() as session:
        row = admin.add_business_unit(session, business_unit, descr, currency.upper())
    done(app, f"business unit {row.business_unit} added", business_unit=row.business_unit)
