"""Stage gates (DESIGN 11): ``gate list|order``.

Parse, one service call in one transaction, print; the rules live in :mod:`ms_prcs.approvals.gates`.
"""

from __future__ import annotations

import click

from contracts.keys import ContractKey
from ms_prcs.approvals import gates
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit
from ms_prcs.cli.params import CONTRACT_KEY


@main.group()
def gate() -> None:
    """Stage gates: named, ordered groups of a contract's milestones (Not Started, Active, Complete)."""


@gate.command("list")
@click.argument("contract_key", metavar="BU/CONTRACT", type=CONTRACT_KEY)
@json_option
@pass_app
def gate_list(app: AppContext, contract_key: ContractKey) -> None:
    """List a contract's stage gates in order, with their derived status."""
    with app.session() as session:
        rows = [g.row() for g in gates.list_gates(session, contract_key)]
    emit(app, rows)


@gate.command("order")
@click.argument("contract_key", metavar="BU/CONTRACT", type=CONTRACT_KEY)
@click.argument("names", nargs=-1, required=True)
@json_option
@pass_app
def gate_order(app: AppContext, contract_key: ContractKey, names: tuple[str, ...]) -> None:
    """Put the named gates first, in this order (the others follow in their order)."""
    with app.session() as session:
        rows = [g.row() for g in gates.order_gates(session, contract_key, names)]
    emit(app, rows)
