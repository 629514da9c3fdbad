"""Plans on contract lines: made from templates or by hand, their statuses, events' edit checks, and the
protection of milestones that plan events reference."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing_plans import events, plans
from billing_plans.keys import get_plan
from contracts import milestones
from contracts.audit import ObjectType
from contracts.errors import (
    AlreadyExists,
    EditCheckFailed,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RuleViolation,
    StillReferenced,
)
from contracts.keys import MilestoneKey
from contracts.models import Milestone, Plan, PlanEvent, StatusChange
from contracts.status import EventType, MilestoneStatus, PlanStatus, PlanType
from tests.billing_plans.conftest import (
    K1000,
    K2000,
    activate,
    changes,
    create,
    ekey,
    event_status,
    pkey,
    template,
    who,
)
from tests.conftest import CliInvoke

MS_DATE_1 = MilestoneKey(K1000, "MS-DATE", 1)


def add_date_milestone(session: Session) -> MilestoneKey:
    row = milestones.add_milestone(session, K1000, "MS-DATE", who(), from_template=True)
    session.commit()
    return MilestoneKey(K1000, row.milestone_id, row.milestone_num)


# --- from a template -----------------------------------------------------------------------------------


def date_event(session: Session, percentage: int, on: dt.date | None = dt.date(2026, 1, 15)) -> None:
    """The next Date event of plan ``1/P1``, due ``on`` (``None``: no date, which the edit checks refuse)."""
    events.add_event(
        session, pkey("1/P1"), who(), event_type=EventType.DATE, event_date=on, percentage=Decimal(percentage)
    )


def test_create_copies_the_events_and_makes_the_milestones(world: Session) -> None:
    template(world, "BP-STD", ["MS-USER=30%", "MS-DATE=50%", "2026-06-30=2000.00"])
    created = create(world, "BP-STD")
    assert str(created.key) == "US001/K1000/1/BP-STD"
    plan = created.plan
    assert (plan.plan_type, plan.status, plan.template_id) == (PlanType.BILLING, PlanStatus.PENDING, "BP-STD")
    assert [
        (
            e.event_num,
            e.event_type,
            e.status,
            e.milestone.key if e.milestone else None,
            e.event_date,
            e.percentage,
            e.amount,
        )
        for e in plan.events
    ] == [
        (1, EventType.MILESTONE, "Pending", "US001/K1000/MS-USER/1", None, Decimal("30"), None),
        (2, EventType.MILESTONE, "Pending", "US001/K1000/MS-DATE/1", None, Decimal("50"), None),
        (3, EventType.DATE, "Pending", None, dt.date(2026, 6, 30), None, Decimal("2000.00")),
    ]
    assert [e.descr for e in plan.events[:2]] == ["MS-USER milestone", "MS-DATE milestone"]
    assert changes(world, ObjectType.PLAN, plan.id) == [
        (None, "Pending", "admin", "created from template BP-STD")
    ]
    assert changes(world, ObjectType.PLAN_EVENT, plan.events[0].id) == [
        (None, "Pending", "admin", "created from billing plan template BP-STD")
    ]


def test_create_refuses_whole_and_changes_nothing(world: Session) -> None:
    template(world, "BP-STD", ["MS-DATE=100%"])
    create(world, "BP-STD")
    with pytest.raises(AlreadyExists, match="plan US001/K1000/1/BP-STD already exists"):
        plans.create_from_template(
            world, K1000, 1, "BP-STD", who(), __import__("conditions.sql_rules").sql_rules.SqlRules()
        )
    world.rollback()
    assert world.scalar(select(func.count()).select_from(Milestone)) == 1
    with pytest.raises(NotFound, match="contract line US001/K1000 line 9 does not exist"):
        create(world, "BP-STD", line=9)
    world.rollback()
    with pytest.raises(NotFound, match="plan template NOPE does not exist"):
        create(world, "NOPE")


def test_plan_ids_are_unique_per_line_whatever_the_type(world: Session) -> None:
    plans.add_plan(world, K1000, 1, PlanType.BILLING, "P1", who())
    with pytest.raises(AlreadyExists, match="plan US001/K1000/1/P1 already exists"):
        plans.add_plan(world, K1000, 1, PlanType.REVENUE, "p1", who())
    plans.add_plan(world, K1000, 2, PlanType.REVENUE, "P1", who())  # another line is another plan


# --- plan statuses --------------------------------------------------------------------------------------


def test_plan_ready_needs_the_contract_active_and_an_event(world: Session) -> None:
    plans.add_plan(world, K1000, 1, PlanType.BILLING, "P1", who())
    world.commit()
    with pytest.raises(EditCheckFailed) as err:
        plans.set_plan_ready(world, pkey("1/P1"), who())
    assert err.value.problems == (
        "Ready needs the contract Active; contract US001/K1000 is Pending",
        "Ready needs at least one event",
    )
    world.rollback()
    activate(world)
    date_event(world, 100)
    plan = plans.set_plan_ready(world, pkey("1/P1"), who())
    assert plan.status == PlanStatus.READY
    assert changes(world, ObjectType.PLAN, plan.id)[-1] == (
        "Pending",
        "Ready",
        "admin",
        "set Ready by user; edit checks passed",
    )
    with pytest.raises(InvalidTransition, match="cannot change status Ready -> Ready: it is already Ready"):
        plans.set_plan_ready(world, pkey("1/P1"), who())


def test_plan_ready_with_events_is_all_or_none(world: Session) -> None:
    activate(world)
    plans.add_plan(world, K1000, 1, PlanType.BILLING, "P1", who())
    date_event(world, 60)
    date_event(world, 40, on=None)
    world.commit()
    with pytest.raises(EditCheckFailed) as err:
        plans.set_plan_ready(world, pkey("1/P1"), who(), with_events=True)
    assert err.value.problems == ("event 2: a Date event needs a date",)
    world.rollback()
    events.update_event(world, ekey("1/P1/2"), who(), event_date=dt.date(2026, 2, 15))
    plan = plans.set_plan_ready(world, pkey("1/P1"), who(), with_events=True)
    assert [e.status for e in plan.events] == ["Ready", "Ready"]


def test_plan_pending_only_while_every_event_is_pending(world: Session) -> None:
    activate(world)
    plans.add_plan(world, K1000, 1, PlanType.BILLING, "P1", who())
    date_event(world, 100)
    plans.set_plan_ready(world, pkey("1/P1"), who(), with_events=True)
    with pytest.raises(RuleViolation) as err:
        plans.set_plan_pending(world, pkey("1/P1"), who())
    assert str(err.value) == (
        "billing plan US001/K1000/1/P1: can be set Pending only while every event is Pending; events 1 (Ready)"
    )
    events.set_event_pending(world, ekey("1/P1/1"), who())
    assert plans.set_plan_pending(world, pkey("1/P1"), who()).status == PlanStatus.PENDING


def test_ready_on_activation_when_the_contract_is_already_active(world: Session) -> None:
    template(world, "BP-ACT", ["MS-DATE=40%", "MS-LINK=60%"], ready_on_activation=True)
    activate(world)
    created = create(world, "BP-ACT")
    assert created.readied
    plan = created.plan
    reason = "Ready on contract activation (billing plan template BP-ACT)"
    assert plan.status == PlanStatus.READY
    assert [e.status for e in plan.events] == ["Ready", "Ready"]
    assert changes(world, ObjectType.PLAN, plan.id)[-1] == ("Pending", "Ready", "admin", reason)
    assert changes(world, ObjectType.PLAN_EVENT, plan.events[1].id)[-1] == (
        "Pending",
        "Ready",
        "admin",
        reason,
    )


def test_ready_on_activation_when_the_contract_becomes_active(world: Session) -> None:
    template(world, "BP-ACT", ["MS-DATE=100%"], ready_on_activation=True)
    template(world, "BP-MAN", ["MS-SQL=100%"])
    assert not create(world, "BP-ACT").readied
    create(world, "BP-MAN", line=2)
    with pytest.raises(
        RuleViolation, match="contract US001/K1000: is Pending; plans are readied on activation"
    ):
        plans.ready_on_activation(world, K1000, who())
    world.rollback()
    activate(world)
    outcomes = plans.ready_on_activation(world, K1000, who())
    world.commit()
    assert [(o.plan, o.readied) for o in outcomes] == [("US001/K1000/1/BP-ACT", True)]
    assert plans.ready_on_activation(world, K1000, who()) == []  # again: nothing left to do
    statuses = dict(world.execute(select(Plan.plan_id, Plan.status)).tuples().all())
    assert statuses == {"BP-ACT": PlanStatus.READY, "BP-MAN": PlanStatus.PENDING}


# --- events by hand and their edit checks ----------------------------------------------------------------


def test_add_events_by_hand(world: Session) -> None:
    key = add_date_milestone(world)
    plans.add_plan(world, K1000, 1, PlanType.REVENUE, "RP1", who(), descr="by hand")
    first = events.add_event(
        world, pkey("1/RP1"), who(), event_type=EventType.MILESTONE, milestone=key, percentage=Decimal(25)
    )
    second = events.add_event(
        world,
        pkey("1/RP1"),
        who(),
        event_type=EventType.DATE,
        event_date=dt.date(2026, 3, 1),
        amount=Decimal("7500"),
    )
    assert (first.event_num, first.milestone_pk, first.status) == (
        1,
        world.scalar(select(Milestone.id)),
        "Pending",
    )
    assert (second.event_num, second.event_date) == (2, dt.date(2026, 3, 1))
    assert changes(world, ObjectType.PLAN_EVENT, first.id) == [(None, "Pending", "admin", "added by user")]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"event_type": EventType.MILESTONE, "event_date": dt.date(2026, 1, 1)},
            InvalidInput,
            "billing plan US001/K1000/1/P1 event 1: a Milestone event has no date",
        ),
        (
            {"event_type": EventType.DATE, "milestone": MS_DATE_1},
            InvalidInput,
            "billing plan US001/K1000/1/P1 event 1: a Date event has no milestone",
        ),
        (
            {"event_type": EventType.DATE, "percentage": Decimal(10), "amount": Decimal(10)},
            InvalidInput,
            "billing plan US001/K1000/1/P1 event 1: give a percentage or an amount, not both",
        ),
        (
            {"event_type": EventType.MILESTONE, "milestone": MilestoneKey(K1000, "MS-DATE", 7)},
            NotFound,
            "milestone US001/K1000/MS-DATE/7 does not exist",
        ),
    ],
)
def test_add_event_refusals(
    world: Session, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    add_date_milestone(world)
    plans.add_plan(world, K1000, 1, PlanType.BILLING, "P1", who())
    with pytest.raises(error) as err:
        events.add_event(world, pkey("1/P1"), who(), **kwargs)  # type: ignore[arg-type]
    assert str(err.value) == message


def test_a_milestone_event_points_at_its_own_contracts_milestone(world: Session) -> None:
    row = milestones.add_milestone(world, K2000, "MS-DATE", who(), from_template=True)
    plans.add_plan(world, K1000, 1, PlanType.BILLING, "P1", who())
    with pytest.raises(RuleViolation) as err:
        events.add_event(
            world,
            pkey("1/P1"),
            who(),
            event_type=EventType.MILESTONE,
            milestone=MilestoneKey(K2000, row.milestone_id, 1),
        )
    assert str(err.value) == (
        "billing plan US001/K1000/1/P1 event 1: milestone US001/K2000/MS-DATE/1 is not on the plan's contract US001/K1000"
    )


def test_event_ready_checks_milestone_id_num_and_share(world: Session) -> None:
    activate(world)
    plans.add_plan(world, K1000, 1, PlanType.BILLING, "P1", who())
    events.add_event(world, pkey("1/P1"), who(), event_type=EventType.MILESTONE)
    events.add_event(world, pkey("1/P1"), who(), event_type=EventType.DATE, percentage=Decimal(30))
    world.commit()
    with pytest.raises(EditCheckFailed) as err:
        events.set_event_ready(world, ekey("1/P1/1"), who())
    assert err.value.problems == (
        "its plan is Pending; an event is Ready only under a Ready plan",
        "a Milestone event needs a milestone id and number",
        "an event needs a percentage or an amount",
    )
    world.rollback()
    plans.set_plan_ready(world, pkey("1/P1"), who())
    with pytest.raises(EditCheckFailed) as err:
        events.set_event_ready(world, ekey("1/P1/1"), who())
    assert str(err.value) == (
        "billing plan event US001/K1000/1/P1/1: cannot be set Ready, edit checks failed:\n"
        "  - a Milestone event needs a milestone id and number\n"
        "  - an event needs a percentage or an amount"
    )
    with pytest.raises(EditCheckFailed) as err:
        events.set_event_ready(world, ekey("1/P1/2"), who())
    assert err.value.problems == ("a Date event needs a date",)
    key = add_date_milestone(world)
    events.update_event(world, ekey("1/P1/1"), who(), milestone=key, percentage=Decimal(80))
    assert events.set_event_ready(world, ekey("1/P1/1"), who()).status == "Ready"
    events.update_event(world, ekey("1/P1/2"), who(), event_date=dt.date(2026, 3, 1))
    with pytest.raises(EditCheckFailed) as err:
        events.set_event_ready(world, ekey("1/P1/2"), who())
    assert err.value.problems == (
        "the plan's Ready and later events would total more than 100 % of the line",
    )
    events.update_event(world, ekey("1/P1/2"), who(), amount=Decimal("2000.00"))  # exactly the rest of 10000
    assert events.set_event_ready(world, ekey("1/P1/2"), who()).status == "Ready"
    with pytest.raises(RuleViolation, match="can be changed only while Pending; it is Ready"):
        events.update_event(world, ekey("1/P1/2"), who(), amount=Decimal("1.00"))


# --- cancel protection ------------------------------------------------------------------------------------


def test_cancel_is_refused_while_plan_events_reference_the_milestone(world: Session, cli: CliInvoke) -> None:
    template(world, "BP-STD", ["MS-DATE=40%", "MS-LINK=60%"])
    template(world, "RP-STD", ["MS-USER=100%"], PlanType.REVENUE)
    create(world, "BP-STD")
    create(world, "RP-STD", line=2)
    plans.add_plan(world, K1000, 2, PlanType.BILLING, "BP-HAND", who())
    events.add_event(
        world,
        pkey("2/BP-HAND"),
        who(),
        event_type=EventType.MILESTONE,
        milestone=MS_DATE_1,
        percentage=Decimal(5),
    )
    world.commit()

    result = cli("milestone", "cancel", "US001/K1000/MS-DATE/1")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: milestone US001/K1000/MS-DATE/1: cannot be cancelled while referenced by:\n"
        "  - condition 1 of milestone US001/K1000/MS-LINK/1 (Pending)\n"
        "  - billing plan BP-STD event 1 on line 1 of US001/K1000 (Pending)\n"
        "  - billing plan BP-HAND event 1 on line 2 of US001/K1000 (Pending)\n"
    )
    with pytest.raises(StillReferenced) as err:
        milestones.cancel(world, MilestoneKey(K1000, "MS-USER", 1), who())
    assert err.value.references == ("revenue plan RP-STD event 1 on line 2 of US001/K1000 (Pending)",)
    world.rollback()
    statuses = set(world.scalars(select(Milestone.status)))
    assert MilestoneStatus.CANCELLED not in statuses
    assert (
        world.scalar(
            select(func.count()).select_from(StatusChange).where(StatusChange.new_status == "Cancelled")
        )
        == 0
    )


def test_an_unreferenced_plan_milestone_can_be_cancelled_and_then_refuses_ready_events(
    world: Session,
) -> None:
    key = add_date_milestone(world)
    milestones.cancel(world, key, who())
    activate(world)
    plans.add_plan(world, K1000, 1, PlanType.BILLING, "P1", who())
    with pytest.raises(RuleViolation, match="milestone US001/K1000/MS-DATE/1 is Cancelled"):
        events.add_event(world, pkey("1/P1"), who(), event_type=EventType.MILESTONE, milestone=key)


# --- CLI -------------------------------------------------------------------------------------------------


def test_cli_plan_create_show_list(world: Session, cli: CliInvoke) -> None:
    template(world, "BP-STD", ["MS-USER=30%", "MS-LINK=70%"])
    world.execute(select(1))
    milestones.add_milestone(world, K1000, "MS-DATE", who(), from_template=True)
    world.commit()
    result = cli("plan", "create", "--template", "bp-std", "US001/K1000", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        lines[0] == "billing plan US001/K1000/1/BP-STD created from template BP-STD (Pending) with 2 events"
    )
    assert lines[2] == "Milestones:"
    assert lines[5].split()[:2] == ["US001/K1000/MS-USER/1", "Ready"]
    assert lines[6].split()[:2] == ["US001/K1000/MS-LINK/1", "Pending"]

    shown = cli("--json", "plan", "show", "US001/K1000/1/BP-STD")
    data = __import__("json").loads(shown.stdout)
    assert data["status"] == "Pending"
    assert data["total_percentage"] == "100"
    assert [(e["event"], e["status"], e["milestone"], e["amount"]) for e in data["events"]] == [
        ("US001/K1000/1/BP-STD/1", "Pending", "US001/K1000/MS-USER/1", "3000.00"),
        ("US001/K1000/1/BP-STD/2", "Pending", "US001/K1000/MS-LINK/1", "7000.00"),
    ]
    listed = cli("plan", "list", "US001/K1000")
    assert listed.stdout.splitlines()[2].split() == [
        "US001/K1000/1/BP-STD",
        "Billing",
        "Pending",
        "BP-STD",
        "10000.00",
        "100",
        "2",
    ]


def test_cli_plan_and_event_by_hand(world: Session, cli: CliInvoke) -> None:
    activate(world)
    add_date_milestone(world)
    assert cli("plan", "add", "US001/K1000", "2", "bp1", "--type", "billing").stdout == (
        "billing plan US001/K1000/2/BP1 added (Pending)\n"
    )
    result = cli(
        "event",
        "add",
        "US001/K1000/2/BP1",
        "--type",
        "milestone",
        "--milestone",
        "US001/K1000/MS-DATE/1",
        "--percentage",
        "100%",
    )
    assert result.stdout == "billing plan event US001/K1000/2/BP1/1 added (Pending)\n"
    result = cli("event", "ready", "US001/K1000/2/BP1/1")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: billing plan event US001/K1000/2/BP1/1: cannot be set Ready, edit checks failed:\n"
        "  - its plan is Pending; an event is Ready only under a Ready plan\n"
    )
    assert cli("plan", "ready", "US001/K1000/2/BP1").stdout == "billing plan US001/K1000/2/BP1 is Ready\n"
    assert (
        cli("event", "ready", "US001/K1000/2/BP1/1").stdout
        == "billing plan event US001/K1000/2/BP1/1 is Ready\n"
    )
    assert event_status(world, "2/BP1/1") == "Ready"
    result = cli("event", "add", "US001/K1000/2/BP1", "--type", "date", "--percentage", "10", "--amount", "5")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "Error: billing plan US001/K1000/2/BP1 event 2: give a percentage or an amount, not both\n"
    )
    result = cli("event", "ready", "US001/K1000/2/BP1")
    assert result.exit_code == 2
    assert "is not of the form BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM" in result.stderr
    plan = get_plan(world, pkey("2/BP1"))
    assert world.scalar(select(func.count()).select_from(PlanEvent).where(PlanEvent.plan_pk == plan.id)) == 1
