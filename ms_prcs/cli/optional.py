"""Optional milestones (DESIGN 11): ``optional add|evaluate``.

Parse, one service call in one transaction, print; the rules live in :mod:`ms_prcs.approvals.optional`,
what evaluating sets off in :mod:`ms_prcs.approvals.hooks`.
"""

from __future__ import annotations

import click

from contracts.keys import ContractKey
from ms_prcs.approvals import hooks, optional
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.params import CONTRACT_KEY, done


@main.group("optional")
def optional_group() -> None:
    """Optional milestones: added by hand or by their triggers, removed if a trigger lapses before anyone acts."""


@optional_group.command("add")
@click.argument("contract_key", metavar="BU/CONTRACT", type=CONTRACT_KEY)
@click.argument("milestone_id")
@json_option
@pass_app
def optional_add(app: AppContext, contract_key: ContractKey, milestone_id: str) -> None:
    """Add an optional milestone by hand (needs the template's roles, or the right to edit the contract)."""
    with app.session() as session:
        row = optional.add_optional(session, contract_key, milestone_id, app.who())
        key, status = row.key, row.status
    done(app, f"optional milestone {key} added ({status})", milestone=key, status=status)


@optional_group.command("evaluate")
@click.argument("contract_key", metavar="BU/CONTRACT", type=CONTRACT_KEY)
@json_option
@pass_app
def optional_evaluate(app: AppContext, contract_key: ContractKey) -> None:
    """Add the optional milestones whose trigger holds; remove those whose trigger lapsed before anyone acted."""
    with app.session() as session:
        notes = hooks.evaluate_optional(session, contract_key, app.who(), app.settings.sql_rules)
    if not app.json_output:
        for note in notes:
            click.echo(note)
    done(
        app,
        f"contract {contract_key}: optional milestones evaluated",
        contract=str(contract_key),
        notes=notes,
    )
