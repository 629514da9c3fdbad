"""Setting a milestone Ready: the edit checks of DESIGN 2, then the move.

This lives above ``contracts`` because the checks need the condition types' rules (a SQL condition must
pass the SQL rules). Every problem is collected and reported at once, so a user fixes them in one pass.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from conditions.cycles import first_cycle
from conditions.sql_rules import SqlRules, validate_sql
from contracts.audit import Who
from contracts.errors import CycleDetected, EditCheckFailed, SqlRuleError
from contracts.keys import MilestoneKey, get_milestone
from contracts.milestones import change_status
from contracts.models import Milestone, MilestoneCondition, ProjectActivity
from contracts.status import ConditionType, MilestoneSource, MilestoneStatus


def make_ready(session: Session, key: MilestoneKey, who: Who, rules: SqlRules) -> Milestone:
    milestone = get_milestone(session, key)
    if milestone.status == MilestoneStatus.PENDING:
        check_cycles(milestone)
        problems = ready_problems(session, milestone, rules)
        if problems:
            raise EditCheckFailed(f"milestone {key}", problems)
    change_status(session, milestone, MilestoneStatus.READY, who, "set Ready by user; edit checks passed")
    return milestone


def ready_problems(session: Session, milestone: Milestone, rules: SqlRules) -> list[str]:
    """Everything that keeps ``milestone`` from being Ready, including the field checks of every Contracts
    milestone it references (directly or through a chain) that is not itself Completed."""
    problems: list[str] = []
    if not milestone.conditions:
        problems.append("a milestone needs at least one condition")
    problems += field_problems(session, milestone, rules)
    seen = {milestone.id}
    stack = [c.ref_milestone for c in milestone.conditions if c.ref_milestone is not None]
    while stack:
        ref = stack.pop()
        if ref.id in seen or ref.status in (MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED):
            continue
        seen.add(ref.id)
        if not ref.conditions:
            problems.append(f"referenced milestone {ref.key}: a milestone needs at least one condition")
        problems += [f"referenced milestone {ref.key}: {p}" for p in field_problems(session, ref, rules)]
        stack += [c.ref_milestone for c in ref.conditions if c.ref_milestone is not None]
    return problems


def field_problems(session: Session, milestone: Milestone, rules: SqlRules) -> list[str]:
    problems: list[str] = []
    for condition in milestone.conditions:
        problems += [
            f"condition {condition.condition_seq} ({condition.condition_type}): {p}"
            for p in _condition_problems(session, condition, rules)
        ]
    return problems


def _condition_problems(session: Session, condition: MilestoneCondition, rules: SqlRules) -> list[str]:
    match condition.condition_type:
        case ConditionType.DATE:
            return [] if condition.condition_date else ["a Date condition needs a date"]
        case ConditionType.USER:
            return []
        case ConditionType.SQL:
            if not (condition.sql_text or "").strip():
                return ["a SQL condition needs SQL text"]
            try:
                validate_sql(condition.sql_text or "", rules, obj=f"condition {condition.condition_seq}")
            except SqlRuleError as exc:
                return [exc.rule]
            return []
        case ConditionType.MILESTONE:
            return _milestone_reference_problems(session, condition)
    raise AssertionError(condition.condition_type)  # pragma: no cover - enum is exhaustive


def _milestone_reference_problems(session: Session, condition: MilestoneCondition) -> list[str]:
    if condition.source == MilestoneSource.PROJECTS:
        if not (condition.project_id and condition.activity_id):
            return ["a Projects milestone condition needs a project and an activity"]
        problems = (
            [] if condition.activity_status else ["a Projects milestone condition needs an activity status"]
        )
        activity = session.scalar(
            select(ProjectActivity).where(
                ProjectActivity.project_id == condition.project_id,
                ProjectActivity.activity_id == condition.activity_id,
            )
        )
        where = f"project activity {condition.project_id}/{condition.activity_id}"
        if activity is None:
            problems.append(f"{where} does not exist")
        elif not activity.active:
            problems.append(f"{where} is inactive")
        return problems
    ref = condition.ref_milestone
    if ref is None:
        return ["a Contracts milestone condition needs a referenced milestone"]
    if ref.status == MilestoneStatus.CANCELLED:
        return [f"referenced milestone {ref.key} is Cancelled"]
    return []


def check_cycles(start: Milestone) -> None:
    """Refuse Ready when the milestone's references loop back on themselves anywhere downstream.

    The Contracts references reachable from ``start`` make a graph for :func:`conditions.cycles.first_cycle`
    (the run's guard reads the same module); the error carries the whole loop, e.g.
    ``MS001/1 -> MS002/1 -> MS001/1`` (with contract prefixes when it crosses contracts).
    """
    graph: dict[int, list[int]] = {}
    nodes: dict[int, Milestone] = {start.id: start}
    stack = [start]
    while stack:
        node = stack.pop()
        if node.id in graph:
            continue
        graph[node.id] = []
        for condition in node.conditions:
            ref = condition.ref_milestone
            if ref is None or condition.source != MilestoneSource.CONTRACTS:
                continue
            graph[node.id].append(ref.id)
            nodes[ref.id] = ref
            stack.append(ref)
    loop = first_cycle(graph, start.id)
    if loop is not None:
        raise CycleDetected(f"milestone {start.key}", _short_keys([nodes[pk] for pk in loop]))


def _short_keys(loop: list[Milestone]) -> list[str]:
    same_contract = len({m.contract_pk for m in loop}) == 1
    return [f"{m.milestone_id}/{m.milestone_num}" if same_contract else m.key for m in loop]
