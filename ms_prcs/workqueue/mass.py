"""Mass updates over a filter of the work queue or a file of keys, with the same checks as one at a time.

Each operation reports per item what changed and what was refused and why (:class:`MassResult`). Two modes:
per item (the default: what passes its checks changes, the rest is reported) and ``atomic`` (all or nothing:
one refusal and nothing changes). ``dry_run`` checks and reports, then rolls everything back.

Mark Complete is set-based, because its checks allow it: the rules are
:func:`contracts.milestones.mark_complete_refusal` (the function the single Mark Complete calls) over one
query of the conditions' states, the classification check once per classification, then one ``UPDATE`` and
one ``INSERT .. SELECT`` of StatusChange rows per chunk. Ten thousand conditions take well under a second
(``benchmarks/mass_mark_complete.py``). The other operations call the single-item services the CLI verbs
call, each item in a savepoint, so a refused item leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions.sql_rules import SqlRules
from contracts import milestones as services
from contracts.admin import check_classification
from contracts.audit import ObjectType, Who
from contracts.errors import InvalidInput, MsPrcsError, NotFound
from contracts.keys import MilestoneKey, get_condition, get_milestone
from contracts.models import Contract, Milestone, MilestoneCondition, StatusChange
from contracts.specs import ConditionSpec
from contracts.status import ConditionStatus, ConditionType, MilestoneStatus
from ms_prcs.approvals.hooks import make_milestone_ready
from ms_prcs.approvals.models import ApprovalRule
from ms_prcs.workqueue.search import QueueFilter, matching_ids

CHUNK = 500
_CONDITION_KEY = (
    Contract.business_unit,
    Contract.contract_num,
    Milestone.milestone_id,
    Milestone.milestone_num,
    MilestoneCondition.condition_seq,
)
"""The columns of a condition's key (``BU/CONTRACT/MS_ID/NUM#SEQ``), in its order."""
CHANGED, REFUSED, UNCHANGED = "changed", "refused", "unchanged"


@dataclass(frozen=True, order=True)
class ConditionTarget:
    """A milestone condition, ``BU/CONTRACT/MS_ID/NUM#SEQ`` (the key ``milestone show`` prints)."""

    milestone: MilestoneKey
    seq: int

    @classmethod
    def parse(cls, text: str) -> ConditionTarget:
        head, sep, seq = text.strip().rpartition("#")
        if not sep or not seq.isdigit():
            raise InvalidInput(f"condition key {text!r} is not of the form BU/CONTRACT/MS_ID/NUM#SEQ")
        return cls(MilestoneKey.parse(head), int(seq))

    def __str__(self) -> str:
        return f"{self.milestone}#{self.seq}"


@dataclass(frozen=True)
class ItemResult:
    key: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class MassResult:
    operation: str
    atomic: bool
    dry_run: bool
    applied: bool
    """Whether the changes stand: False for a dry run and for an atomic run with a refusal."""
    items: tuple[ItemResult, ...]

    @property
    def changed(self) -> int:
        return sum(1 for i in self.items if i.outcome == CHANGED)

    @property
    def refused(self) -> int:
        return sum(1 for i in self.items if i.outcome == REFUSED)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "atomic": self.atomic,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "changed": self.changed,
            "refused": self.refused,
            "items": [asdict(i) for i in self.items],
        }


# --- what to update ---------------------------------------------------------------------------------------


def read_keys(lines: Iterable[str]) -> list[str]:
    """Keys from a file: one per line; blank lines and lines starting with ``#`` are skipped."""
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


def milestones_of(session: Session, queue: QueueFilter, as_of: dt.date) -> list[MilestoneKey]:
    ids = matching_ids(queue, as_of).subquery()
    rows = session.execute(
        sa.select(
            Contract.business_unit, Contract.contract_num, Milestone.milestone_id, Milestone.milestone_num
        )
        .join(Milestone, Milestone.contract_pk == Contract.id)
        .where(Milestone.id.in_(sa.select(ids.c.id)))
        .order_by(Contract.contract_num, Milestone.milestone_id, Milestone.milestone_num)
    ).all()
    return [MilestoneKey.parse(f"{bu}/{k}/{mid}/{num}") for bu, k, mid, num in rows]


def conditions_of(
    session: Session, queue: QueueFilter, as_of: dt.date, condition_type: ConditionType
) -> list[ConditionTarget]:
    """The Ready conditions of ``condition_type`` of the milestones the filter selects, in queue order."""
    ids = matching_ids(queue, as_of).subquery()
    rows = session.execute(
        sa.select(*_CONDITION_KEY)
        .join(Milestone, Milestone.contract_pk == Contract.id)
        .join(MilestoneCondition, MilestoneCondition.milestone_pk == Milestone.id)
        .where(
            Milestone.id.in_(sa.select(ids.c.id)),
            MilestoneCondition.condition_type == condition_type,
            MilestoneCondition.condition_status == ConditionStatus.READY,
        )
        .order_by(
            Contract.contract_num,
            Milestone.milestone_id,
            Milestone.milestone_num,
            MilestoneCondition.condition_seq,
        )
    ).all()
    return [
        ConditionTarget(MilestoneKey.parse(f"{bu}/{k}/{mid}/{num}"), seq) for bu, k, mid, num, seq in rows
    ]


# --- Mark Complete, set-based ---------------------------------------------------------------------------


def mark_complete(
    session: Session,
    targets: Sequence[ConditionTarget],
    who: Who,
    *,
    atomic: bool = False,
    dry_run: bool = False,
) -> MassResult:
    """Mark Complete a set of User Initiated conditions (see the module docstring)."""
    found = _condition_states(session, targets)
    allowed: set[str | None] = {None}
    items: list[ItemResult] = []
    accepted: list[int] = []
    seen: set[ConditionTarget] = set()
    for target in targets:
        key, obj = str(target), f"condition {target.seq} of milestone {target.milestone}"
        if target in seen:
            items.append(ItemResult(key, REFUSED, f"{obj}: listed twice"))
            continue
        seen.add(target)
        state = found.get(target)
        if state is None:
            items.append(ItemResult(key, REFUSED, _missing(session, target)))
            continue
        pk, ctype, cstatus, mstatus, classification, is_approval = state
        problem = services.mark_complete_refusal(ctype, mstatus, cstatus, is_approval=is_approval)
        if problem is None and classification not in allowed:
            try:
                check_classification(session, classification, who.user, f"milestone {target.milestone}")
                allowed.add(classification)
            except MsPrcsError as err:
                items.append(ItemResult(key, REFUSED, str(err)))
                continue
        if problem is not None:
            items.append(ItemResult(key, REFUSED, f"{obj}: {problem}"))
            continue
        accepted.append(pk)
        items.append(ItemResult(key, CHANGED, f"marked complete by {who.user}"))
    refused = any(i.outcome == REFUSED for i in items)
    apply = not dry_run and not (atomic and refused)
    if apply:
        _complete_set(session, accepted, who)
    return _result("mark complete", atomic, dry_run, apply, items)


def _condition_states(
    session: Session, targets: Sequence[ConditionTarget]
) -> dict[ConditionTarget, tuple[int, ConditionType, ConditionStatus, MilestoneStatus, str | None, bool]]:
    """What the checks read, for every target, in a query per chunk of contracts."""
    contracts = sorted(
        {(t.milestone.contract.business_unit, t.milestone.contract.contract_num) for t in targets}
    )
    wanted = set(targets)
    out = {}
    is_approval = sa.exists().where(ApprovalRule.condition_pk == MilestoneCondition.id)
    for i in range(0, len(contracts), CHUNK):
        chunk = contracts[i : i + CHUNK]
        rows = session.execute(
            sa.select(
                *_CONDITION_KEY,
                MilestoneCondition.id,
                MilestoneCondition.condition_type,
                MilestoneCondition.condition_status,
                Milestone.status,
                Milestone.classification,
                is_approval,
            )
            .join(Milestone, Milestone.contract_pk == Contract.id)
            .join(MilestoneCondition, MilestoneCondition.milestone_pk == Milestone.id)
            .where(sa.tuple_(Contract.business_unit, Contract.contract_num).in_(chunk))
        ).all()
        for bu, k, mid, num, seq, pk, ctype, cstatus, mstatus, classification, approval in rows:
            target = ConditionTarget(MilestoneKey.parse(f"{bu}/{k}/{mid}/{num}"), seq)
            if target in wanted:
                out[target] = (pk, ctype, cstatus, mstatus, classification, bool(approval))
    return out


def _missing(session: Session, target: ConditionTarget) -> str:
    """The single-item lookup's own message (a missing contract, milestone or condition)."""
    try:
        get_condition(session, target.milestone, target.seq)
    except NotFound as err:
        return str(err)
    return f"condition {target}: changed while being checked"  # pragma: no cover - a race


def _complete_set(session: Session, ids: Sequence[int], who: Who) -> None:
    mc = MilestoneCondition
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        done = list(
            session.scalars(
                sa.update(mc)
                .where(mc.id.in_(chunk), mc.condition_status == ConditionStatus.READY)
                .values(
                    condition_status=ConditionStatus.COMPLETED,
                    completed_on=who.at.date(),
                    completed_by=who.user,
                )
                .returning(mc.id)
                .execution_options(synchronize_session=False)
            )
        )
        if not done:
            continue
        session.execute(
            sa.insert(StatusChange).from_select(
                [
                    "object_type",
                    "object_pk",
                    "old_status",
                    "new_status",
                    "changed_at",
                    "changed_by",
                    "reason",
                ],
                sa.select(
                    sa.literal(ObjectType.CONDITION.value),
                    mc.id,
                    sa.literal(ConditionStatus.READY.value),
                    sa.literal(ConditionStatus.COMPLETED.value),
                    sa.literal(who.at, sa.DateTime),
                    sa.literal(who.user),
                    sa.literal("Mark Complete (mass update)"),
                ).where(mc.id.in_(done)),
            )
        )
    session.expire_all()


# --- the others, one service call per item ------------------------------------------------------------


def set_condition_dates(
    session: Session,
    targets: Sequence[ConditionTarget],
    who: Who,
    rules: SqlRules,
    *,
    date: dt.date | None = None,
    shift_days: int | None = None,
    atomic: bool = False,
    dry_run: bool = False,
) -> MassResult:
    """Assign a date to Date conditions (``date``) or move their dates by ``shift_days``. A condition is
    changed only while its milestone is Pending (the seed's rule), so a Ready milestone goes through the
    steps a person takes: ``milestone pending``, ``condition update``, ``milestone ready`` (its edit checks)."""
    if (date is None) == (shift_days is None):
        raise InvalidInput("give either a date or a number of days to move the dates by")

    def one(target: ConditionTarget) -> str:
        condition = get_condition(session, target.milestone, target.seq)
        if condition.condition_type != ConditionType.DATE:
            raise InvalidInput(
                f"condition {target.seq} of milestone {target.milestone}: is {condition.condition_type}, not Date"
            )
        old = condition.condition_date
        if date is not None:
            new = date
        elif old is None:
            raise InvalidInput(f"condition {target.seq} of milestone {target.milestone}: has no date to move")
        else:
            new = old + dt.timedelta(days=shift_days or 0)
        if new == old:
            return ""
        spec = replace(ConditionSpec.from_stored(condition), condition_date=new)
        was_ready = condition.milestone.status == MilestoneStatus.READY
        if was_ready:
            services.set_pending(session, target.milestone, who)
        services.update_condition(session, target.milestone, target.seq, spec, who)
        if was_ready:
            make_milestone_ready(session, target.milestone, who, rules)
        return f"date {old or '(none)'} -> {new}"

    return _per_item(session, "set condition dates", targets, one, atomic=atomic, dry_run=dry_run)


def set_milestone_status(
    session: Session,
    keys: Sequence[MilestoneKey],
    status: MilestoneStatus,
    who: Who,
    rules: SqlRules,
    *,
    atomic: bool = False,
    dry_run: bool = False,
) -> MassResult:
    """Set milestones Ready (``milestone ready``: edit checks, then due approvals) or Pending."""
    if status not in (MilestoneStatus.READY, MilestoneStatus.PENDING):
        raise InvalidInput(f"milestones are set Ready or Pending here, not {status}")

    def one(key: MilestoneKey) -> str:
        old = get_milestone(session, key).status
        if status == MilestoneStatus.READY:
            notes = make_milestone_ready(session, key, who, rules)
        else:
            services.set_pending(session, key, who)
            notes = []
        return "; ".join([f"{old} -> {status}", *notes])

    return _per_item(session, f"set milestones {status}", keys, one, atomic=atomic, dry_run=dry_run)


def _per_item(
    session: Session,
    operation: str,
    targets: Sequence[Any],
    one: Callable[[Any], str],
    *,
    atomic: bool,
    dry_run: bool,
) -> MassResult:
    items: list[ItemResult] = []
    with _outer(session) as outer:
        for target in targets:
            savepoint = session.begin_nested()
            try:
                detail = one(target)
            except MsPrcsError as err:
                savepoint.rollback()
                items.append(ItemResult(str(target), REFUSED, str(err)))
                continue
            savepoint.commit()
            items.append(
                ItemResult(str(target), CHANGED if detail else UNCHANGED, detail or "nothing to change")
            )
        refused = any(i.outcome == REFUSED for i in items)
        apply = not dry_run and not (atomic and refused)
        outer.append(apply)
    return _result(operation, atomic, dry_run, apply, items)


@contextmanager
def _outer(session: Session) -> Iterator[list[bool]]:
    """A savepoint around the whole operation, kept only when the caller appends True."""
    keep: list[bool] = []
    savepoint = session.begin_nested()
    try:
        yield keep
    except BaseException:
        savepoint.rollback()
        raise
    if keep and keep[-1]:
        savepoint.commit()
    else:
        savepoint.rollback()
    session.expire_all()


def _result(
    operation: str, atomic: bool, dry_run: bool, applied: bool, items: list[ItemResult]
) -> MassResult:
    return MassResult(operation, atomic, dry_run, applied, tuple(items))
