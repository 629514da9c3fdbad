"""A small database whose report figures are worked out by hand in the tests.

Five milestones on three contracts in two business units, every status move at a chosen instant (days from
``T0`` = 2025-03-01 00:00), so each stay in a status has a round length. The report tests use
``AS_OF`` = 2025-03-10: open stays run to the end of that day, 2025-03-11 00:00 (``T0 + 10 days``).

==========================  ==============================================================  ===========
milestone                   history (days after T0)                                           est. date
==========================  ==============================================================  ===========
A US001/K1/MS001/1          Pending 0, Ready 2, Pending 3, Ready 5, Completed 7.5 (engine)    2025-03-05
B US001/K1/MS002/1          Pending 0, Ready 1 (still Ready)                                  2025-03-05
C US001/K2/MS001/1          Pending 1 (still Pending)                                         2025-03-20
D US001/K2/MS002/1          Pending 0, Ready 4, Cancelled 6                                   2025-03-01
E CA001/K3/MS001/1          Pending 0, Ready 0.5 (still Ready)                                2025-03-09
==========================  ==============================================================  ===========

Plan events (line amounts: K1 1000.00 USD, K2 2000.00 USD, K3 500.00 CAD):

- K1 billing BP1: 40% on A, Ready (A is Completed: not waiting); 60% on B, Pending (600.00);
  100.00 on B, Billed (done: not waiting).
- K1 revenue RP1: 100% on B, Ready (1000.00).
- K2 billing BP2: 250.50 on C, Pending; 50% on D, Ready (1000.00, D is Cancelled but not Completed).
- K2 revenue RP2: 25% on C, Recognized (done).
- K3 billing BP3: 100% on E, In Progress (500.00 CAD, taken but not yet billed).
- K3 revenue RP3: 100% on E, Reversed (done).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from conditions.ready import make_ready
from conditions.sql_rules import SqlRules
from contracts import admin, milestones, templates
from contracts.audit import ObjectType, Who, record_change
from contracts.keys import ContractKey, MilestoneKey, get_contract, get_milestone
from contracts.models import Plan, PlanEvent
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, EventType, MilestoneStatus, PlanType
from ms_prcs.approvals.config.structure import workflow_row

T0 = dt.datetime(2025, 3, 1)
AS_OF = dt.date(2025, 3, 10)
RULES = SqlRules()

A = MilestoneKey.parse("US001/K1/MS001/1")
B = MilestoneKey.parse("US001/K1/MS002/1")
C = MilestoneKey.parse("US001/K2/MS001/1")
D = MilestoneKey.parse("US001/K2/MS002/1")
E = MilestoneKey.parse("CA001/K3/MS001/1")


def at(days: float) -> Who:
    return Who("alice", T0 + dt.timedelta(days=days))


def add_milestone(session: Session, key: MilestoneKey, added: float, est: dt.date, descr: str = "") -> None:
    """Add ``key`` Pending at day ``added``, with one Date condition so that it can be made Ready."""
    milestones.add_milestone(
        session, key.contract, key.milestone_id, at(added), est_completion_date=est, descr=descr
    )
    milestones.add_condition(
        session,
        key,
        ConditionSpec(condition_type=ConditionType.DATE, condition_date=dt.date(2025, 6, 30)),
        at(added),
    )


def complete(session: Session, key: MilestoneKey, days: float) -> None:
    """What the engine does when the conditions are met: Completed, completed_on = the run's as-of date."""
    milestone = get_milestone(session, key)
    when = at(days)
    milestone.status = MilestoneStatus.COMPLETED
    milestone.completed_on = when.at.date()
    record_change(
        session,
        ObjectType.MILESTONE,
        milestone.id,
        MilestoneStatus.READY,
        MilestoneStatus.COMPLETED,
        Who("run 1", when.at),
        "conditions met",
    )
    session.flush()


def _plan(
    session: Session,
    contract: ContractKey,
    plan_type: PlanType,
    plan_id: str,
    events: list[tuple[MilestoneKey, str, Decimal | None, Decimal | None]],
) -> None:
    """ORM inserts, as the plan services would store them: (milestone, status, percentage, amount)."""
    line = get_contract(session, contract).lines[0]
    plan = Plan(contract_line_pk=line.id, plan_type=plan_type, plan_id=plan_id)
    for num, (key, status, percentage, amount) in enumerate(events, start=1):
        plan.events.append(
            PlanEvent(
                event_num=num,
                event_type=EventType.MILESTONE,
                status=status,
                milestone_pk=get_milestone(session, key).id,
                percentage=percentage,
                amount=amount,
            )
        )
    session.add(plan)
    session.flush()


def build(session: Session) -> None:
    """Fill an empty database with the milestones, history and plans above, and commit."""
    admin.add_business_unit(session, "US001", "United States", "USD")
    admin.add_business_unit(session, "CA001", "Canada", "CAD")
    templates.add_milestone_template(session, "MS001", descr="Design review")
    templates.add_milestone_template(session, "MS002", descr="Delivery")
    for contract, amount in (("US001/K1", "1000.00"), ("US001/K2", "2000.00"), ("CA001/K3", "500.00")):
        key = ContractKey.parse(contract)
        admin.add_contract(session, key, customer="ACME")
        admin.add_line(session, key, 1, product="SERVICES", amount=Decimal(amount))

    add_milestone(session, A, 0, dt.date(2025, 3, 5), "Design review, phase 1")
    add_milestone(session, B, 0, dt.date(2025, 3, 5), "Hardware delivered")
    add_milestone(session, C, 1, dt.date(2025, 3, 20), "Design review, phase 2")
    add_milestone(session, D, 0, dt.date(2025, 3, 1), "Spares delivered")
    add_milestone(session, E, 0, dt.date(2025, 3, 9), "Design review")

    make_ready(session, E, at(0.5), RULES)
    make_ready(session, B, at(1), RULES)
    make_ready(session, A, at(2), RULES)
    milestones.set_pending(session, A, at(3))
    make_ready(session, D, at(4), RULES)
    make_ready(session, A, at(5), RULES)
    milestones.cancel(session, D, at(6))
    complete(session, A, 7.5)

    k1, k2, k3 = (ContractKey.parse(k) for k in ("US001/K1", "US001/K2", "CA001/K3"))
    pct, amt = Decimal, Decimal
    _plan(
        session,
        k1,
        PlanType.BILLING,
        "BP1",
        [(A, "Ready", pct("40"), None), (B, "Pending", pct("60"), None), (B, "Billed", None, amt("100.00"))],
    )
    _plan(session, k1, PlanType.REVENUE, "RP1", [(B, "Ready", pct("100"), None)])
    _plan(
        session,
        k2,
        PlanType.BILLING,
        "BP2",
        [(C, "Pending", None, amt("250.50")), (D, "Ready", pct("50"), None)],
    )
    _plan(session, k2, PlanType.REVENUE, "RP2", [(C, "Recognized", pct("25"), None)])
    _plan(session, k3, PlanType.BILLING, "BP3", [(E, "In Progress", pct("100"), None)])
    _plan(session, k3, PlanType.REVENUE, "RP3", [(E, "Reversed", pct("100"), None)])
    session.commit()


if __name__ == "__main__":  # ``python -m tests.reports.fixture reports.db``: the README's example database
    import sys

    from ms_prcs.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{sys.argv[1]}")
    upgrade(engine)
    with Session(engine) as new_session:
        build(new_session)
    engine.dispose()


K4 = ContractKey.parse("US001/K4")
"""The flow view's contract (:func:`flow_contract`)."""


def flow_contract(session: Session, steps: list[tuple[int, int]]) -> list[MilestoneKey]:
    """Contract K4 (line 3000.00 USD) with one MS001 milestone per (step, sub_step) and one billing event of
    300.00 on the last one; returns the milestone keys in the order given."""
    admin.add_contract(session, K4, customer="ACME")
    admin.add_line(session, K4, 1, product="SERVICES", amount=Decimal("3000.00"))
    keys = []
    for step, sub_step in steps:
        milestone = milestones.add_milestone(
            session, K4, "MS001", at(0), est_completion_date=dt.date(2025, 4, 1)
        )
        row = workflow_row(session, milestone)
        row.step, row.sub_step = step, sub_step
        keys.append(MilestoneKey(K4, "MS001", milestone.milestone_num))
    session.flush()
    _plan(session, K4, PlanType.BILLING, "BP4", [(keys[-1], "Pending", None, Decimal("300.00"))])
    session.commit()
    return keys
