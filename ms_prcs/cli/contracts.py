"""Contracts: every verb of ``contract``: ``add|show|list|status``, ``line add|amount``, ``attr set`` and
``team add|remove|list``; a change goes through the approval layer's entry point (:mod:`ms_prcs.approvals.hooks`).
"""

from __future__ import annotations

from decimal import Decimal

import click

from contracts import admin
from contracts.keys import ContractKey, get_contract
from contracts.status import ContractStatus
from ms_prcs import views
from ms_prcs.approvals import gates, hooks, rules
from ms_prcs.approvals.hooks import change_attribute, change_contract_status
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table
from ms_prcs.cli.params import CONTRACT_KEY, done, parse_amount, parse_assignments, whole


@main.group()
def contract() -> None:
    """Contracts (BU/CONTRACT), their lines, attributes and processing status."""


@contract.command("add")
@click.argument("key", type=CONTRACT_KEY)
@click.option("--descr", default="", help="Description.")
@click.option("--customer", default="", help="Customer id.")
@click.option("--currency", help="Currency (default: the business unit's).")
@click.option(
    "--attr", "attrs", multiple=True, metavar="NAME=VALUE", help="A contract attribute (repeatable)."
)
@json_option
@pass_app
def contract_add(
    app: AppContext,
    key: ContractKey,
    descr: str,
    customer: str,
    currency: str | None,
    attrs: tuple[str, ...],
) -> None:
    """Add a contract, Pending, e.g. ``contract add US001/K1000 --customer ACME``."""
    attributes = parse_assignments(attrs, "--attr")
    with app.session() as session:
        row = admin.add_contract(
            session,
            key,
            descr=descr,
            customer=customer,
            currency=currency.upper() if currency else None,
            attributes=attributes,
        )
    done(app, f"contract {key} added ({row.status})", contract=str(key), status=row.status)


@contract.command("show")
@click.argument("key", type=CONTRACT_KEY)
@json_option
@pass_app
def contract_show(app: AppContext, key: ContractKey) -> None:
    """Show a contract: fields, attributes, lines and milestones."""
    with app.session() as session:
        detail = views.contract_detail(session, key)
    emit_fields(app, detail)
    if app.json_output:
        return
    attributes = detail["attributes"]
    click.echo("\nAttributes:")
    click.echo(format_table([{"name": k, "value": v} for k, v in attributes.items()]))
    click.echo("\nLines:")
    click.echo(format_table(detail["lines"]))
    click.echo("\nMilestones:")
    click.echo(format_table(detail["milestones"], views.MILESTONE_COLUMNS))


@contract.command("list")
@click.option("--bu", "business_unit", help="Only this business unit.")
@click.option("--gate", help="Only contracts with this stage gate (its status is shown).")
@click.option(
    "--gate-status", help="Only contracts whose (current, or --gate) gate is Not Started, Active or Complete."
)
@json_option
@pass_app
def contract_list(
    app: AppContext, business_unit: str | None, gate: str | None = None, gate_status: str | None = None
) -> None:
    """List contracts with their line count, amount and milestone count (and stage gate, when they have gates)."""
    with app.session() as session:
        rows = views.list_contracts(session, business_unit)
        gated = gates.annotate_contracts(session, rows, gate, gate_status)
    rows = gated if gate or gate_status or any(r["gate"] for r in gated) else rows
    emit(app, rows)


@contract.command("status")
@click.argument("key", type=CONTRACT_KEY)
@click.argument("status", type=click.Choice(["pending", "active", "closed"], case_sensitive=False))
@json_option
@pass_app
def contract_status(app: AppContext, key: ContractKey, status: str) -> None:
    """Set a contract's processing status: pending, active or closed."""
    new = ContractStatus(status.capitalize())
    with app.session() as session:
        notes = change_contract_status(session, key, new, app.who())
    if not app.json_output:
        for note in notes:
            click.echo(note)
    done(app, f"contract {key} is {new}", contract=str(key), status=new, notes=notes)


@contract.group("line")
def contract_line() -> None:
    """Contract lines: products and amounts that billing and revenue plans hang off."""


@contract_line.command("add")
@click.argument("key", type=CONTRACT_KEY)
@click.argument("line_num", type=whole(1))
@click.option("--amount", required=True, help="Line amount, e.g. 12000.00.")
@click.option("--product", default="", help="Product id.")
@json_option
@pass_app
def contract_line_add(app: AppContext, key: ContractKey, line_num: int, amount: str, product: str) -> None:
    """Add line LINE_NUM to a contract."""
    value = parse_amount(amount)
    with app.session() as session:
        admin.add_line(session, key, line_num, product=product, amount=value)
    done(app, f"line {line_num} added to contract {key}", contract=str(key), line=line_num, amount=value)


@contract.group("attr")
def contract_attr() -> None:
    """Contract attributes: free name/value pairs."""


@contract_attr.command("set")
@click.argument("key", type=CONTRACT_KEY)
@click.argument("name")
@click.argument("value")
@json_option
@pass_app
def contract_attr_set(app: AppContext, key: ContractKey, name: str, value: str) -> None:
    """Set (add or replace) a contract attribute."""
    with app.session() as session:
        notes = change_attribute(session, key, name, value, app.who())
    if not app.json_output:
        for note in notes:
            click.echo(note)
    done(
        app,
        f"contract {key} attribute {name} = {value}",
        contract=str(key),
        name=name,
        value=value,
        notes=notes,
    )


@contract_line.command("amount")
@click.argument("key", metavar="BU/CONTRACT", type=CONTRACT_KEY)
@click.argument("line_num", metavar="LINE", type=whole(1))
@click.argument("amount")
@json_option
@pass_app
def contract_line_amount(app: AppContext, key: ContractKey, line_num: int, amount: str) -> None:
    """Change a line's amount: "amount" unset actions revert approvals, amount triggers re-evaluate."""
    value: Decimal = parse_amount(amount, "AMOUNT")
    with app.session() as session:
        notes = hooks.change_line_amount(session, key, line_num, value, app.who())
    if app.json_output:
        done(app, "", contract=str(key), line=line_num, amount=value, notes=notes)
        return
    for note in notes:
        click.echo(note)


@contract.group("team")
def contract_team() -> None:
    """The contract team: who may edit the contract, and the team roles approver rules name."""


def _team_member(f: click.decorators.FC) -> click.decorators.FC:
    """``KEY USER ROLE``: one team role of one user on a contract, as adding and removing name it."""
    key = click.argument("key", type=CONTRACT_KEY)
    user = click.argument("user_id", metavar="USER")
    return key(user(click.argument("team_role", metavar="ROLE")(f)))


@contract_team.command("add")
@_team_member
@json_option
@pass_app
def contract_team_add(app: AppContext, key: ContractKey, user_id: str, team_role: str) -> None:
    """Put USER on the contract's team with team role ROLE (e.g. "Project Manager")."""
    with app.session() as session:
        rules.add_team_member(session, key, user_id, team_role, app.user)
    done(
        app,
        f"{user_id} is on the team of contract {key} as {team_role}",
        contract=str(key),
        user=user_id,
        role=team_role,
    )


@contract_team.command("remove")
@_team_member
@json_option
@pass_app
def contract_team_remove(app: AppContext, key: ContractKey, user_id: str, team_role: str) -> None:
    """Take USER's team role ROLE off the contract's team."""
    with app.session() as session:
        rules.remove_team_member(session, key, user_id, team_role, app.user)
    done(
        app,
        f"{user_id} ({team_role}) removed from the team of contract {key}",
        contract=str(key),
        user=user_id,
        role=team_role,
    )


@contract_team.command("list")
@click.argument("key", type=CONTRACT_KEY)
@json_option
@pass_app
def contract_team_list(app: AppContext, key: ContractKey) -> None:
    """The contract's team: user and team role."""
    with app.session() as session:
        members = rules.team(session, get_contract(session, key).id)
    emit(app, [{"user": u, "role": r} for u, r in members])
