"""Structure of the approval layer on the command line: steps, stage gates, blocking, unset actions,
optional milestones, and line amounts (``milestone workflow|step|block``, ``gate ...``, ``optional ...``,
``template milestone workflow``, ``contract line amount``).

Parse, one service call in one transaction, print; the rules live in :mod:`ms_prcs.approvals`, what a
contract change sets off in :mod:`ms_prcs.approvals.hooks`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import click

from contracts.errors import InvalidInput
from contracts.keys import ContractKey, MilestoneKey
from ms_prcs.approvals import gates, optional
from ms_prcs.approvals import hooks as workflow_hooks
from ms_prcs.approvals.config.structure import (
    AmountSource,
    TriggerJoin,
    WorkflowSpec,
    parse_statuses,
    parse_unset,
    set_milestone_workflow,
    set_template_workflow,
)
from ms_prcs.approvals.steps import describe
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.contracts import contract_line, parse_amount, parse_assignments
from ms_prcs.cli.milestones import milestone
from ms_prcs.cli.output import emit
from ms_prcs.cli.params import CONTRACT_KEY, DATE, DAYS, MILESTONE_KEY, done, whole
from ms_prcs.cli.templates import milestone_template

F = TypeVar("F", bound=Callable[..., Any])


def structure_options(f: F) -> F:
    """Options shared by ``milestone workflow`` and ``template milestone workflow``."""
    options = [
        click.option(
            "--step",
            type=whole(0),
            help="Step: later steps wait for earlier ones (0 = no order).",
        ),
        click.option("--sub-step", type=whole(0), help="Order within the step (0 = any order)."),
        click.option(
            "--any-time/--in-order", "any_time", default=None, help="May complete before earlier steps."
        ),
        click.option("--gate", help="Stage gate name ('' takes it out of its gate)."),
        click.option("--ready-by", type=DATE, help="Ready (submitted) deadline, a date."),
        click.option("--ready-by-days", type=DAYS, help="Ready deadline, days after activation."),
        click.option("--complete-by", type=DATE, help="Complete (approved) deadline, a date."),
        click.option("--complete-by-days", type=DAYS, help="Complete deadline, days after activation."),
        click.option(
            "--unset-on",
            "unset_on",
            multiple=True,
            metavar="amount,detail,reopen|none",
            help="Unset actions.",
        ),
        click.option(
            "--blocks",
            "blocks",
            multiple=True,
            metavar="Active,Closed|none",
            help="Contract statuses it blocks.",
        ),
        click.option("--panel", help="Panel of the milestones page it is shown on ('' = Milestones)."),
        click.option(
            "--save-and-complete/--no-save-and-complete",
            "save_and_complete",
            default=None,
            help="Offer Save & Complete (approve and close the contract) on its approvals.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _spec(kw: dict[str, Any], **extra: Any) -> WorkflowSpec:
    return WorkflowSpec(
        step=kw["step"],
        sub_step=kw["sub_step"],
        any_time=kw["any_time"],
        stage_gate=kw["gate"],
        ready_by_date=kw["ready_by"],
        ready_by_days=kw["ready_by_days"],
        complete_by_date=kw["complete_by"],
        complete_by_days=kw["complete_by_days"],
        unset_on=parse_unset(kw["unset_on"]) if kw["unset_on"] else None,
        blocks=parse_statuses(kw["blocks"]) if kw["blocks"] else None,
        panel=kw["panel"],
        save_and_complete=kw["save_and_complete"],
        **extra,
    )


def _workflow_data(row: Any) -> dict[str, Any]:
    return {
        "step": describe(row.step, row.sub_step) if row.step else None,
        "any_time": bool(row.any_time),
        "gate": row.stage_gate,
        "ready_by": row.ready_by_date
        or (f"+{row.ready_by_days}d" if row.ready_by_days is not None else None),
        "complete_by": row.complete_by_date
        or (f"+{row.complete_by_days}d" if row.complete_by_days is not None else None),
        "unset_on": ",".join(a for a in ("amount", "detail", "reopen") if getattr(row, f"unset_on_{a}")),
        "blocks": row.blocks_statuses,
        "panel": row.panel,
        "save_and_complete": bool(row.save_and_complete),
    }


def _describe_workflow(data: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in data.items() if v not in (None, "", False))


# --- milestones ------------------------------------------------------------------------------------


@milestone.command("workflow")
@click.argument("key", type=MILESTONE_KEY)
@structure_options
@json_option
@pass_app
def milestone_workflow(app: AppContext, /, key: MilestoneKey, **kw: Any) -> None:
    """Set a milestone's step, stage gate, deadlines, unset actions and the contract statuses it blocks."""
    with app.session() as session:
        row = set_milestone_workflow(session, key, _spec(kw), app.who())
        data = _workflow_data(row)
    done(app, f"milestone {key}: {_describe_workflow(data) or 'no structure'}", milestone=str(key), **data)


@milestone.command("step")
@click.argument("key", type=MILESTONE_KEY)
@click.argument("step", type=whole(0))
@click.argument("sub_step", type=whole(0), required=False)
@click.option("--any-time/--in-order", "any_time", default=None, help="May complete before earlier steps.")
@json_option
@pass_app
def milestone_step(
    app: AppContext, key: MilestoneKey, step: int, sub_step: int | None, any_time: bool | None
) -> None:
    """Put a milestone in STEP (and SUB_STEP): later steps wait for earlier ones; same step = any order."""
    spec = WorkflowSpec(step=step, sub_step=sub_step if sub_step is not None else 0, any_time=any_time)
    with app.session() as session:
        row = set_milestone_workflow(session, key, spec, app.who())
        text = describe(row.step, row.sub_step)
    done(app, f"milestone {key} is in step {text}", milestone=str(key), step=row.step, sub_step=row.sub_step)


@milestone.command("block")
@click.argument("key", type=MILESTONE_KEY)
@click.option("--status", "statuses", multiple=True, required=True, metavar="Active,Closed|none")
@json_option
@pass_app
def milestone_block(app: AppContext, key: MilestoneKey, statuses: tuple[str, ...]) -> None:
    """Block contract statuses (e.g. Active,Closed) until this milestone is Completed; ``none`` unblocks."""
    blocks = parse_statuses(statuses)
    with app.session() as session:
        set_milestone_workflow(session, key, WorkflowSpec(blocks=blocks), app.who())
    text = ", ".join(blocks) if blocks else "no status"
    done(app, f"milestone {key} blocks {text} until it is Completed", milestone=str(key), blocks=list(blocks))


# --- templates --------------------------------------------------------------------------------------


@milestone_template.command("workflow")
@click.argument("milestone_id")
@structure_options
@click.option("--optional/--required", "optional_flag", default=None, help="Optional: added by its triggers.")
@click.option(
    "--manual-roles", help="Roles that may add it by hand (comma-separated; '' = everyone who can edit)."
)
@click.option(
    "--amount-source", type=click.Choice(["line", "billing", "revenue", "none"]), help="Amount trigger."
)
@click.option("--threshold", "thresholds", multiple=True, metavar="BU=AMOUNT", help="Threshold (BU or *).")
@click.option(
    "--attr", "attrs", multiple=True, metavar="NAME=VALUE", help="Attribute trigger pair (all must hold)."
)
@click.option("--no-attr", is_flag=True, help="Remove the attribute trigger.")
@click.option(
    "--join", "join", type=click.Choice(["AND", "OR"], case_sensitive=False), help="Amount AND/OR attributes."
)
@json_option
@pass_app
def template_workflow(
    app: AppContext,
    /,
    milestone_id: str,
    optional_flag: bool | None,
    manual_roles: str | None,
    amount_source: str | None,
    thresholds: tuple[str, ...],
    attrs: tuple[str, ...],
    no_attr: bool,
    join: str | None,
    **kw: Any,
) -> None:
    """Set a milestone template's structure (copied to milestones added from it) and optional triggers."""
    limits = {
        bu: parse_amount(v, "--threshold") for bu, v in parse_assignments(thresholds, "--threshold").items()
    }
    if attrs and no_attr:
        raise InvalidInput("--attr and --no-attr cannot be used together")
    spec = _spec(
        kw,
        optional=optional_flag,
        manual_add_roles=tuple(r.strip() for r in manual_roles.split(","))
        if manual_roles is not None
        else None,
        amount_source=AmountSource(amount_source) if amount_source and amount_source != "none" else None,
        clear_amount_source=amount_source == "none",
        thresholds=limits or None,
        attribute_trigger=parse_assignments(attrs, "--attr") if attrs else ({} if no_attr else None),
        trigger_join=TriggerJoin(join.upper()) if join else None,
    )
    with app.session() as session:
        row = set_template_workflow(session, milestone_id, spec)
        data = _workflow_data(row) | {
            "optional": row.optional,
            "manual_roles": row.manual_add_roles,
            "amount_source": row.amount_source,
            "join": row.trigger_join,
        }
        mid = row.milestone_id
    done(
        app,
        f"milestone template {mid}: {_describe_workflow(data) or 'no structure'}",
        milestone_id=mid,
        **data,
    )


# --- stage gates ------------------------------------------------------------------------------------


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


# --- optional milestones ----------------------------------------------------------------------------


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
        notes = workflow_hooks.evaluate_optional(session, contract_key, app.who(), app.settings.sql_rules)
    if not app.json_output:
        for note in notes:
            click.echo(note)
    done(
        app,
        f"contract {contract_key}: optional milestones evaluated",
        contract=str(contract_key),
        notes=notes,
    )


# --- contract line amounts ---------------------------------------------------------------------------


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
        notes = workflow_hooks.change_line_amount(session, key, line_num, value, app.who())
    if app.json_output:
        done(app, "", contract=str(key), line=line_num, amount=value, notes=notes)
        return
    for note in notes:
        click.echo(note)
