"""SQL shared by the approval services and the engine's approval step: tables, the latest action of an
approval, the step order, and date arithmetic that reads the same on SQLite and PostgreSQL.

Every predicate here is a column expression over the tables (or aliases) it is given, so the one-contract
services and the engine's run over a whole scope use the same words for "not yet submitted" and "earlier
step", and cannot drift apart. The step order itself is :func:`ms_prcs.approvals.steps.earlier`, the one
definition the step rules of the workflow use too.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from contracts.models import Contract, ContractAttribute, Milestone, MilestoneCondition, StatusChange
from contracts.schema import table_of
from ms_prcs.approvals.models import (
    ApprovalAction,
    ApprovalRule,
    InboxItem,
    MilestoneAssignment,
    MilestoneWorkflow,
)
from ms_prcs.approvals.steps import earlier_open

condition_t = table_of(MilestoneCondition)
milestone_t = table_of(Milestone)
contract_t = table_of(Contract)
attribute_t = table_of(ContractAttribute)
rule_t = table_of(ApprovalRule)
action_t = table_of(ApprovalAction)
workflow_t = table_of(MilestoneWorkflow)
inbox_t = table_of(InboxItem)
assignment_t = table_of(MilestoneAssignment)
status_change_t = table_of(StatusChange)


def latest_action(condition: sa.FromClause) -> sa.ScalarSelect[Any]:
    """The latest ``approval_action.action`` of each ``condition`` row (NULL when it has none): a probe of
    the (condition_pk, id) index per row."""
    a = action_t.alias("ms_prcs_latest_action")
    return (
        sa.select(a.c.action)
        .where(a.c.condition_pk == condition.c.id)
        .order_by(a.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def prerequisites_met(milestone: sa.FromClause, workflow: sa.FromClause) -> sa.ColumnElement[bool]:
    """An approval may be submitted when every earlier step is done, or any time when its milestone says so."""
    return sa.or_(workflow.c.any_time.is_(True), ~earlier_open(milestone, workflow))


def milestone_key(contract: sa.FromClause, milestone: sa.FromClause) -> sa.ColumnElement[str]:
    """``US001/K1000/MS001/1`` in SQL."""
    return sa.cast(
        contract.c.business_unit
        + "/"
        + contract.c.contract_num
        + "/"
        + milestone.c.milestone_id
        + "/"
        + sa.cast(milestone.c.milestone_num, sa.String),
        sa.String,
    )
