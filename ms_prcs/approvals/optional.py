"""Optional milestones (the seed's "Add Optional Milestones"): templates flagged optional, added to a
contract when their trigger holds, removed again if it lapses before anyone acts.

Triggers of an optional template:

- **manual**: anyone who may edit the contract (its contract team, or everyone while it has none) adds it,
  or only holders of the template's ``manual_add_roles`` (system roles or contract team roles). A milestone
  added by hand is required from the start: it has no trigger to lapse.
- **amount**: the contract's line amounts, or its billing or revenue plan amounts (an event's amount, or its
  percentage of the line), over the template's threshold for the contract's business unit (``*`` = any other
  business unit). No threshold for the business unit: the amount trigger does not hold.
- **attributes**: every name=value pair of the template holds on the contract.
- amount and attribute triggers together are joined by ``AND`` (both) or ``OR`` (either).

:func:`evaluate_optional` adds a milestone from the template (its workflow row ``optional``) when the trigger
holds and the contract has none from that template (Cancelled ones aside). When the trigger no longer holds,
such an optional milestone is Cancelled with a StatusChange row "optional milestone trigger lapsed", unless
someone has acted on it (see :func:`acted_on`); then it is left alone and becomes required.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.admin import user_roles
from contracts.audit import ObjectType, Who, record_change
from contracts.errors import NotAuthorized, RuleViolation
from contracts.keys import ContractKey, get_contract
from contracts.milestones import add_milestone, references
from contracts.models import (
    Contract,
    ContractAttribute,
    ContractLine,
    Milestone,
    MilestoneCondition,
    Plan,
    PlanEvent,
    StatusChange,
)
from contracts.status import CreatedFrom, MilestoneStatus, PlanType
from contracts.templates import get_milestone_template
from ms_prcs.approvals.config import copy_template_config
from ms_prcs.approvals.config.structure import ANY_BUSINESS_UNIT, AmountSource, TriggerJoin
from ms_prcs.approvals.models import (
    ApprovalAction,
    ContractTeam,
    MilestoneTemplateWorkflow,
    MilestoneWorkflow,
    OptionalAttributeTrigger,
    OptionalThreshold,
)

LAPSED = "optional milestone trigger lapsed"
"""The StatusChange reason of an optional milestone removed because its trigger no longer holds."""

AUTOMATIC_VIA = ("status", "steps", "attribute", "auto")
"""``approval_action.via`` of what no person did: automatic submissions and approvals."""


@dataclass(frozen=True)
class Trigger:
    """Whether an optional template's automatic trigger holds on one contract, and why."""

    configured: bool
    holds: bool
    why: str


@dataclass
class OptionalOutcome:
    added: list[Milestone] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def contract_amount(session: Session, contract: Contract, source: AmountSource) -> Decimal:
    """The amount an amount trigger compares: the sum of line amounts, or of a plan type's event amounts."""
    if source == AmountSource.LINE:
        total = session.scalar(
            sa.select(sa.func.sum(ContractLine.amount)).where(ContractLine.contract_pk == contract.id)
        )
        return Decimal(total or 0)
    plan_type = PlanType.BILLING if source == AmountSource.BILLING else PlanType.REVENUE
    amount = sa.func.coalesce(PlanEvent.amount, PlanEvent.percentage * ContractLine.amount / 100)
    total = session.scalar(
        sa.select(sa.func.sum(amount))
        .select_from(PlanEvent)
        .join(Plan, Plan.id == PlanEvent.plan_pk)
        .join(ContractLine, ContractLine.id == Plan.contract_line_pk)
        .where(
            ContractLine.contract_pk == contract.id,
            Plan.plan_type == plan_type,
            PlanEvent.status != "Reversed",
        )
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


def threshold(session: Session, milestone_id: str, business_unit: str) -> Decimal | None:
    """The business unit's own threshold, else the ``*`` one, else none."""
    rows: dict[str, Decimal] = dict(
        (bu, amount)
        for bu, amount in session.execute(
            sa.select(OptionalThreshold.business_unit, OptionalThreshold.amount).where(
                OptionalThreshold.milestone_id == milestone_id,
                OptionalThreshold.business_unit.in_([business_unit, ANY_BUSINESS_UNIT]),
            )
        ).all()
    )
    value = rows.get(business_unit, rows.get(ANY_BUSINESS_UNIT))
    return None if value is None else Decimal(value)


def trigger(session: Session, contract: Contract, template: MilestoneTemplateWorkflow) -> Trigger:
    parts: list[tuple[bool, str]] = []
    if template.amount_source:
        source = AmountSource(template.amount_source)
        amount = contract_amount(session, contract, source)
        limit = threshold(session, template.milestone_id, contract.business_unit)
        if limit is None:
            parts.append((False, f"no {source} amount threshold for business unit {contract.business_unit}"))
        else:
            over = amount > limit
            parts.append((over, f"{source} amount {amount} {'>' if over else '<='} threshold {limit}"))
    pairs = list(
        session.execute(
            sa.select(OptionalAttributeTrigger.name, OptionalAttributeTrigger.value)
            .where(OptionalAttributeTrigger.milestone_id == template.milestone_id)
            .order_by(OptionalAttributeTrigger.name)
        ).all()
    )
    if pairs:
        values: dict[str, str] = dict(
            (name, value)
            for name, value in session.execute(
                sa.select(ContractAttribute.name, ContractAttribute.value).where(
                    ContractAttribute.contract_pk == contract.id
                )
            ).all()
        )
        missing = [f"{n}={v}" for n, v in pairs if values.get(n) != v]
        wanted = " and ".join(f"{n}={v}" for n, v in pairs)
        parts.append(
            (not missing, f"attributes {wanted}" + (f" (not: {', '.join(missing)})" if missing else ""))
        )
    if not parts:
        return Trigger(False, False, "no automatic trigger (manual add only)")
    join = TriggerJoin(template.trigger_join or "AND")
    holds = all(p for p, _ in parts) if join == TriggerJoin.AND else any(p for p, _ in parts)
    return Trigger(True, holds, f" {join.value} ".join(w for _, w in parts))


def acted_on(session: Session, milestone: Milestone) -> bool:
    """Someone acted on the milestone since it was added: a status change other than its adding (and
    auto-ready), a Mark Complete or its undo on a condition, or an approval decision or manual submission."""
    conditions = sa.select(MilestoneCondition.id).where(MilestoneCondition.milestone_pk == milestone.id)
    own = session.scalar(
        sa.select(sa.func.count()).where(
            StatusChange.object_type == ObjectType.MILESTONE.value,
            StatusChange.object_pk == milestone.id,
            StatusChange.reason != "added",
            ~StatusChange.reason.startswith("auto-ready"),
        )
    )
    marked = session.scalar(
        sa.select(sa.func.count()).where(
            StatusChange.object_type == ObjectType.CONDITION.value,
            StatusChange.object_pk.in_(conditions),
            StatusChange.reason.in_(["Mark Complete", "undo Mark Complete"]),
        )
    )
    decided = session.scalar(
        sa.select(sa.func.count()).where(
            ApprovalAction.condition_pk.in_(conditions), ApprovalAction.via.not_in(AUTOMATIC_VIA)
        )
    )
    return bool(own or marked or decided)


def evaluate_optional(session: Session, key: ContractKey, who: Who) -> OptionalOutcome:
    """Add the optional milestones whose trigger holds, and remove those whose trigger lapsed before anyone
    acted. Returns what changed, with notes for the person whose change caused it."""
    contract = get_contract(session, key)
    outcome = OptionalOutcome()
    templates = list(
        session.scalars(
            sa.select(MilestoneTemplateWorkflow)
            .where(MilestoneTemplateWorkflow.optional.is_(True))
            .order_by(MilestoneTemplateWorkflow.milestone_id)
        )
    )
    for template in templates:
        verdict = trigger(session, contract, template)
        if not verdict.configured:
            continue
        live = list(
            session.execute(
                sa.select(Milestone, MilestoneWorkflow.optional)
                .outerjoin(MilestoneWorkflow, MilestoneWorkflow.milestone_pk == Milestone.id)
                .where(
                    Milestone.contract_pk == contract.id,
                    Milestone.milestone_id == template.milestone_id,
                    Milestone.status != MilestoneStatus.CANCELLED,
                )
                .order_by(Milestone.milestone_num)
            ).all()
        )
        if verdict.holds:
            if not live:
                milestone = _add_from_template(session, key, template.milestone_id, who)
                row = session.get(MilestoneWorkflow, milestone.id)
                assert row is not None  # copied from the template's workflow row
                row.optional = True
                session.flush()
                outcome.added.append(milestone)
                outcome.notes.append(f"optional milestone {milestone.key} added: {verdict.why}")
            continue
        for milestone, optional in live:
            if not optional or milestone.status == MilestoneStatus.COMPLETED:
                continue
            _lapse(session, milestone, verdict, who, outcome)
    return outcome


def _lapse(
    session: Session, milestone: Milestone, verdict: Trigger, who: Who, outcome: OptionalOutcome
) -> None:
    row = session.get(MilestoneWorkflow, milestone.id)
    assert row is not None
    if acted_on(session, milestone):
        row.optional = False  # acted on: it stays, now as a required milestone
        session.flush()
        outcome.notes.append(
            f"optional milestone {milestone.key} kept: its trigger lapsed ({verdict.why}) but it was acted on"
        )
        return
    refs = references(session, milestone)
    if refs:
        outcome.notes.append(
            f"optional milestone {milestone.key} kept: its trigger lapsed ({verdict.why}) but it is referenced by "
            + "; ".join(refs)
        )
        return
    old = milestone.status
    milestone.status = MilestoneStatus.CANCELLED
    record_change(session, ObjectType.MILESTONE, milestone.id, old, MilestoneStatus.CANCELLED, who, LAPSED)
    session.flush()
    outcome.removed.append(milestone.key)
    outcome.notes.append(f"optional milestone {milestone.key} removed (Cancelled): {LAPSED} ({verdict.why})")


def may_add_by_hand(
    session: Session, contract: Contract, template: MilestoneTemplateWorkflow, user: str
) -> str | None:
    """Why ``user`` may not add the optional milestone by hand, or ``None`` when they may."""
    team = list(
        session.execute(
            sa.select(ContractTeam.user_id, ContractTeam.team_role).where(
                ContractTeam.contract_pk == contract.id
            )
        ).all()
    )
    roles = tuple(r for r in (template.manual_add_roles or "").split(",") if r)
    if roles:
        held = set(user_roles(session, user)) | {r for u, r in team if u == user}
        if not held & set(roles):
            return f"optional milestone {template.milestone_id} may be added only by the roles {', '.join(roles)}"
        return None
    if team and not any(u == user for u, _ in team):
        names = ", ".join(sorted({u for u, _ in team}))
        return f"only members of the contract's team may edit it ({names})"
    return None


def add_optional(session: Session, key: ContractKey, milestone_id: str, who: Who) -> Milestone:
    """Add an optional milestone by hand (the seed's "People" trigger): required from the start."""
    contract = get_contract(session, key)
    template = get_milestone_template(session, milestone_id.upper())
    row = session.get(MilestoneTemplateWorkflow, template.milestone_id)
    if row is None or not row.optional:
        raise RuleViolation(
            f"milestone template {template.milestone_id}",
            "is not optional; add it with `milestone add --template`",
        )
    problem = may_add_by_hand(session, contract, row, who.user)
    if problem:
        raise NotAuthorized(who.user, f"contract {key}", problem)
    return _add_from_template(session, key, template.milestone_id, who)


def _add_from_template(session: Session, key: ContractKey, milestone_id: str, who: Who) -> Milestone:
    """The milestone with its template's conditions, approval rules and structure (all the milestone's own)."""
    milestone = add_milestone(
        session, key, milestone_id, who, from_template=True, created_from=CreatedFrom.MANUAL
    )
    copy_template_config(session, milestone)
    return milestone
