"""Read-only views for the command line: one function per screen, returning plain dicts.

A view gathers what a person asks to see (``milestone show``, ``contract list``, ...) into data that prints
as a table or dumps as JSON without the printer knowing the schema. They live here, above the domain,
because they are the CLI's shape of the data, not rules; the services in ``contracts`` stay small.
Another screen section (the engine's "why not complete") is one more key in :func:`milestone_detail`.

Lists are one query each (joined and grouped), so listing thousands of milestones is not a query apiece;
given a ``limit`` they choose the page in SQL first, in key order, and count only its rows' details, and
``count_*`` gives the total of a paged answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from conditions.sql_rules import SqlRules
from contracts.audit import ObjectType, history_order
from contracts.keys import ContractKey, MilestoneKey, get_activity, get_contract, get_milestone
from contracts.milestones import references
from contracts.models import (
    ActivityStatusHistory,
    ConditionFields,
    ConditionTemplate,
    Contract,
    ContractLine,
    Milestone,
    MilestoneCondition,
    ProjectActivity,
    StatusChange,
)
from contracts.projects import referencing_contracts
from contracts.sql_hints import plain
from contracts.status import (
    ConditionStatus,
    ConditionType,
    ContractStatus,
    MilestoneSource,
    MilestoneStatus,
)
from contracts.templates import get_milestone_template, list_milestone_templates
from ms_prcs.explain import explain


def condition_target(condition: ConditionFields, ref: str | None) -> str:
    """What a condition waits for, in one line: a date, the SQL, a referenced milestone or activity."""
    lag = f" + {condition.days_lag} days" if condition.days_lag else ""
    match condition.condition_type:
        case ConditionType.DATE:
            return condition.condition_date.isoformat() if condition.condition_date else "(no date)"
        case ConditionType.SQL:
            return " ".join((condition.sql_text or "(no SQL)").split())
        case ConditionType.USER:
            return "Mark Complete"
        case ConditionType.MILESTONE if condition.source == MilestoneSource.PROJECTS:
            activity = f"{condition.project_id or '?'}/{condition.activity_id or '?'}"
            return f"activity {activity} {condition.activity_status or '(no status)'}{lag}"
        case ConditionType.MILESTONE:
            return f"milestone {ref or '(none)'} Completed{lag}"
    raise AssertionError(condition.condition_type)  # pragma: no cover - enum is exhaustive


def _condition_row(condition: MilestoneCondition) -> dict[str, Any]:
    ref = condition.ref_milestone.key if condition.ref_milestone is not None else None
    return {
        "seq": condition.condition_seq,
        "type": condition.condition_type,
        "status": condition.condition_status,
        "waits_for": condition_target(condition, ref),
        "descr": condition.descr,
        "completed_on": condition.completed_on,
        "completed_by": condition.completed_by,
        "condition_date": condition.condition_date,
        "sql_text": condition.sql_text,
        "source": condition.source,
        "ref": ref,
        "days_lag": condition.days_lag,
        "project_id": condition.project_id,
        "activity_id": condition.activity_id,
        "activity_status": condition.activity_status,
    }


CONDITION_COLUMNS = ("seq", "type", "status", "waits_for", "descr", "completed_on", "completed_by")
HISTORY_COLUMNS = ("at", "object", "old", "new", "by", "reason")


def milestone_detail(
    session: Session,
    key: MilestoneKey,
    *,
    as_of: dt.date | None = None,
    sql_rules: SqlRules | None = None,
    sql_timeout_s: float = 5.0,
    sql_role: str | None = None,
) -> dict[str, Any]:
    """Everything ``milestone show`` prints: the fields, the conditions, what references the milestone
    (what would block a cancel), and its status history with that of its conditions, oldest first.
    With ``as_of``, also why it is not complete as of that date (``why_not_complete``, the engine's view)."""
    milestone = get_milestone(session, key)
    by_pk = {c.id: c.condition_seq for c in milestone.conditions}
    changes = session.scalars(
        select(StatusChange)
        .where(
            or_(
                and_(
                    StatusChange.object_type == ObjectType.MILESTONE.value,
                    StatusChange.object_pk == milestone.id,
                ),
                and_(
                    StatusChange.object_type == ObjectType.CONDITION.value,
                    StatusChange.object_pk.in_(list(by_pk) or [-1]),
                ),
            )
        )
        .order_by(*history_order())
    )
    history = [
        {
            "at": change.changed_at.replace(microsecond=0),
            "object": "milestone"
            if change.object_type == ObjectType.MILESTONE.value
            else f"condition {by_pk[change.object_pk]}",
            "old": change.old_status,
            "new": change.new_status,
            "by": change.changed_by,
            "reason": change.reason,
        }
        for change in changes
    ]
    return {
        "milestone": milestone.key,
        "contract": milestone.contract.key,
        "milestone_id": milestone.milestone_id,
        "milestone_num": milestone.milestone_num,
        "descr": milestone.descr,
        "status": milestone.status,
        "required_conditions": milestone.required_conditions,
        "est_completion_date": milestone.est_completion_date,
        "completed_on": milestone.completed_on,
        "classification": milestone.classification,
        "created_from": milestone.created_from,
        "conditions": [_condition_row(c) for c in milestone.conditions],
        "referenced_by": references(session, milestone),
        "history": history,
        **(
            {
                "why_not_complete": explain(
                    session,
                    milestone,
                    as_of,
                    rules=sql_rules or SqlRules(),
                    timeout_s=sql_timeout_s,
                    sql_role=sql_role,
                ).to_json()
            }
            if as_of is not None
            else {}
        ),
    }


MILESTONE_COLUMNS = ("milestone", "descr", "status", "required", "conditions", "est_date", "completed_on")


def _milestone_filters(
    contract: ContractKey | None, business_unit: str | None, status: MilestoneStatus | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if contract is not None:
        where += [
            Contract.business_unit == contract.business_unit,
            Contract.contract_num == contract.contract_num,
        ]
    if business_unit is not None:
        where.append(Contract.business_unit == business_unit.upper())
    if status is not None:
        where.append(Milestone.status == status)
    return where


def _milestone_order() -> tuple[InstrumentedAttribute[Any], ...]:
    """Key order: unique, so pages never overlap, and what the contract and milestone indexes walk."""
    return (Contract.business_unit, Contract.contract_num, Milestone.milestone_id, Milestone.milestone_num)


def list_milestones(
    session: Session,
    *,
    contract: ContractKey | None = None,
    business_unit: str | None = None,
    status: MilestoneStatus | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Milestones in key order with ``completed/total`` condition counts; with ``limit``, the page from
    ``offset`` only: its milestones are chosen first (ordered and limited in SQL, walking the key indexes,
    so a page of 50 reads 50 milestones whatever the table's size), then only their conditions are counted."""
    if contract is not None:
        get_contract(session, contract)  # an unknown contract is an error, not an empty list
    where = _milestone_filters(contract, business_unit, status)
    if limit is not None:
        page = (
            select(Milestone.id)
            .join(Contract, Milestone.contract_pk == Contract.id)
            .where(*where)
            .order_by(*_milestone_order())
            .offset(offset)
            .limit(limit)
        )
        where = [Milestone.id.in_(list(session.scalars(page)))]
    completed = func.sum(case((MilestoneCondition.condition_status == ConditionStatus.COMPLETED, 1), else_=0))
    query = (
        select(
            Milestone,
            Contract.business_unit,
            Contract.contract_num,
            func.count(MilestoneCondition.id),
            completed,
        )
        .join(Contract, Milestone.contract_pk == Contract.id)
        .outerjoin(MilestoneCondition, MilestoneCondition.milestone_pk == Milestone.id)
        .where(*where)
        .group_by(Milestone.id, Contract.business_unit, Contract.contract_num)
        .order_by(*_milestone_order())
    )
    return [
        {
            "milestone": f"{bu}/{num}/{m.milestone_id}/{m.milestone_num}",
            "descr": m.descr,
            "status": m.status,
            "required": m.required_conditions,
            "conditions": f"{done or 0}/{total}",
            "est_date": m.est_completion_date,
            "completed_on": m.completed_on,
            "classification": m.classification,
        }
        for m, bu, num, total, done in session.execute(query)
    ]


def count_milestones(
    session: Session,
    *,
    contract: ContractKey | None = None,
    business_unit: str | None = None,
    status: MilestoneStatus | None = None,
) -> int:
    """How many milestones :func:`list_milestones` lists with these filters (a page's ``total``)."""
    if contract is not None:
        get_contract(session, contract)
    query = select(func.count()).select_from(Milestone)
    where = _milestone_filters(contract, business_unit, status)
    if contract is not None or business_unit is not None:
        query = query.join(Contract, Milestone.contract_pk == Contract.id)
    return session.scalar(query.where(*where)) or 0


CONTRACT_COLUMNS = ("contract", "descr", "customer", "currency", "status", "lines", "amount", "milestones")


def _contract_filters(business_unit: str | None, status: ContractStatus | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if business_unit is not None:
        where.append(Contract.business_unit == business_unit.upper())
    if status is not None:
        where.append(Contract.status == status)
    return where


def list_contracts(
    session: Session,
    business_unit: str | None = None,
    *,
    status: ContractStatus | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Contracts in key order with their line count and total amount, and their milestone count (two
    grouped subqueries); with ``limit``, the page from ``offset`` only: its contracts are chosen first
    (ordered and limited in SQL), then only their lines and milestones are counted."""
    where = _contract_filters(business_unit, status)
    order: tuple[ColumnElement[Any], ...] = (
        Contract.business_unit.expression,
        Contract.contract_num.expression,
    )
    lines = select(
        ContractLine.contract_pk, func.count().label("lines"), func.sum(ContractLine.amount).label("amount")
    ).group_by(ContractLine.contract_pk)
    milestones = select(Milestone.contract_pk, func.count().label("milestones")).group_by(
        Milestone.contract_pk
    )
    if limit is not None:
        page = (
            select(Contract.id)
            .where(*where)
            .order_by(Contract.business_unit, Contract.contract_num)
            .offset(offset)
            .limit(limit)
        )
        ids = list(session.scalars(page))
        where = [Contract.id.in_(ids)]
        # sort the page's rows, found by primary key: SQLite would otherwise walk the key index to the end
        order = (plain(Contract.business_unit.expression), plain(Contract.contract_num.expression))
        lines = lines.where(ContractLine.contract_pk.in_(ids))
        milestones = milestones.where(Milestone.contract_pk.in_(ids))
    line_totals, milestone_counts = lines.subquery(), milestones.subquery()
    query = (
        select(Contract, line_totals.c.lines, line_totals.c.amount, milestone_counts.c.milestones)
        .outerjoin(line_totals, line_totals.c.contract_pk == Contract.id)
        .outerjoin(milestone_counts, milestone_counts.c.contract_pk == Contract.id)
        .where(*where)
        .order_by(*order)
    )
    return [
        {
            "contract": c.key,
            "descr": c.descr,
            "customer": c.customer,
            "currency": c.currency,
            "status": c.status,
            "lines": n_lines or 0,
            "amount": amount if amount is not None else 0,
            "milestones": n_milestones or 0,
        }
        for c, n_lines, amount, n_milestones in session.execute(query)
    ]


def count_contracts(
    session: Session, business_unit: str | None = None, *, status: ContractStatus | None = None
) -> int:
    """How many contracts :func:`list_contracts` lists with these filters (a page's ``total``)."""
    query = select(func.count()).select_from(Contract).where(*_contract_filters(business_unit, status))
    return session.scalar(query) or 0


def contract_detail(session: Session, key: ContractKey) -> dict[str, Any]:
    contract = get_contract(session, key)
    return {
        "contract": contract.key,
        "business_unit": contract.business_unit,
        "contract_num": contract.contract_num,
        "descr": contract.descr,
        "customer": contract.customer,
        "currency": contract.currency,
        "status": contract.status,
        "activated_on": contract.activated_on,
        "attributes": {a.name: a.value for a in sorted(contract.attributes, key=lambda a: a.name)},
        "lines": [
            {"line": line.line_num, "product": line.product, "amount": line.amount} for line in contract.lines
        ],
        "milestones": list_milestones(session, contract=key),
    }


TEMPLATE_CONDITION_COLUMNS = ("seq", "type", "waits_for", "descr")


def _template_condition_row(condition: ConditionTemplate) -> dict[str, Any]:
    return {
        "seq": condition.condition_seq,
        "type": condition.condition_type,
        "waits_for": condition_target(condition, condition.ref_milestone_id),
        "descr": condition.descr,
        "condition_date": condition.condition_date,
        "sql_text": condition.sql_text,
        "source": condition.source,
        "ref_milestone_id": condition.ref_milestone_id,
        "days_lag": condition.days_lag,
        "project_id": condition.project_id,
        "activity_id": condition.activity_id,
        "activity_status": condition.activity_status,
    }


def milestone_template_detail(session: Session, milestone_id: str) -> dict[str, Any]:
    template = get_milestone_template(session, milestone_id)
    return {
        "milestone_id": template.milestone_id,
        "descr": template.descr,
        "required_conditions": template.required_conditions,
        "classification": template.classification,
        "conditions": [_template_condition_row(c) for c in template.conditions],
    }


def list_milestone_template_rows(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "milestone_id": t.milestone_id,
            "descr": t.descr,
            "required": t.required_conditions,
            "classification": t.classification,
            "conditions": len(t.conditions),
        }
        for t in list_milestone_templates(session)
    ]


ACTIVITY_COLUMNS = ("activity", "descr", "active", "status", "effdt")


def list_activities(session: Session, project_id: str | None = None) -> list[dict[str, Any]]:
    """Activities with their current (latest effective) status, in one query."""
    latest = (
        select(
            ActivityStatusHistory.activity_pk,
            ActivityStatusHistory.status,
            ActivityStatusHistory.effdt,
            func.row_number()
            .over(
                partition_by=ActivityStatusHistory.activity_pk,
                order_by=(ActivityStatusHistory.effdt.desc(), ActivityStatusHistory.effseq.desc()),
            )
            .label("rn"),
        )
    ).subquery()
    query = (
        select(ProjectActivity, latest.c.status, latest.c.effdt)
        .outerjoin(latest, and_(latest.c.activity_pk == ProjectActivity.id, latest.c.rn == 1))
        .order_by(ProjectActivity.project_id, ProjectActivity.activity_id)
    )
    if project_id is not None:
        query = query.where(ProjectActivity.project_id == project_id)
    return [
        {"activity": a.key, "descr": a.descr, "active": a.active, "status": status, "effdt": effdt}
        for a, status, effdt in session.execute(query)
    ]


def activity_detail(session: Session, project_id: str, activity_id: str) -> dict[str, Any]:
    activity = get_activity(session, project_id, activity_id)
    return {
        "activity": activity.key,
        "descr": activity.descr,
        "active": activity.active,
        "history": [{"effdt": h.effdt, "seq": h.effseq, "status": h.status} for h in activity.history],
        "referenced_by": referencing_contracts(session, activity),
    }
