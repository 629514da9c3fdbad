"""The contracts section written set-based: one look-up query per kind of key for the whole section, the
rules of ``contracts.admin`` and ``contracts.milestones`` checked in file order in Python, then one
``executemany`` insert per table (contracts, attributes, lines, milestones, their StatusChange rows,
conditions).

Loading a contract through the services one entry at a time cost about 15 queries and flushes an entry
(``benchmarks/load.py``: 79-360 entries/s). The rules are the services' own: the same checks
(:func:`contracts.limits.check_amount`, :meth:`ConditionSpec.checked`, :func:`check_classification`) and the
same exceptions, raised at the same path, for the first problem in the order the services would meet it.

Used for a section none of whose milestones is copied from a template (a copy brings the template's
conditions, approval rules and structure: those entries go through :func:`contracts.milestones.add_milestone`
as before, see :func:`ms_prcs.load.contracts.load_contracts`). Ids follow file order in every table, as
before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from contracts.admin import check_classification
from contracts.audit import ObjectType, change_row, record_changes
from contracts.errors import AlreadyExists, LoadError, MsPrcsError, NotFound
from contracts.keys import ContractKey, MilestoneKey, get_activity, get_milestone
from contracts.limits import check_amount, check_currency, check_int
from contracts.models import (
    BusinessUnit,
    Classification,
    Contract,
    ContractAttribute,
    ContractLine,
    Milestone,
    MilestoneCondition,
)
from contracts.status import (
    ConditionStatus,
    ContractStatus,
    CreatedFrom,
    MilestoneSource,
    MilestoneStatus,
    RequiredConditions,
)
from ms_prcs.load.context import LoadContext, at
from ms_prcs.load.schema import ContractEntry, MilestoneEntry
from ms_prcs.load.specs import condition_spec, parse_ref

T = TypeVar("T")
IN_LIST = 500
"""Keys per ``IN (...)`` list: well under SQLite's and PostgreSQL's bound-parameter limits."""


def applies(section: Sequence[ContractEntry]) -> bool:
    """True when no milestone of the section is copied from a template."""
    return not any(m.template for entry in section for m in entry.milestones)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), IN_LIST):
        yield items[start : start + IN_LIST]


@dataclass
class _Known:
    """What the section's keys name in the database, read once per section."""

    currencies: dict[str, str]
    contracts: set[tuple[str, str]]
    classifications: set[str]

    @classmethod
    def read(cls, session: Session, keys: list[ContractKey], classifications: set[str]) -> _Known:
        units = sorted({k.business_unit for k in keys})
        currencies: dict[str, str] = {}
        for chunk in _chunks(units):
            query = select(BusinessUnit.business_unit, BusinessUnit.currency).where(
                BusinessUnit.business_unit.in_(chunk)
            )
            currencies.update({bu: currency for bu, currency in session.execute(query)})
        wanted = {(k.business_unit, k.contract_num) for k in keys}
        existing: set[tuple[str, str]] = set()
        for chunk in _chunks(sorted({k.contract_num for k in keys})):
            query = select(Contract.business_unit, Contract.contract_num).where(
                Contract.contract_num.in_(chunk)
            )
            existing.update(row for row in session.execute(query).tuples() if row in wanted)
        found: set[str] = set()
        for chunk in _chunks(sorted(classifications)):
            names = select(Classification.classification).where(Classification.classification.in_(chunk))
            found.update(session.scalars(names))
        return cls(currencies, existing, found)


@dataclass
class _Rows:
    contracts: list[dict[str, Any]] = field(default_factory=list)
    attributes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    lines: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    milestones: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """Each child row with the index of its contract in ``contracts`` (its id is known after the insert)."""


def _insert_returning_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(statement, rows).scalars())


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(table), rows)


def add_contracts(
    ctx: LoadContext, section: Sequence[ContractEntry], path: str
) -> tuple[list[tuple[MilestoneKey, MilestoneEntry, str]], list[tuple[str, ContractKey, ContractStatus]]]:
    """Insert the section's contracts, lines, attributes, milestones and conditions; returns the milestones
    (key, entry, path) and the contract statuses to set, for the moves deferred to the end of the file."""
    session = ctx.session
    session.flush()
    keys = [ContractKey.parse(entry.contract) for entry in section]
    named = {m.classification for e in section for m in e.milestones if m.classification is not None}
    known = _Known.read(session, keys, named)
    rows = _Rows()
    added: list[tuple[MilestoneKey, MilestoneEntry, str]] = []
    statuses: list[tuple[str, ContractKey, ContractStatus]] = []
    for i, (entry, key) in enumerate(zip(section, keys, strict=True)):
        item_path = f"{path}[{i}]"
        with at(item_path):
            currency = known.currencies.get(key.business_unit)
            if currency is None:
                raise NotFound("business unit", key.business_unit)
            if (key.business_unit, key.contract_num) in known.contracts:
                raise AlreadyExists("contract", str(key))
            known.contracts.add((key.business_unit, key.contract_num))
            rows.contracts.append(
                {
                    "business_unit": key.business_unit,
                    "contract_num": key.contract_num,
                    "descr": entry.descr,
                    "customer": entry.customer,
                    "currency": check_currency(entry.currency) if entry.currency else currency,
                    "status": ContractStatus.PENDING,
                }
            )
        for name, value in entry.attributes.items():
            rows.attributes.append((i, {"name": name, "value": str(value)}))
        ctx.counts["contracts"] += 1
        line_nums: set[int] = set()
        for j, line in enumerate(entry.lines):
            with at(f"{item_path}.lines[{j}]"):
                check_int(line.line, "line number", 1)
                check_amount(line.amount, f"contract {key} line {line.line} amount", credits=True)
                if line.line in line_nums:
                    raise AlreadyExists("contract line", f"{key} line {line.line}")
            line_nums.add(line.line)
            rows.lines.append((i, {"line_num": line.line, "product": line.product, "amount": line.amount}))
            ctx.counts["contract lines"] += 1
        numbers: Counter[str] = Counter()
        for j, milestone in enumerate(entry.milestones):
            milestone_path = f"{item_path}.milestones[{j}]"
            mid = milestone.milestone_id.upper()
            with at(milestone_path):
                if (
                    milestone.classification is not None
                    and milestone.classification not in known.classifications
                ):
                    raise NotFound("classification", milestone.classification)
            numbers[mid] += 1
            num = numbers[mid]
            if milestone.num is not None and milestone.num != num:
                raise LoadError(
                    f"{milestone_path}.num",
                    f"is {milestone.num}, but this is milestone {mid} number {num}"
                    f" of contract {key} (numbers count from 1 in file order)",
                )
            rows.milestones.append(
                (
                    i,
                    {
                        "milestone_id": mid,
                        "milestone_num": num,
                        "descr": milestone.descr if milestone.descr is not None else "",
                        "status": MilestoneStatus.PENDING,
                        "required_conditions": milestone.required or RequiredConditions.ALL,
                        "est_completion_date": milestone.est_date,
                        "classification": milestone.classification,
                        "created_from": CreatedFrom.LOAD,
                    },
                )
            )
            added.append((MilestoneKey(key, mid, num), milestone, milestone_path))
            ctx.counts["milestones"] += 1
            ctx.counts["conditions"] += 0  # as the service path counts a milestone's copied conditions
        if entry.status is not None and entry.status != ContractStatus.PENDING:
            statuses.append((f"{item_path}.status", key, entry.status))
    contract_ids = _insert_returning_ids(session, Contract.__table__, rows.contracts)
    _insert(
        session,
        ContractAttribute.__table__,
        [{"contract_pk": contract_ids[i], **r} for i, r in rows.attributes],
    )
    _insert(session, ContractLine.__table__, [{"contract_pk": contract_ids[i], **r} for i, r in rows.lines])
    milestone_ids = _insert_returning_ids(
        session, Milestone.__table__, [{"contract_pk": contract_ids[i], **r} for i, r in rows.milestones]
    )
    record_changes(
        session.connection(),
        [
            change_row(ObjectType.MILESTONE, pk, None, MilestoneStatus.PENDING, ctx.who, "added")
            for pk in milestone_ids
        ],
    )
    _add_conditions(ctx, added, dict(zip((k for k, _, _ in added), milestone_ids, strict=True)))
    return added, statuses


class _Checks:
    """The per-milestone checks of ``add_condition`` that need the database, each asked once a section."""

    def __init__(self, ctx: LoadContext) -> None:
        self.ctx = ctx
        self.classifications: dict[str, MsPrcsError | None] = {}
        self.activities: set[tuple[str, str]] = set()

    def classification(self, classification: str | None, key: MilestoneKey) -> None:
        if classification is None:
            return
        if classification not in self.classifications:
            try:
                check_classification(self.ctx.session, classification, self.ctx.who.user, f"milestone {key}")
                self.classifications[classification] = None
            except MsPrcsError as exc:
                self.classifications[classification] = exc
        if self.classifications[classification] is not None:
            # Raised again with this milestone's key, as the service words it.
            check_classification(self.ctx.session, classification, self.ctx.who.user, f"milestone {key}")

    def activity(self, project: str, activity: str) -> None:
        if (project, activity) not in self.activities:
            get_activity(self.ctx.session, project, activity)
            self.activities.add((project, activity))


def _add_conditions(
    ctx: LoadContext, added: list[tuple[MilestoneKey, MilestoneEntry, str]], ids: dict[MilestoneKey, int]
) -> None:
    """Every milestone's conditions, after every milestone of the section exists (a Milestone condition may
    name one further down the file), as ``contracts.milestones.add_condition`` checks them."""
    checks = _Checks(ctx)
    rows: list[dict[str, Any]] = []
    for key, milestone, milestone_path in added:
        for j, condition in enumerate(milestone.conditions):
            path = f"{milestone_path}.conditions[{j}]"
            ref: MilestoneKey | None = None
            ref_pk: int | None = None
            if condition.ref is not None:
                with at(f"{path}.ref"):
                    ref = parse_ref(condition.ref, key.contract)
                    ref_pk = ids.get(ref)
                    if ref_pk is None:
                        ref_pk = get_milestone(ctx.session, ref).id
            spec = condition_spec(condition, ref, None)
            seq = j + 1
            with at(path):
                checks.classification(milestone.classification, key)
                checked = spec.checked(f"milestone {key} condition {seq}")
                projects = checked.ref is None and checked.source == MilestoneSource.PROJECTS
                if projects and checked.project_id and checked.activity_id:
                    checks.activity(checked.project_id, checked.activity_id)
            rows.append(
                {
                    "milestone_pk": ids[key],
                    "condition_seq": seq,
                    "ref_milestone_pk": ref_pk if checked.ref is not None else None,
                    "condition_status": ConditionStatus.READY,
                    **checked.stored(),
                }
            )
            ctx.counts["conditions"] += 1
    _insert(ctx.session, MilestoneCondition.__table__, rows)
