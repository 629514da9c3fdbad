"""Builders for the plan and feed tests: a contract with lines and one milestone template per condition mix.

Everything is written through the real services and committed, so the CLI and other processes see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from billing_plans import plans
from billing_plans.feed import publish_completions
from billing_plans.keys import EventKey, PlanKey, get_event
from billing_plans.templates import TemplateEventSpec, add_plan_template
from conditions.sql_rules import SqlRules
from contracts import admin
from contracts.audit import ObjectType, Who, record_change
from contracts.keys import ContractKey, MilestoneKey, get_milestone
from contracts.models import Milestone, PlanEvent, StatusChange
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, ContractStatus, MilestoneStatus, PlanType
from contracts.templates import add_milestone_template
from ms_prcs.engine import RunControl, RunResult, process
from ms_prcs.settings import Settings

AT = dt.datetime(2026, 1, 10, 9, 30)
AS_OF = dt.date(2026, 2, 1)
K1000 = ContractKey("US001", "K1000")
K2000 = ContractKey("US001", "K2000")
RULES = SqlRules()
GOOD_SQL = "SELECT 1 FROM contract WHERE business_unit = :business_unit AND contract_num = :contract_num"

DATE = ConditionSpec(ConditionType.DATE, condition_date=dt.date(2026, 1, 31))
NO_DATE = ConditionSpec(ConditionType.DATE)
SQL = ConditionSpec(ConditionType.SQL, sql_text=GOOD_SQL)
BAD_SQL = ConditionSpec(ConditionType.SQL, sql_text="SELECT 1 FROM app_user")
USER = ConditionSpec(ConditionType.USER, descr="Sign-off")
LINK = ConditionSpec(ConditionType.MILESTONE, ref_milestone_id="MS-DATE")

MILESTONE_TEMPLATES: dict[str, Sequence[ConditionSpec]] = {
    "MS-DATE": [DATE],
    "MS-NODATE": [NO_DATE],
    "MS-SQL": [SQL],
    "MS-USER": [USER],
    "MS-MIX": [DATE, SQL, USER],
    "MS-LINK": [LINK],
    "MS-MIXLINK": [DATE, LINK],
    "MS-EMPTY": [],
    "MS-BADSQL": [BAD_SQL],
}


def who(user: str = "admin", at: dt.datetime = AT) -> Who:
    return Who(user, at)


def pkey(text: str) -> PlanKey:
    return PlanKey.parse(text if text.count("/") == 3 else f"US001/K1000/{text}")


def ekey(text: str) -> EventKey:
    return EventKey.parse(text if text.count("/") == 4 else f"US001/K1000/{text}")


def ms(milestone_id: str, num: int = 1) -> MilestoneKey:
    """A milestone of K1000, the contract most plan tests work on."""
    return MilestoneKey(K1000, milestone_id, num)


def add_plan_world(session: Session) -> None:
    """US001 with K1000 (line 1: 10000.00, line 2: 1000.00) and K2000 (line 1: 500.00), both Pending, and
    the milestone templates of :data:`MILESTONE_TEMPLATES` (not committed: callers add their own)."""
    admin.add_business_unit(session, "US001")
    admin.add_contract(session, K1000, customer="ACME")
    admin.add_line(session, K1000, 1, amount=Decimal("10000.00"), product="SVC")
    admin.add_line(session, K1000, 2, amount=Decimal("1000.00"), product="LIC")
    admin.add_contract(session, K2000, customer="GLOBEX")
    admin.add_line(session, K2000, 1, amount=Decimal("500.00"))
    for mid, conditions in MILESTONE_TEMPLATES.items():
        add_milestone_template(session, mid, descr=f"{mid} milestone", conditions=conditions)


@pytest.fixture
def world(session: Session) -> Session:
    """:func:`add_plan_world`, committed."""
    add_plan_world(session)
    session.commit()
    return session


def activate(session: Session, contract: ContractKey = K1000) -> None:
    admin.set_contract_status(session, contract, ContractStatus.ACTIVE, who())
    session.commit()


def template(
    session: Session,
    template_id: str,
    events: Sequence[str],
    plan_type: PlanType = PlanType.BILLING,
    *,
    ready_on_activation: bool = False,
) -> None:
    """A plan template from ``--event`` texts (``MS-DATE=40%``, ``2026-01-15=100.00``)."""
    add_plan_template(
        session,
        template_id,
        plan_type,
        ready_on_activation=ready_on_activation,
        events=[TemplateEventSpec.parse(e) for e in events],
    )
    session.commit()


def create(
    session: Session, template_id: str, line: int = 1, contract: ContractKey = K1000
) -> plans.CreatedPlan:
    created = plans.create_from_template(session, contract, line, template_id, who(), RULES)
    session.commit()
    return created


def run(engine: Engine, as_of: dt.date = AS_OF) -> RunResult:
    """One real engine run (CA_MS_PRCS) over everything."""
    return process(engine, RunControl(as_of=as_of), Settings())


def event_status(session: Session, key: str) -> str:
    session.expire_all()
    return get_event(session, ekey(key)).status


def changes(session: Session, object_type: str, pk: int) -> list[tuple[str | None, str, str, str]]:
    """(old, new, by, reason) of an object's StatusChange rows, oldest first."""
    rows = session.execute(
        select(StatusChange.old_status, StatusChange.new_status, StatusChange.changed_by, StatusChange.reason)
        .where(StatusChange.object_type == object_type, StatusChange.object_pk == pk)
        .order_by(StatusChange.id)
    ).all()
    return [(o, n, b, r) for o, n, b, r in rows]


def event_pk(session: Session, key: str) -> int:
    event: PlanEvent = get_event(session, ekey(key))
    return event.id


def complete(session: Session, key: MilestoneKey, as_of: dt.date = AS_OF) -> int:
    """What the engine does when it completes one milestone, in one transaction: the status, its audit row,
    and the feed entries (process instance 0 marks the simulation). For tests about events, not the engine;
    the cycle tests run the real engine."""
    milestone = get_milestone(session, key)
    record_change(
        session,
        ObjectType.MILESTONE,
        milestone.id,
        milestone.status,
        MilestoneStatus.COMPLETED,
        who(),
        "test",
    )
    milestone.status = MilestoneStatus.COMPLETED
    milestone.completed_on = as_of
    session.flush()
    appended = publish_completions(
        session.connection(),
        select(Milestone.id).where(Milestone.id == milestone.id),
        process_instance=0,
        as_of=as_of,
        at=AT,
    )
    session.commit()
    return appended


@pytest.fixture
def two_plans(world: Session) -> Session:
    """K1000 Active with a billing plan (MS-USER 30 %, MS-DATE 70 %) on line 1 and a revenue plan
    (MS-DATE 100 %) on line 2, all Ready; MS-DATE's date is 2026-01-31."""
    activate(world)
    template(world, "BP", ["MS-USER=30%", "MS-DATE=70%"], ready_on_activation=True)
    template(world, "RP", ["MS-DATE=100%"], PlanType.REVENUE, ready_on_activation=True)
    create(world, "BP")
    create(world, "RP", line=2)
    return world
