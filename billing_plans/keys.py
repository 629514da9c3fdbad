"""Human keys of plans and plan events, in the slash style of DESIGN 10.

A plan is addressed as ``BU/CONTRACT/LINE/PLAN_ID`` (``US001/K1000/1/BP-STD``) and one of its events as
``BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM`` (``US001/K1000/1/BP-STD/2``). Plan ids are unique per contract line
whatever the plan type (see :func:`billing_plans.plans.add_plan`), so the key needs no type.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.errors import NotFound
from contracts.keys import ContractKey, get_contract, key_parts
from contracts.models import ContractLine, Plan, PlanEvent


@dataclass(frozen=True, order=True)
class PlanKey:
    contract: ContractKey
    line_num: int
    plan_id: str

    @classmethod
    def parse(cls, text: str) -> PlanKey:
        parts = key_parts(
            text, "plan", "BU/CONTRACT/LINE/PLAN_ID (e.g. US001/K1000/1/BP-STD)", 4, numeric=(2,)
        )
        return cls(ContractKey.parse("/".join(parts[:2])), int(parts[2]), parts[3].upper())

    def __str__(self) -> str:
        return f"{self.contract}/{self.line_num}/{self.plan_id}"


@dataclass(frozen=True, order=True)
class EventKey:
    plan: PlanKey
    event_num: int

    @classmethod
    def parse(cls, text: str) -> EventKey:
        parts = key_parts(
            text,
            "event",
            "BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM (e.g. US001/K1000/1/BP-STD/2)",
            5,
            numeric=(2, 4),
        )
        return cls(PlanKey.parse("/".join(parts[:4])), int(parts[4]))

    def __str__(self) -> str:
        return f"{self.plan}/{self.event_num}"


def plan_key(plan: Plan) -> PlanKey:
    line = plan.contract_line
    contract = line.contract
    return PlanKey(ContractKey(contract.business_unit, contract.contract_num), line.line_num, plan.plan_id)


def event_key(event: PlanEvent) -> EventKey:
    return EventKey(plan_key(event.plan), event.event_num)


def get_line(session: Session, key: ContractKey, line_num: int) -> ContractLine:
    contract = get_contract(session, key)
    for line in contract.lines:
        if line.line_num == line_num:
            return line
    raise NotFound("contract line", f"{key} line {line_num}")


def get_plan(session: Session, key: PlanKey) -> Plan:
    line = get_line(session, key.contract, key.line_num)
    plan = session.scalar(select(Plan).where(Plan.contract_line_pk == line.id, Plan.plan_id == key.plan_id))
    if plan is None:
        raise NotFound("plan", str(key))
    return plan


def get_event(session: Session, key: EventKey) -> PlanEvent:
    plan = get_plan(session, key.plan)
    for event in plan.events:
        if event.event_num == key.event_num:
            return event
    raise NotFound("plan event", str(key))
