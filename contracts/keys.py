"""Human keys (``US001/K1000`` and ``US001/K1000/MS001/1``): parsing, printing and lookup."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.errors import InvalidInput, NotFound
from contracts.limits import INT32_MAX, column_length
from contracts.models import BusinessUnit, Contract, Milestone, MilestoneCondition, ProjectActivity

_PART = re.compile(r"^[A-Za-z0-9_.\-]+$")
_BU = column_length(BusinessUnit.business_unit)
_CONTRACT = column_length(Contract.contract_num)
_MILESTONE_ID = column_length(Milestone.milestone_id)


def _plain_part(length: int | None) -> str:
    return f"[A-Za-z0-9_.\\-]{{1,{length}}}" if length else "[A-Za-z0-9_.\\-]+"


CONTRACT_KEY_PATTERN = f"^{_plain_part(_BU)}/{_plain_part(_CONTRACT)}$"
"""Contract keys written plainly (no white space, parts within their lengths), which :meth:`ContractKey.parse`
accepts, as a regular expression for pydantic's core (``$`` is the end of the text): the quick check of
a big load file's entries (:mod:`ms_prcs.load.quick`)."""
MILESTONE_KEY_PATTERN = (
    f"^{_plain_part(_BU)}/{_plain_part(_CONTRACT)}/{_plain_part(_MILESTONE_ID)}/[1-9][0-9]{{0,8}}$"
)
"""Milestone keys written plainly, which :meth:`MilestoneKey.parse` accepts (numbers below 10^9)."""


@dataclass(frozen=True, order=True)
class ContractKey:
    business_unit: str
    contract_num: str

    @classmethod
    def parse(cls, text: str) -> ContractKey:
        parts = key_parts(text, "contract", "BU/CONTRACT (e.g. US001/K1000)", 2)
        _fits(text, "business unit", parts[0], _BU)
        _fits(text, "contract number", parts[1], _CONTRACT)
        return cls(parts[0].upper(), parts[1])

    def __str__(self) -> str:
        return f"{self.business_unit}/{self.contract_num}"


@dataclass(frozen=True, order=True)
class MilestoneKey:
    contract: ContractKey
    milestone_id: str
    milestone_num: int

    @classmethod
    def parse(cls, text: str) -> MilestoneKey:
        parts = key_parts(
            text, "milestone", "BU/CONTRACT/MILESTONE_ID/NUM (e.g. US001/K1000/MS001/1)", 4, numeric=(3,)
        )
        contract = ContractKey.parse("/".join(parts[:2]))
        _fits(text, "milestone id", parts[2], _MILESTONE_ID)
        if not 1 <= int(parts[3]) <= INT32_MAX:
            raise InvalidInput(
                f"milestone key {_shown(text)}: the milestone number must be from 1 to {INT32_MAX}"
            )
        return cls(contract, parts[2].upper(), int(parts[3]))

    def __str__(self) -> str:
        return f"{self.contract}/{self.milestone_id}/{self.milestone_num}"


def key_parts(text: str, what: str, form: str, count: int, numeric: tuple[int, ...] = ()) -> list[str]:
    """The slash-separated parts of a human key, or the one message every key gives for a bad shape.

    ``count`` parts, each of letters, digits and ``_.-``, those at ``numeric`` all digits; every key of
    DESIGN 10 (contracts, milestones, plans, plan events) is parsed here so they all say the same thing.
    """
    parts = text.strip().split("/")
    if len(parts) == count:
        for part in parts:
            if not _PART.match(part):
                break
        else:
            if all(parts[i].isdigit() for i in numeric):
                return parts
    raise InvalidInput(f"{what} key {_shown(text)} is not of the form {form}")


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 60 else f"{text[:40]!r}... ({len(text)} characters)"


def _fits(text: str, part: str, value: str, length: int | None) -> None:
    """A key's part longer than its column names nothing on any database; say so, the same on all."""
    if length is not None and len(value) > length:
        raise InvalidInput(f"key {_shown(text)}: the {part} is at most {length} characters, got {len(value)}")


def parse_date(text: str, what: str = "date") -> dt.date:
    """ISO dates only (``2026-11-23``): one unambiguous format for people, files and programs."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"{what} {text!r} is not a date of the form YYYY-MM-DD") from exc


def get_contract(session: Session, key: ContractKey) -> Contract:
    contract = session.scalar(
        select(Contract).where(
            Contract.business_unit == key.business_unit, Contract.contract_num == key.contract_num
        )
    )
    if contract is None:
        raise NotFound("contract", str(key))
    return contract


def get_milestone(session: Session, key: MilestoneKey) -> Milestone:
    milestone = session.scalar(
        select(Milestone)
        .join(Contract)
        .where(
            Contract.business_unit == key.contract.business_unit,
            Contract.contract_num == key.contract.contract_num,
            Milestone.milestone_id == key.milestone_id,
            Milestone.milestone_num == key.milestone_num,
        )
    )
    if milestone is None:
        get_contract(session, key.contract)  # a missing contract is the clearer message
        raise NotFound("milestone", str(key))
    return milestone


def get_condition(session: Session, key: MilestoneKey, seq: int) -> MilestoneCondition:
    milestone = get_milestone(session, key)
    for condition in milestone.conditions:
        if condition.condition_seq == seq:
            return condition
    raise NotFound("condition", f"{key}#{seq}")


def get_activity(session: Session, project_id: str, activity_id: str) -> ProjectActivity:
    activity = session.scalar(
        select(ProjectActivity).where(
            ProjectActivity.project_id == project_id, ProjectActivity.activity_id == activity_id
        )
    )
    if activity is None:
        raise NotFound("project activity", f"{project_id}/{activity_id}")
    return activity
