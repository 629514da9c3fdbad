"""Request and response bodies of the API: pydantic models, separate from the ORM's.

Field names are those of the library's views (:mod:`ms_prcs.views`, the plan summaries, the feed records),
which are also what ``ms-prcs --json`` prints, so a program can move between the CLI and the API without a
mapping table. Amounts are decimal strings, as in the CLI's JSON.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from ms_prcs.service.credentials import Caller

T = TypeVar("T")

Stamp = Annotated[
    dt.datetime,
    PlainSerializer(lambda v: v.isoformat(), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 date and time in UTC, without an offset, as the CLI prints it",
        }
    ),
]
"""A timestamp as the database stores it (naive UTC) and ``ms-prcs --json`` prints it."""

Id = Annotated[int, Field(ge=0, le=2**31 - 1)]
"""A row id or number in a body: it fits the database's integers (a bigger one is refused, not an overflow)."""


class Body(BaseModel):
    """Request bodies refuse unknown fields: a misspelt field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Health(BaseModel):
    status: str
    detail: str = ""


class Problem(BaseModel):
    """RFC 9457 problem details: every error answer of the service."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = None


class Credentials(Body):
    user: str = Field(min_length=1, max_length=30)
    password: str = Field(min_length=1, max_length=1024)


class SessionInfo(BaseModel):
    user: str
    roles: list[str]
    via: str
    scopes: list[str] | None = None

    @classmethod
    def of(cls, caller: Caller) -> SessionInfo:
        scopes = sorted(s.value for s in caller.scopes) if caller.scopes is not None else None
        return cls(user=caller.user_id, roles=sorted(caller.roles), via=caller.via, scopes=scopes)


class Page(BaseModel, Generic[T]):
    """One page of a list in the list's own order; ``next_offset`` is None on the last page."""

    items: list[T]
    total: int
    offset: int
    limit: int
    next_offset: int | None

    @classmethod
    def of(cls, rows: list[Any], offset: int, limit: int) -> Page[T]:
        end = offset + limit
        return cls(
            items=rows[offset:end],
            total=len(rows),
            offset=offset,
            limit=limit,
            next_offset=end if end < len(rows) else None,
        )

    @classmethod
    def window(cls, items: list[Any], total: int, offset: int, limit: int) -> Page[T]:
        """A page the query already cut (``items`` are the rows from ``offset``; ``total`` all of them)."""
        end = offset + limit
        return cls(
            items=items, total=total, offset=offset, limit=limit, next_offset=end if end < total else None
        )


# --- contracts and milestones ---------------------------------------------------------------------


class ContractRow(BaseModel):
    contract: str
    descr: str
    customer: str
    currency: str
    status: str
    lines: int
    amount: Decimal
    milestones: int
    gate: str | None = None
    gate_status: str | None = None


class MilestoneRow(BaseModel):
    milestone: str
    descr: str
    status: str
    required: str
    conditions: str
    est_date: dt.date | None
    completed_on: dt.date | None
    classification: str | None
    step: str | None = None
    gate: str | None = None
    gate_status: str | None = None


class ContractLineRow(BaseModel):
    line: int
    product: str
    amount: Decimal


class ContractDetail(BaseModel):
    contract: str
    business_unit: str
    contract_num: str
    descr: str
    customer: str
    currency: str
    status: str
    activated_on: dt.date | None
    attributes: dict[str, str]
    lines: list[ContractLineRow]
    milestones: list[MilestoneRow]


class ConditionRow(BaseModel):
    seq: int
    type: str
    status: str
    waits_for: str
    descr: str
    completed_on: dt.date | None
    completed_by: str | None
    condition_date: dt.date | None
    sql_text: str | None
    source: str | None
    ref: str | None
    days_lag: int | None
    project_id: str | None
    activity_id: str | None
    activity_status: str | None


class HistoryRow(BaseModel):
    at: Stamp
    object: str
    old: str | None
    new: str
    by: str
    reason: str | None


class Verdict(BaseModel):
    seq: int
    type: str
    status: str
    met: bool
    reason: str


class WhyNotComplete(BaseModel):
    as_of: dt.date
    status: str
    complete: bool
    summary: str
    conditions: list[Verdict]


class MilestoneDetail(BaseModel):
    milestone: str
    contract: str
    milestone_id: str
    milestone_num: int
    descr: str
    status: str
    required_conditions: str
    est_completion_date: dt.date | None
    completed_on: dt.date | None
    classification: str | None
    created_from: str | None
    conditions: list[ConditionRow]
    referenced_by: list[str]
    history: list[HistoryRow]
    why_not_complete: WhyNotComplete | None = None


class Changed(BaseModel):
    """What a change did: the object, its status now, and any notes the follow-ups wrote."""

    milestone: str | None = None
    seq: int | None = None
    status: str | None = None
    notes: list[str] = []
    message: str


class ConditionBody(Body):
    """A condition's fields, as ``condition add|update`` take them; the services check they fit the type."""

    type: str = Field(pattern="^(?i:date|sql|user|milestone)$")
    date: dt.date | None = None
    sql: str | None = Field(default=None, max_length=20000)
    ref: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, pattern="^(?i:contracts|projects)$")
    days_lag: int = Field(default=0, ge=-36500, le=36500)
    project: str | None = Field(default=None, max_length=30)
    activity: str | None = Field(default=None, max_length=30)
    activity_status: str | None = Field(default=None, max_length=30)
    descr: str = Field(default="", max_length=254)


class Note(Body):
    note: str = Field(default="", max_length=2000)


class ApproveBody(Note):
    complete_contract: bool = False
