"""Configuring the structure: steps, stage gate, deadlines, unset actions, blocking and optional triggers,
on a milestone template (copied to the milestones added from it) or on one contract milestone.

One value, :class:`WorkflowSpec`, serves the CLI, load files and both tables. Its fields default to
``None`` = "leave as it is", so a command that sets the step does not clear the gate. Everything is checked
before anything is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.admin import check_classification
from contracts.audit import Who
from contracts.errors import InvalidInput, NotFound, RuleViolation
from contracts.keys import MilestoneKey, get_milestone
from contracts.models import BusinessUnit, Milestone
from contracts.status import ContractStatus, MilestoneStatus
from contracts.templates import get_milestone_template
from ms_prcs.approvals.models import (
    MilestoneTemplateWorkflow,
    MilestoneWorkflow,
    MilestoneWorkflowFields,
    OptionalAttributeTrigger,
    OptionalThreshold,
    StageGate,
)


class UnsetAction(StrEnum):
    """What reverts a milestone's approvals (the seed's Unset Actions)."""

    AMOUNT = "amount"
    DETAIL = "detail"
    REOPEN = "reopen"


class AmountSource(StrEnum):
    """Which amounts an optional milestone's threshold compares."""

    LINE = "line"
    BILLING = "billing"
    REVENUE = "revenue"


class TriggerJoin(StrEnum):
    AND = "AND"
    OR = "OR"


ANY_BUSINESS_UNIT = "*"
"""``optional_threshold.business_unit`` for the threshold of every business unit without its own."""

SHARED_FIELDS = tuple(
    c.key for c in MilestoneWorkflow.__table__.columns if hasattr(MilestoneWorkflowFields, c.key)
)
"""The columns a template's workflow row hands to the milestones added from it."""


def parse_unset(texts: Iterable[str]) -> frozenset[UnsetAction]:
    """``amount,detail`` (or repeated options) into unset actions; ``none`` clears them."""
    words = [w.strip().lower() for t in texts for w in t.split(",") if w.strip()]
    if words == ["none"]:
        return frozenset()
    try:
        return frozenset(UnsetAction(w) for w in words)
    except ValueError as exc:
        raise InvalidInput(
            f"unset action {exc.args[0].split()[0]} is not one of amount, detail, reopen (or none)"
        ) from exc


def parse_statuses(texts: Iterable[str]) -> tuple[ContractStatus, ...]:
    """``Active,Closed`` into contract statuses (case-insensitive); ``none`` clears them."""
    words = [w.strip() for t in texts for w in t.split(",") if w.strip()]
    if [w.lower() for w in words] == ["none"]:
        return ()
    known = {s.value.lower(): s for s in ContractStatus}
    out: list[ContractStatus] = []
    for word in words:
        status = known.get(word.lower())
        if status is None:
            raise InvalidInput(f"contract status {word!r} is not one of Pending, Active, Closed")
        if status not in out:
            out.append(status)
    return tuple(out)


def blocked_statuses(text: str) -> tuple[str, ...]:
    """The statuses stored in ``blocks_statuses``."""
    return tuple(s for s in (p.strip() for p in (text or "").split(",")) if s)


@dataclass(frozen=True)
class WorkflowSpec:
    """Fields to set; ``None`` leaves a field as it is. ``stage_gate=""`` takes the milestone out of its gate."""

    step: int | None = None
    sub_step: int | None = None
    any_time: bool | None = None
    stage_gate: str | None = None
    ready_by_date: dt.date | None = None
    ready_by_days: int | None = None
    complete_by_date: dt.date | None = None
    complete_by_days: int | None = None
    unset_on: frozenset[UnsetAction] | None = None
    blocks: tuple[ContractStatus, ...] | None = None
    panel: str | None = None
    """The page panel it is shown on; ``""`` puts it back on the default Milestones panel."""
    save_and_complete: bool | None = None
    # templates only: the optional milestone's triggers
    optional: bool | None = None
    manual_add_roles: tuple[str, ...] | None = None
    trigger_join: TriggerJoin | None = None
    amount_source: AmountSource | None = None
    clear_amount_source: bool = False
    thresholds: Mapping[str, Decimal] | None = None
    attribute_trigger: Mapping[str, str] | None = None
    _template_only: tuple[str, ...] = field(
        default=(
            "optional",
            "manual_add_roles",
            "trigger_join",
            "amount_source",
            "thresholds",
            "attribute_trigger",
        ),
        repr=False,
    )

    def checked(self, obj: str) -> WorkflowSpec:
        for name in ("step", "sub_step", "ready_by_days", "complete_by_days"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInput(f"{obj}: {name.replace('_', '-')} {value} must be 0 or more")
        for what, given in (("stage gate", self.stage_gate), ("panel", self.panel)):
            if given is not None and len(given.strip()) > 30:
                raise InvalidInput(f"{obj}: {what} name {given!r} is longer than 30 characters")
        for bu, amount in (self.thresholds or {}).items():
            if not amount.is_finite() or amount < 0:
                raise InvalidInput(f"{obj}: threshold {amount} for {bu} must be a number of 0 or more")
        return self

    def columns(self) -> dict[str, Any]:
        """The shared milestone_workflow columns this spec sets."""
        values: dict[str, Any] = {}
        for name in ("step", "sub_step", "any_time", "ready_by_days", "complete_by_days"):
            if getattr(self, name) is not None:
                values[name] = getattr(self, name)
        for name in ("ready_by_date", "complete_by_date"):
            if getattr(self, name) is not None:
                values[name] = getattr(self, name)
        if self.stage_gate is not None:
            values["stage_gate"] = self.stage_gate.strip() or None
        if self.unset_on is not None:
            for action in UnsetAction:
                values[f"unset_on_{action.value}"] = action in self.unset_on
        if self.blocks is not None:
            values["blocks_statuses"] = ",".join(s.value for s in self.blocks)
        if self.panel is not None:
            values["panel"] = self.panel.strip() or None
        if self.save_and_complete is not None:
            values["save_and_complete"] = self.save_and_complete
        return values

    def template_options_given(self) -> list[str]:
        return [
            n
            for n in self._template_only
            if getattr(self, n) is not None or (n == "amount_source" and self.clear_amount_source)
        ]


def _defaults(row: MilestoneWorkflowFields) -> None:
    """Column defaults apply at INSERT; a new row read back before flushing needs them in Python."""
    for name, value in (
        ("step", 0),
        ("sub_step", 0),
        ("any_time", False),
        ("unset_on_amount", False),
        ("unset_on_detail", False),
        ("unset_on_reopen", False),
        ("blocks_statuses", ""),
        ("save_and_complete", False),
    ):
        if getattr(row, name) is None:
            setattr(row, name, value)


def ensure_gate(session: Session, contract_pk: int, name: str | None) -> StageGate | None:
    """The contract's gate ``name``, created last in gate order the first time a milestone names it."""
    if not name:
        return None
    gate = session.scalar(
        select(StageGate).where(StageGate.contract_pk == contract_pk, StageGate.name == name)
    )
    if gate is None:
        last = session.scalar(
            select(func.max(StageGate.gate_seq)).where(StageGate.contract_pk == contract_pk)
        )
        gate = StageGate(contract_pk=contract_pk, name=name, gate_seq=(last or 0) + 1)
        session.add(gate)
        session.flush()
    return gate


def workflow_row(session: Session, milestone: Milestone) -> MilestoneWorkflow:
    """The milestone's workflow row, created (step 0, nothing set) when it has none."""
    row = session.get(MilestoneWorkflow, milestone.id)
    if row is None:
        row = MilestoneWorkflow(milestone_pk=milestone.id, optional=False)
        _defaults(row)
        session.add(row)
    return row


def set_milestone_workflow(
    session: Session, key: MilestoneKey, spec: WorkflowSpec, who: Who
) -> MilestoneWorkflow:
    """Set a contract milestone's step, gate, deadlines, unset actions or blocking. Completed and Cancelled
    milestones are final (DESIGN 2), their structure included; the milestone's classification applies."""
    obj = f"milestone {key}"
    spec.checked(obj)
    extra = spec.template_options_given()
    if extra:
        raise InvalidInput(f"{obj}: {', '.join(extra)} can be set only on a milestone template")
    milestone = get_milestone(session, key)
    if milestone.status in (MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED):
        raise RuleViolation(obj, f"its workflow cannot be changed: it is {milestone.status}, which is final")
    check_classification(session, milestone.classification, who.user, obj)
    row = workflow_row(session, milestone)
    for name, value in spec.columns().items():
        setattr(row, name, value)
    ensure_gate(session, milestone.contract_pk, row.stage_gate)
    session.flush()
    return row


def set_template_workflow(
    session: Session, milestone_id: str, spec: WorkflowSpec
) -> MilestoneTemplateWorkflow:
    """Set a milestone template's structure and, for an optional template, its triggers. Milestones already
    added from the template keep their own copy."""
    template = get_milestone_template(session, milestone_id.upper())
    obj = f"milestone template {template.milestone_id}"
    spec.checked(obj)
    row = session.get(MilestoneTemplateWorkflow, template.milestone_id)
    if row is None:
        row = MilestoneTemplateWorkflow(
            milestone_id=template.milestone_id, optional=False, manual_add_roles="", trigger_join="AND"
        )
        _defaults(row)
        session.add(row)
    for name, value in spec.columns().items():
        setattr(row, name, value)
    if spec.optional is not None:
        row.optional = spec.optional
    if spec.manual_add_roles is not None:
        # system roles or contract team roles; team roles have no table of their own, so any name goes
        row.manual_add_roles = ",".join(r.strip() for r in spec.manual_add_roles if r.strip())
    if spec.trigger_join is not None:
        row.trigger_join = spec.trigger_join.value
    if spec.amount_source is not None:
        row.amount_source = spec.amount_source.value
    elif spec.clear_amount_source:
        row.amount_source = None
    session.flush()
    if spec.thresholds is not None:
        for bu, amount in spec.thresholds.items():
            unit = bu.upper()
            if unit != ANY_BUSINESS_UNIT and session.get(BusinessUnit, unit) is None:
                raise NotFound("business unit", unit)
            existing = session.get(OptionalThreshold, (template.milestone_id, unit))
            if existing is None:
                session.add(
                    OptionalThreshold(milestone_id=template.milestone_id, business_unit=unit, amount=amount)
                )
            else:
                existing.amount = amount
    if spec.attribute_trigger is not None:
        for old in session.scalars(
            select(OptionalAttributeTrigger).where(
                OptionalAttributeTrigger.milestone_id == template.milestone_id
            )
        ):
            session.delete(old)
        session.flush()
        for name, value in spec.attribute_trigger.items():
            session.add(OptionalAttributeTrigger(milestone_id=template.milestone_id, name=name, value=value))
    session.flush()
    if row.amount_source is not None and row.optional and not _thresholds(session, template.milestone_id):
        raise RuleViolation(
            obj,
            f"an amount trigger ({row.amount_source} amounts) needs a threshold (--threshold BU=AMOUNT or *=AMOUNT)",
        )
    return row


def _thresholds(session: Session, milestone_id: str) -> list[OptionalThreshold]:
    return list(
        session.scalars(select(OptionalThreshold).where(OptionalThreshold.milestone_id == milestone_id))
    )


def copy_template_workflow(
    session: Session, milestone_id: str, milestone: Milestone
) -> MilestoneWorkflow | None:
    """Give a milestone added from template ``milestone_id`` the template's structure (its own copy). The
    copy is not optional: a milestone added by hand from an optional template is required from the start;
    only a trigger adds optional ones (:func:`ms_prcs.approvals.optional.evaluate_optional`)."""
    template = session.get(MilestoneTemplateWorkflow, milestone_id)
    if template is None:
        return None
    row = MilestoneWorkflow(
        milestone_pk=milestone.id, optional=False, **{f: getattr(template, f) for f in SHARED_FIELDS}
    )
    _defaults(row)
    session.add(row)
    ensure_gate(session, milestone.contract_pk, row.stage_gate)
    session.flush()
    return row
