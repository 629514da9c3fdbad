"""The structure options of the approval layer (DESIGN 11), shared by the two commands that set them:
``milestone workflow`` (one contract milestone) and ``template milestone workflow`` (a template, copied to the
milestones added from it): step, stage gate, deadlines, unset actions, blocking, panel, Save & Complete.

Only parsing and printing live here; the rules are :mod:`ms_prcs.approvals.config.structure`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ms_prcs.approvals.config.structure import WorkflowSpec, parse_statuses, parse_unset
from ms_prcs.approvals.steps import describe
from ms_prcs.cli.params import DATE, DAYS, whole

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


def workflow_spec(kw: dict[str, Any], **extra: Any) -> WorkflowSpec:
    """The spec the options of :func:`structure_options` give (``extra``: the template-only fields)."""
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


def workflow_data(row: Any) -> dict[str, Any]:
    """A milestone's or template's structure row as the command prints it (and ``--json`` returns it)."""
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


def describe_workflow(data: dict[str, Any]) -> str:
    """The set fields in one line."""
    return ", ".join(f"{k} {v}" for k, v in data.items() if v not in (None, "", False))
