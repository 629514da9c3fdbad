"""Why a milestone is not complete, with the engine's own verdict (issue 15: one definition per rule).

The words per condition come from :mod:`conditions.explain`; whether a run as of the date completes the
milestone comes from a dry run of the engine over the milestone and what it waits on
(``RunControl.reach = waited-on``, :mod:`ms_prcs.engine.reach`). A run over every business unit completes a
milestone exactly when that dry run does, so the explanation says "completes" exactly when a run would:
steps, chains and SQL conditions included (the dry run evaluates SQL through the engine's own path).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions.explain import Explanation, explain_milestone
from conditions.sql_rules import SqlRules
from contracts.keys import MilestoneKey
from contracts.models import Milestone
from contracts.status import MilestoneStatus
from ms_prcs.approvals.steps import earlier_open_keys
from ms_prcs.engine import RunControl, process
from ms_prcs.engine.reach import Reach
from ms_prcs.settings import Settings


def engine_completed(
    engine: sa.Engine, key: MilestoneKey, as_of: dt.date, settings: Settings
) -> frozenset[str]:
    """The milestones a run as of ``as_of`` completes among ``key`` and what it waits on: a dry run."""
    control = RunControl(as_of=as_of, milestone=key, dry_run=True, reach=Reach.WAITED_ON, findings=False)
    return frozenset(process(engine, control, settings).completed)


def explain(
    session: Session,
    milestone: Milestone,
    as_of: dt.date,
    *,
    rules: SqlRules,
    timeout_s: float,
    sql_role: str | None = None,
) -> Explanation:
    completes = None
    completed: frozenset[str] = frozenset()
    held: list[str] = []
    if milestone.status == MilestoneStatus.READY:
        engine = cast(sa.Engine, session.get_bind())
        settings = replace(Settings(), sql_rules=rules, sql_timeout_s=timeout_s, sql_role=sql_role)
        key = MilestoneKey.parse(milestone.key)
        completed = engine_completed(engine, key, as_of, settings)
        completes = str(key) in completed
        held = earlier_open_keys(session, milestone.id)
    return explain_milestone(
        session,
        milestone,
        as_of,
        rules=rules,
        timeout_s=timeout_s,
        sql_role=sql_role,
        completes=completes,
        held_back_by=held,
        completed_in_run=completed,
    )
