"""Why a milestone is not complete: per condition, met or not as of a date, and the reason in words.

The same rules as the engine's set-based predicates, applied to one milestone and worded for a person:
``Date 2026-12-31 is after as-of 2026-11-23``, ``waiting for US001/K1000/MS001/1 (Ready)``,
``Days Lag 10: met on 2026-12-03``, ``not marked complete``. A SQL condition's statement is run for this one
milestone, under the same read-only guard and time limit as in a run. The verdict of the summary ("a run as
of D completes it" or not) is the engine's, passed in by ``ms_prcs.explain`` from a dry run, so steps,
blocking and chains can never make the explanation promise what a run will not do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions import milestone as milestone_condition
from conditions.registry import kind
from conditions.sql import SqlConditionFailed, SqlReader
from conditions.sql_rules import SqlRules, validate_sql
from contracts.errors import SqlRuleError
from contracts.models import Milestone, MilestoneCondition
from contracts.required import satisfied
from contracts.status import ConditionStatus, ConditionType, MilestoneStatus, RequiredConditions


@dataclass(frozen=True)
class ConditionVerdict:
    seq: int
    condition_type: str
    status: str
    met: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.condition_type,
            "status": self.status,
            "met": self.met,
            "reason": self.reason,
        }

    def line(self) -> str:
        return (
            f"condition {self.seq} ({self.condition_type}): {'met' if self.met else 'not met'}: {self.reason}"
        )


@dataclass(frozen=True)
class Explanation:
    """``complete`` is whether the milestone is Completed, or would be by a run as of ``as_of``."""

    milestone: str
    as_of: dt.date
    status: str
    complete: bool
    summary: str
    conditions: tuple[ConditionVerdict, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "complete": self.complete,
            "summary": self.summary,
            "conditions": [c.to_json() for c in self.conditions],
        }


def explain_milestone(
    session: Session,
    milestone: Milestone,
    as_of: dt.date,
    *,
    rules: SqlRules,
    timeout_s: float,
    sql_role: str | None = None,
    completes: bool | None = None,
    held_back_by: Sequence[str] = (),
    completed_in_run: frozenset[str] = frozenset(),
) -> Explanation:
    """Per condition, met or not and why; the summary's verdict for a Ready milestone is ``completes``, what
    the engine does (``ms_prcs.explain`` passes the verdict of a dry run over the milestone and what it waits
    on), never a second opinion: the words explain it. ``held_back_by``: the open milestones of earlier
    steps. ``completed_in_run``: the milestones that dry run completes, so a Milestone condition on one of
    them reads "met in this run" as the engine meets it (a chain), not "waiting for". Without
    ``completes`` (no engine at hand) the verdict is the conditions' alone."""
    in_run = completed_in_run if completes else frozenset()  # only a chain the engine completes it through
    verdicts = tuple(
        ConditionVerdict(
            c.condition_seq,
            str(c.condition_type),
            str(c.condition_status),
            *_condition_words(session, c, as_of, in_run, rules, timeout_s, sql_role),
        )
        for c in milestone.conditions
    )
    complete, summary = _summary(milestone, verdicts, as_of, completes, held_back_by)
    return Explanation(milestone.key, as_of, str(milestone.status), complete, summary, verdicts)


def _condition_words(
    session: Session,
    condition: MilestoneCondition,
    as_of: dt.date,
    completed_in_run: frozenset[str],
    rules: SqlRules,
    timeout_s: float,
    sql_role: str | None,
) -> tuple[bool, str]:
    met, reason = explain_condition(
        session, condition, as_of, rules=rules, timeout_s=timeout_s, sql_role=sql_role
    )
    if not met and completed_in_run and condition.condition_type == ConditionType.MILESTONE:
        in_run = milestone_condition.explain_in_run(session, condition, as_of, completed_in_run)
        if in_run is not None:
            return in_run
    return met, reason


def explain_condition(
    session: Session,
    condition: MilestoneCondition,
    as_of: dt.date,
    *,
    rules: SqlRules,
    timeout_s: float,
    sql_role: str | None = None,
) -> tuple[bool, str]:
    """(met, reason) for one condition as of ``as_of``; a SQL condition runs as in a run, on a read-only
    connection of its own under ``sql_role`` (PostgreSQL; default: the database's SQL role)."""
    if condition.condition_status == ConditionStatus.COMPLETED:
        when = f" on {condition.completed_on}" if condition.completed_on else ""
        if condition.condition_type == ConditionType.USER:
            return True, f"marked complete by {condition.completed_by or 'someone'}{when}"
        return True, f"Completed{when}"
    if condition.condition_type == ConditionType.SQL:
        return _explain_sql(session, condition, as_of, rules, timeout_s, sql_role)
    explainer = kind(condition.condition_type).explain
    assert explainer is not None
    return explainer(session, condition, as_of)


def _explain_sql(
    session: Session,
    condition: MilestoneCondition,
    as_of: dt.date,
    rules: SqlRules,
    timeout_s: float,
    sql_role: str | None,
) -> tuple[bool, str]:
    text = condition.sql_text or ""
    if not text.strip():
        return False, "has no SQL text"
    try:
        statement = validate_sql(text, rules, obj="SQL condition")
    except SqlRuleError as err:
        return False, err.rule.splitlines()[0]
    milestone = condition.milestone
    candidate = (
        condition.id,
        milestone.contract.business_unit,
        milestone.contract.contract_num,
        milestone.milestone_id,
        milestone.milestone_num,
    )
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, sa.Connection) else bind
    try:
        with SqlReader(engine, sql_role) as reader:
            met = reader.met(statement, [candidate], as_of, timeout_s)
    except SqlConditionFailed as err:
        return False, f"the SQL fails: {err.reason}"
    if met:
        return True, f"the SQL returns a row as of {as_of}"
    return False, f"the SQL returns no row as of {as_of}"


def _summary(
    milestone: Milestone,
    verdicts: tuple[ConditionVerdict, ...],
    as_of: dt.date,
    completes: bool | None,
    held_back_by: Sequence[str],
) -> tuple[bool, str]:
    status = milestone.status
    if status == MilestoneStatus.COMPLETED:
        by = f" by run {milestone.completed_by_run}" if milestone.completed_by_run else ""
        return True, f"it is Completed (on {milestone.completed_on}{by})"
    if status == MilestoneStatus.CANCELLED:
        return False, "it is Cancelled and never completes"
    if not verdicts:
        return False, "it has no conditions, so it never completes"
    met = [v for v in verdicts if v.met]
    required = milestone.required_conditions
    satisfied_now = satisfied(required, (v.met for v in verdicts))
    if required == RequiredConditions.ALL:
        state = (
            f"all {len(verdicts)} conditions are met (ALL)"
            if satisfied_now
            else f"waiting for {len(verdicts) - len(met)} of {len(verdicts)} conditions (ALL)"
        )
    else:
        state = (
            f"condition {met[0].seq} is met (ONE)"
            if satisfied_now
            else f"none of its {len(verdicts)} conditions is met (ONE)"
        )
    if status == MilestoneStatus.PENDING:
        return False, f"it is Pending: runs ignore it until it is set Ready; {state}"
    engine_says = satisfied_now if completes is None else completes
    if engine_says:
        if not satisfied_now:
            state = "what it waits on completes first in the same run"
        return True, f"{state}: a run as of {as_of} completes it"
    if held_back_by:
        return False, f"{state}, but earlier steps are not Completed: " + ", ".join(held_back_by)
    return False, state
