"""Small builders and probes shared by the contracts and CLI tests (real databases, no mocks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, MetaData, Table, select, update
from sqlalchemy.orm import Session

from contracts import admin, milestones, projects
from contracts.audit import ObjectType, Who, record_change
from contracts.errors import MsPrcsError
from contracts.keys import ContractKey, MilestoneKey, get_milestone
from contracts.models import ContractLine, Milestone, Plan, PlanEvent, StatusChange
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, EventType, MilestoneStatus, PlanType
from ms_prcs.db import transaction

AT = dt.datetime(2026, 1, 10, 9, 30)
K1000 = ContractKey("US001", "K1000")


def who(user: str = "admin") -> Who:
    return Who(user, AT)


def mkey(text: str) -> MilestoneKey:
    """``MS001/1`` on US001/K1000, or a full key."""
    return MilestoneKey.parse(text if text.count("/") == 3 else f"US001/K1000/{text}")


DATE = ConditionSpec(ConditionType.DATE, condition_date=dt.date(2026, 1, 31))
USER = ConditionSpec(ConditionType.USER, descr="Sign-off")
SQL = ConditionSpec(
    ConditionType.SQL,
    sql_text="SELECT 1 FROM contract WHERE business_unit = :business_unit AND contract_num = :contract_num",
)


def ref(text: str, days_lag: int = 0) -> ConditionSpec:
    return ConditionSpec(ConditionType.MILESTONE, ref=mkey(text), days_lag=days_lag)


def seed(session: Session) -> None:
    """US001/K1000 with one line; roles PM and FIN; alice (PM), bob (FIN), carol (none); classification
    ACCEPT for PM; project activity P1/A1 with one status row."""
    admin.add_business_unit(session, "US001")
    admin.add_role(session, "PM")
    admin.add_role(session, "FIN")
    admin.add_user(session, "alice", roles=["PM"])
    admin.add_user(session, "bob", roles=["FIN"])
    admin.add_user(session, "carol")
    admin.add_classification(session, "ACCEPT", ["PM"])
    admin.add_contract(session, K1000, customer="ACME")
    admin.add_line(session, K1000, 1, amount=Decimal("1000"))
    projects.add_activity(session, "P1", "A1")
    projects.set_activity_status(session, "P1", "A1", "Open", dt.date(2026, 1, 2))


def add_milestone(
    session: Session,
    milestone_id: str,
    conditions: Sequence[ConditionSpec] = (),
    *,
    classification: str | None = None,
    contract: ContractKey = K1000,
) -> MilestoneKey:
    row = milestones.add_milestone(session, contract, milestone_id, who(), classification=classification)
    key = MilestoneKey(contract, row.milestone_id, row.milestone_num)
    for spec in conditions:
        milestones.add_condition(session, key, spec, who("alice"))
    return key


def force_status(session: Session, key: MilestoneKey, status: MilestoneStatus) -> None:
    """Set a status directly, as the engine does for Completed (with its StatusChange row)."""
    milestone = get_milestone(session, key)
    old = milestone.status
    session.execute(
        update(Milestone)
        .where(Milestone.id == milestone.id)
        .values(
            status=status, completed_on=dt.date(2026, 2, 1) if status == MilestoneStatus.COMPLETED else None
        )
    )
    record_change(session, ObjectType.MILESTONE, milestone.id, old, status, Who("run 1", AT), "engine")
    session.flush()
    session.expire_all()


def add_plan_event(session: Session, key: MilestoneKey, plan_id: str = "BP1", event_num: int = 1) -> None:
    """A billing plan event pointing at the milestone, written with the ORM (plan services live elsewhere)."""
    milestone = get_milestone(session, key)
    line_pk = session.scalar(select(ContractLine.id).where(ContractLine.contract_pk == milestone.contract_pk))
    assert line_pk is not None
    plan = session.scalar(select(Plan).where(Plan.plan_id == plan_id))
    if plan is None:
        plan = Plan(contract_line_pk=line_pk, plan_type=PlanType.BILLING, plan_id=plan_id)
        session.add(plan)
        session.flush()
    session.add(
        PlanEvent(
            plan_pk=plan.id,
            event_num=event_num,
            event_type=EventType.MILESTONE,
            status="Pending",
            milestone_pk=milestone.id,
            percentage=Decimal("50"),
        )
    )
    session.flush()


_REFLECTED: dict[str, list[Table]] = {}


def _tables(engine: Engine) -> list[Table]:
    """Every table of the database (reflected once per database), so tables added by later migrations
    are in the dump even when no imported module maps them."""
    url = engine.url.render_as_string()
    if url not in _REFLECTED:
        metadata = MetaData()
        metadata.reflect(engine)
        _REFLECTED[url] = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
    return _REFLECTED[url]


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: two dumps are equal iff nothing changed."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in _tables(engine):
            order = list(table.primary_key.columns) or list(table.columns)
            result[table.name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
    return result


def attempt(engine: Engine, action: Callable[[Session], object]) -> MsPrcsError | None:
    """Run ``action`` in one transaction as the CLI does (commit, or roll back on a refusal)."""
    try:
        with transaction(engine) as session:
            action(session)
    except MsPrcsError as exc:
        return exc
    return None


def history(session: Session, object_type: ObjectType, pk: int) -> list[tuple[str | None, str, str, str]]:
    rows = session.execute(
        select(StatusChange.old_status, StatusChange.new_status, StatusChange.changed_by, StatusChange.reason)
        .where(StatusChange.object_type == object_type.value, StatusChange.object_pk == pk)
        .order_by(StatusChange.id)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]
