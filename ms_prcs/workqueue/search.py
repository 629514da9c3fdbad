"""The work queue: a business unit's Ready milestones, filtered and paginated, each with why it is not
complete.

The "why not complete" filter is set-based: it asks the engine's own verdict expression
(:func:`conditions.registry.verdict`: met, not met, blocked, or decided by its SQL) of each Ready condition
and maps (condition type, verdict) to a reason (:data:`REASONS`), so no condition rule is restated here.
The words shown for the milestones of a page come from :func:`conditions.explain.explain_milestone`, the same
explanation ``milestone show`` prints.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions import registry
from conditions.explain import explain_milestone
from conditions.sql_rules import SqlRules
from contracts.errors import InvalidInput
from contracts.models import Contract, Milestone, MilestoneCondition
from contracts.schema import table_of
from contracts.status import ConditionStatus, ConditionType, MilestoneStatus

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Reason:
    label: str
    condition_type: ConditionType | None
    """``None``: any type."""
    verdict: int


REASONS: dict[str, Reason] = {
    "no-date": Reason("Date condition without a date", ConditionType.DATE, registry.BLOCKED),
    "date-not-reached": Reason("Date condition not reached", ConditionType.DATE, registry.NOT_MET),
    "not-marked-complete": Reason("not marked complete", ConditionType.USER, registry.NOT_MET),
    "waiting-for-milestone": Reason(
        "waiting for a milestone or activity", ConditionType.MILESTONE, registry.NOT_MET
    ),
    "reference-blocked": Reason("its reference cannot complete", ConditionType.MILESTONE, registry.BLOCKED),
    "sql": Reason("SQL condition (decided by the run)", ConditionType.SQL, registry.PENDING),
    "met": Reason("met: the next run completes it", None, registry.MET),
}
"""Why a Ready condition is not complete, by slug (``--reason``): its type and the engine's verdict."""


@dataclass(frozen=True)
class QueueFilter:
    business_unit: str
    milestone_id: str | None = None
    est_from: dt.date | None = None
    est_to: dt.date | None = None
    condition_type: ConditionType | None = None
    contract_num: str | None = None
    customer: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.reason is not None and self.reason not in REASONS:
            raise InvalidInput(f"reason {self.reason!r} must be one of {', '.join(REASONS)}")
        if self.est_from and self.est_to and self.est_from > self.est_to:
            raise InvalidInput(f"estimated completion date range {self.est_from} .. {self.est_to} is empty")


@dataclass(frozen=True)
class QueuePage:
    filter: QueueFilter
    as_of: dt.date
    page: int
    page_size: int
    total: int
    rows: tuple[dict[str, Any], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "business_unit": self.filter.business_unit,
            "as_of": self.as_of.isoformat(),
            "page": self.page,
            "page_size": self.page_size,
            "total": self.total,
            "rows": list(self.rows),
        }


QUEUE_FIELDS = (
    "milestone",
    "contract_num",
    "customer",
    "milestone_id",
    "descr",
    "est_completion_date",
    "reasons",
    "why",
)


def to_csv(found: QueuePage) -> str:
    """The page as CSV, one row a milestone, its reasons joined by ``; `` (``queue list --format csv`` and
    ``GET /api/v1/queue?format=csv``)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=QUEUE_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in found.rows:
        flat = {**row, "reasons": "; ".join(row["reasons"])}
        writer.writerow(
            {
                k: "" if v is None else (v.isoformat() if isinstance(v, dt.date) else v)
                for k, v in flat.items()
            }
        )
    return out.getvalue()


def matching_ids(queue: QueueFilter, as_of: dt.date) -> sa.Select[tuple[int]]:
    """The ids of the Ready milestones ``queue`` selects, in queue order: the one query behind the page and
    behind mass updates over a filter."""
    query = (
        sa.select(Milestone.id)
        .join(Contract, Milestone.contract_pk == Contract.id)
        .where(
            Contract.business_unit == queue.business_unit.upper(), Milestone.status == MilestoneStatus.READY
        )
    )
    if queue.milestone_id:
        query = query.where(Milestone.milestone_id == queue.milestone_id.upper())
    if queue.est_from:
        query = query.where(Milestone.est_completion_date >= queue.est_from)
    if queue.est_to:
        query = query.where(Milestone.est_completion_date <= queue.est_to)
    if queue.contract_num:
        query = query.where(Contract.contract_num == queue.contract_num)
    if queue.customer:
        query = query.where(Contract.customer == queue.customer)
    if queue.condition_type is not None or queue.reason is not None:
        c = table_of(MilestoneCondition).alias("c")
        terms: list[sa.ColumnElement[bool]] = [
            c.c.milestone_pk == Milestone.id,
            c.c.condition_status == ConditionStatus.READY,
        ]
        if queue.condition_type is not None:
            terms.append(c.c.condition_type == queue.condition_type)
        if queue.reason is not None:
            reason = REASONS[queue.reason]
            if reason.condition_type is not None:
                terms.append(c.c.condition_type == reason.condition_type)
            terms.append(registry.verdict(c, as_of) == reason.verdict)
        query = query.where(sa.exists(sa.select(c.c.id).where(*terms)))
    return query.order_by(
        Contract.contract_num, Milestone.milestone_id, Milestone.milestone_num, Milestone.id
    )


def search(
    session: Session,
    queue: QueueFilter,
    as_of: dt.date,
    *,
    page: int = 1,
    page_size: int = 50,
    rules: SqlRules | None = None,
    timeout_s: float = 5.0,
    explain: bool = True,
) -> QueuePage:
    """One page of the queue, with every Ready condition's reason and (``explain``) the explanation's words.
    ``page`` counts from 1."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(
            f"page must be 1 or more and page size 1 to {MAX_PAGE_SIZE}, got {page} and {page_size}"
        )
    ids = matching_ids(queue, as_of)
    total = session.scalar(sa.select(sa.func.count()).select_from(ids.order_by(None).subquery())) or 0
    page_ids = list(session.scalars(ids.limit(page_size).offset((page - 1) * page_size)))
    milestones = (
        {m.id: m for m in session.scalars(sa.select(Milestone).where(Milestone.id.in_(page_ids)))}
        if page_ids
        else {}
    )
    reasons = _reasons(session, page_ids, as_of)
    rows = []
    for pk in page_ids:
        m = milestones[pk]
        row: dict[str, Any] = {
            "milestone": m.key,
            "contract_num": m.contract.contract_num,
            "customer": m.contract.customer,
            "milestone_id": m.milestone_id,
            "descr": m.descr,
            "est_completion_date": m.est_completion_date,
            "reasons": reasons.get(pk, []),
            "why": "",
        }
        if explain:
            verdict = explain_milestone(session, m, as_of, rules=rules or SqlRules(), timeout_s=timeout_s)
            unmet = [v.line() for v in verdict.conditions if not v.met]
            row["why"] = "; ".join([verdict.summary, *unmet])
        rows.append(row)
    return QueuePage(queue, as_of, page, page_size, total, tuple(rows))


def _reasons(session: Session, milestone_ids: list[int], as_of: dt.date) -> dict[int, list[str]]:
    """``condition N: <reason label>`` for each Ready condition of the milestones, by milestone id."""
    if not milestone_ids:
        return {}
    c = table_of(MilestoneCondition).alias("c")
    rows = session.execute(
        sa.select(c.c.milestone_pk, c.c.condition_seq, c.c.condition_type, registry.verdict(c, as_of))
        .where(c.c.milestone_pk.in_(milestone_ids), c.c.condition_status == ConditionStatus.READY)
        .order_by(c.c.milestone_pk, c.c.condition_seq)
    ).all()
    by_pair = {
        (r.condition_type, r.verdict): r.label for r in REASONS.values() if r.condition_type is not None
    }
    out: dict[int, list[str]] = {}
    for pk, seq, ctype, verdict in rows:
        label = (
            REASONS["met"].label
            if verdict == registry.MET
            else by_pair.get((ConditionType(ctype), verdict), "not met")
        )
        out.setdefault(pk, []).append(f"condition {seq}: {label}")
    return out
