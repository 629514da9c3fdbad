"""Keys in paths: ``/milestones/US001/K1000/MS001/1`` is milestone ``US001/K1000/MS001/1``. Parsed by the
domain's own key parsers, so a malformed key is refused with the CLI's words (422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from billing_plans.keys import EventKey, PlanKey
from contracts.keys import ContractKey, MilestoneKey

Num = Annotated[int, Path(ge=0, le=2**31 - 1)]
"""Numbers in keys fit the database's integers (a bigger one is refused, not an overflow)."""


def contract_key(bu: str, contract: str) -> ContractKey:
    return ContractKey.parse(f"{bu}/{contract}")


def milestone_key(bu: str, contract: str, ms_id: str, num: Num) -> MilestoneKey:
    return MilestoneKey.parse(f"{bu}/{contract}/{ms_id}/{num}")


def plan_key(bu: str, contract: str, line: Num, plan_id: str) -> PlanKey:
    return PlanKey.parse(f"{bu}/{contract}/{line}/{plan_id}")


def event_key(bu: str, contract: str, line: Num, plan_id: str, num: Num) -> EventKey:
    return EventKey.parse(f"{bu}/{contract}/{line}/{plan_id}/{num}")


CKey = Annotated[ContractKey, Depends(contract_key)]
MKey = Annotated[MilestoneKey, Depends(milestone_key)]
PKey = Annotated[PlanKey, Depends(plan_key)]
EKey = Annotated[EventKey, Depends(event_key)]

MILESTONE = "/milestones/{bu}/{contract}/{ms_id}/{num}"
CONTRACT = "/contracts/{bu}/{contract}"
PLAN = "/plans/{bu}/{contract}/{line}/{plan_id}"
EVENT = "/events/{bu}/{contract}/{line}/{plan_id}/{num}"
