"""Test worlds for the engine, built through the contracts services (or set-based inserts for big ones)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from conditions.sql_rules import SqlRules
from contracts import admin, milestones, projects
from contracts.audit import Who
from contracts.keys import ContractKey, MilestoneKey, get_milestone
from contracts.models import (
    BusinessUnit,
    Milestone,
    MilestoneCondition,
    ProcessMessage,
    ProcessRun,
    StatusChange,
)
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, MilestoneSource, RequiredConditions
from ms_prcs.engine import RunControl, RunResult, process
from ms_prcs.settings import Settings

AS_OF = dt.date(2026, 11, 23)
WHO = Who("tester", dt.datetime(2026, 11, 1, 9, 0))
RULES = SqlRules()


def day(offset: int) -> dt.date:
    """A date ``offset`` days from the default as-of date."""
    return AS_OF + dt.timedelta(days=offset)


def date_spec(when: dt.date | None) -> ConditionSpec:
    return ConditionSpec(ConditionType.DATE, condition_date=when)


def user_spec() -> ConditionSpec:
    return ConditionSpec(ConditionType.USER)


def ref_spec(key: MilestoneKey, days_lag: int = 0) -> ConditionSpec:
    return ConditionSpec(
        ConditionType.MILESTONE, source=MilestoneSource.CONTRACTS, ref=key, days_lag=days_lag
    )


def project_spec(project: str, activity: str, status: str, days_lag: int = 0) -> ConditionSpec:
    return ConditionSpec(
        ConditionType.MILESTONE,
        source=MilestoneSource.PROJECTS,
        project_id=project,
        activity_id=activity,
        activity_status=status,
        days_lag=days_lag,
    )


def sql_spec(text: str) -> ConditionSpec:
    return ConditionSpec(ConditionType.SQL, sql_text=text)


@dataclass
class World:
    """A session and shortcuts for building contracts with milestones, committed for the engine to see."""

    session: Session

    def contract(self, key: str, bu_descr: str = "") -> ContractKey:
        ck = ContractKey.parse(key)
        if self.session.get(BusinessUnit, ck.business_unit) is None:
            admin.add_business_unit(self.session, ck.business_unit, bu_descr)
        admin.add_contract(self.session, ck, descr=f"contract {key}")
        admin.add_line(self.session, ck, 1, product="SERVICES", amount=Decimal("1000"))
        return ck

    def milestone(
        self,
        contract: ContractKey,
        milestone_id: str,
        *conditions: ConditionSpec,
        required: RequiredConditions = RequiredConditions.ALL,
        ready: bool = True,
    ) -> MilestoneKey:
        m = milestones.add_milestone(self.session, contract, milestone_id, WHO, required=required)
        key = MilestoneKey(contract, m.milestone_id, m.milestone_num)
        for spec in conditions:
            milestones.add_condition(self.session, key, spec, WHO)
        if ready:
            make_ready(self.session, key, WHO, RULES)
        return key

    def mark(self, key: MilestoneKey, seq: int = 1) -> None:
        milestones.mark_complete(self.session, key, seq, WHO)

    def activity(self, project: str, activity: str, history: Sequence[tuple[str, dt.date]] = ()) -> None:
        projects.add_activity(self.session, project, activity)
        for status, effdt in history:
            projects.set_activity_status(self.session, project, activity, status, effdt)

    def commit(self) -> None:
        self.session.commit()

    def status(self, key: MilestoneKey) -> str:
        return str(self.row(key).status)

    def row(self, key: MilestoneKey) -> Milestone:
        self.session.expire_all()
        return get_milestone(self.session, key)

    def completed_on(self, key: MilestoneKey) -> dt.date | None:
        return self.row(key).completed_on

    def condition_status(self, key: MilestoneKey, seq: int) -> str:
        m = self.row(key)
        return str(next(c.condition_status for c in m.conditions if c.condition_seq == seq))


def settings(**changes: Any) -> Settings:
    return replace(Settings(), **changes)


def run(
    engine: sa.Engine,
    as_of: dt.date = AS_OF,
    *,
    chunk_size: int = 50_000,
    sql_timeout_s: float = 5.0,
    **control: Any,
) -> RunResult:
    return process(
        engine,
        RunControl(as_of=as_of, **control),
        settings(chunk_size=chunk_size, sql_timeout_s=sql_timeout_s),
        now=lambda: dt.datetime(2026, 11, 23, 22, 0),
    )


def snapshot(session: Session) -> dict[str, Any]:
    """Every row a run may change, for "changed nothing" assertions."""
    session.expire_all()

    def rows(table: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in session.execute(sa.select(table).order_by(*table.primary_key.columns))]

    models: list[Any] = [Milestone, MilestoneCondition, StatusChange, ProcessRun, ProcessMessage]
    return {model.__tablename__: rows(model.__table__) for model in models}
