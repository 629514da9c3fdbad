"""Structure sections (``ms_prcs.approvals``): steps, gates, deadlines, unset actions, blocking, optional
triggers, and the optional milestones a file asks to evaluate."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from contracts.errors import LoadError
from contracts.keys import ContractKey, MilestoneKey
from ms_prcs.approvals import hooks
from ms_prcs.approvals.config import structure as workflow_config
from ms_prcs.load.context import LoadContext, at
from ms_prcs.load.schema import MilestoneWorkflowEntry, TemplateWorkflowEntry

E = TypeVar("E", bound=Enum)


def workflow_spec(
    entry: MilestoneWorkflowEntry | TemplateWorkflowEntry, path: str
) -> workflow_config.WorkflowSpec:
    """The structure fields of an entry; a field the entry does not give is left as it is (``None``)."""
    with at(path):
        return workflow_config.WorkflowSpec(
            step=entry.step,
            sub_step=entry.sub_step,
            any_time=entry.any_time,
            stage_gate=entry.gate,
            ready_by_date=entry.ready_by,
            ready_by_days=entry.ready_by_days,
            complete_by_date=entry.complete_by,
            complete_by_days=entry.complete_by_days,
            unset_on=workflow_config.parse_unset(entry.unset_on) if entry.unset_on is not None else None,
            blocks=workflow_config.parse_statuses(entry.blocks) if entry.blocks is not None else None,
            panel=entry.panel,
            save_and_complete=entry.save_and_complete,
        )


def template_workflow_spec(entry: TemplateWorkflowEntry, path: str) -> workflow_config.WorkflowSpec:
    """A template's structure and, for an optional template, its triggers."""
    spec = workflow_spec(entry, path)
    with at(path):
        return workflow_config.WorkflowSpec(
            **{f: getattr(spec, f) for f in WORKFLOW_SPEC_FIELDS},
            optional=entry.optional,
            manual_add_roles=tuple(entry.manual_roles) if entry.manual_roles is not None else None,
            amount_source=_choice(workflow_config.AmountSource, entry.amount_source, f"{path}.amount_source"),
            thresholds={bu: _decimal(v, f"{path}.thresholds") for bu, v in (entry.thresholds or {}).items()}
            or None,
            attribute_trigger=entry.attributes,
            trigger_join=_choice(workflow_config.TriggerJoin, entry.join, f"{path}.join"),
        )


WORKFLOW_SPEC_FIELDS = (
    "step",
    "sub_step",
    "any_time",
    "stage_gate",
    "ready_by_date",
    "ready_by_days",
    "complete_by_date",
    "complete_by_days",
    "unset_on",
    "blocks",
    "panel",
    "save_and_complete",
)


def _choice(kind: type[E], text: str | None, path: str) -> E | None:
    """A value of the enum ``kind`` written in any case (``amount_source: Lines``, ``join: and``)."""
    if not text:
        return None
    for member in kind:
        if str(member.value).lower() == text.strip().lower():
            return member
    raise LoadError(path, f"expected one of {', '.join(str(m.value) for m in kind)}, got {text!r}")


def _decimal(text: str, path: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise LoadError(path, f"{text!r} is not a number") from exc


def load_milestone_template_workflows(
    ctx: LoadContext, section: list[TemplateWorkflowEntry], path: str
) -> None:
    """``template: MS_ID`` with the structure fields, and for optional templates their triggers."""
    for i, entry in enumerate(section):
        item_path = f"{path}[{i}]"
        spec = template_workflow_spec(entry, item_path)
        with at(item_path):
            workflow_config.set_template_workflow(ctx.session, entry.template, spec)
        ctx.counts["template workflows"] += 1


def load_milestone_workflows(ctx: LoadContext, section: list[MilestoneWorkflowEntry], path: str) -> None:
    """``milestone: BU/CONTRACT/MS_ID/NUM`` with the structure fields (contract statuses, deferred to the end
    of the file, then respect what blocks them)."""
    for i, entry in enumerate(section):
        item_path = f"{path}[{i}]"
        spec = workflow_spec(entry, item_path)
        with at(item_path):
            workflow_config.set_milestone_workflow(
                ctx.session, MilestoneKey.parse(entry.milestone), spec, ctx.who
            )
        ctx.counts["milestone workflows"] += 1


def load_optional_evaluations(ctx: LoadContext, section: list[str], path: str) -> None:
    """``optional_evaluate: [BU/CONTRACT, ...]``: add the optional milestones whose triggers hold."""
    for i, contract in enumerate(section):
        with at(f"{path}[{i}]"):
            ctx.warnings += hooks.evaluate_optional(
                ctx.session, ContractKey.parse(contract), ctx.who, ctx.rules
            )
