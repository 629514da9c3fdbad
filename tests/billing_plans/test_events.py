"""Event statuses (billing: Pending -> Ready -> In Progress -> Billed; revenue: Pending -> Ready ->
Recognized -> Reversed) and plan completion at exactly 100 %."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from billing_plans import events, feed
from billing_plans.completion import completion_gap
from billing_plans.keys import get_event, get_plan
from contracts.audit import ObjectType
from contracts.errors import InvalidTransition, RuleViolation
from contracts.status import EventType, PlanStatus, PlanType
from tests.billing_plans.conftest import (
    activate,
    changes,
    complete,
    create,
    ekey,
    event_pk,
    event_status,
    ms,
    pkey,
    template,
    who,
)
from tests.conftest import CliInvoke


def ready_plan(
    session: Session,
    template_id: str,
    events_: list[str],
    plan_type: PlanType = PlanType.BILLING,
    line: int = 1,
) -> None:
    """A template that readies on activation, an Active contract, and the plan created from it."""
    template(session, template_id, events_, plan_type, ready_on_activation=True)
    created = create(session, template_id, line=line)
    assert created.readied, "the contract must be Active"


def claim_all(session: Session, consumer: str = "billing") -> feed.AckResult:
    page = feed.read(session, consumer)
    result = feed.ack(session, consumer, page.entries[-1].id, who(consumer))
    session.commit()
    return result


def test_billing_event_walks_its_statuses(world: Session) -> None:
    activate(world)
    ready_plan(world, "BP", ["MS-USER=30%", "MS-DATE=70%"])
    with pytest.raises(InvalidTransition) as err:
        events.bill(world, ekey("1/BP/1"), who())
    assert str(err.value) == (
        "billing plan event US001/K1000/1/BP/1: cannot change status Ready -> Billed: from Ready only In Progress, Pending may follow"
    )
    world.rollback()
    with pytest.raises(RuleViolation, match="only revenue plan events are recognized"):
        events.recognize(world, ekey("1/BP/1"), who())
    world.rollback()
    complete(world, ms("MS-USER"))
    assert [b.event for b in claim_all(world).claimed] == ["US001/K1000/1/BP/1"]
    assert event_status(world, "1/BP/1") == "In Progress"
    move = events.bill(world, ekey("1/BP/1"), who("billing"))
    world.commit()
    assert (move.status, move.plan_completed) == ("Billed", False)
    pk = event_pk(world, move.event)
    assert [c[:2] for c in changes(world, ObjectType.PLAN_EVENT, pk)] == [
        (None, "Pending"),
        ("Pending", "Ready"),
        ("Ready", "In Progress"),
        ("In Progress", "Billed"),
    ]
    with pytest.raises(
        InvalidTransition, match="cannot change status Billed -> Billed: it is already Billed"
    ):
        events.bill(world, ekey("1/BP/1"), who())


def test_revenue_event_is_recognized_only_when_eligible_and_reversed_for_good(world: Session) -> None:
    activate(world)
    ready_plan(world, "RP", ["MS-USER=50%", "MS-DATE=50%"], PlanType.REVENUE)
    with pytest.raises(RuleViolation) as err:
        events.recognize(world, ekey("1/RP/1"), who())
    assert str(err.value) == (
        "revenue plan event US001/K1000/1/RP/1: is not eligible for recognition: its milestone US001/K1000/MS-USER/1 is Ready"
    )
    world.rollback()
    complete(world, ms("MS-USER"))
    assert events.recognize(world, ekey("1/RP/1"), who()).status == "Recognized"
    world.commit()
    with pytest.raises(RuleViolation, match="only billing plan events are billed"):
        events.bill(world, ekey("1/RP/1"), who())
    world.rollback()
    move = events.reverse(world, ekey("1/RP/1"), who())
    assert (move.status, move.plan_completed) == ("Reversed", False)
    with pytest.raises(InvalidTransition, match="Reversed -> Reversed: it is already Reversed"):
        events.reverse(world, ekey("1/RP/1"), who())
    with pytest.raises(InvalidTransition, match="Reversed is final"):
        events.set_event_ready(world, ekey("1/RP/1"), who())


def test_a_date_revenue_event_waits_for_a_run(world: Session) -> None:
    activate(world)
    ready_plan(world, "RP", ["2026-01-15=100%"], PlanType.REVENUE)
    with pytest.raises(RuleViolation) as err:
        events.recognize(world, ekey("1/RP/1"), who())
    assert str(err.value).endswith(
        "is not eligible for recognition: no run has reached its date 2026-01-15 yet"
    )


def test_an_announced_event_cannot_go_back_to_pending(world: Session) -> None:
    activate(world)
    ready_plan(world, "BP", ["MS-USER=40%", "MS-DATE=60%"])
    assert events.set_event_pending(world, ekey("1/BP/2"), who()).status == "Pending"
    world.commit()
    complete(world, ms("MS-USER"))
    cursor = feed.published_cursor(world, get_event(world, ekey("1/BP/1")).id)
    with pytest.raises(RuleViolation) as err:
        events.set_event_pending(world, ekey("1/BP/1"), who())
    assert str(err.value) == (
        f"billing plan event US001/K1000/1/BP/1: was announced as eligible on the feed (cursor {cursor});"
        " it can no longer be set Pending"
    )


def test_an_event_set_ready_after_its_milestone_completed_is_announced_at_once(world: Session) -> None:
    activate(world)
    ready_plan(world, "BP", ["MS-USER=40%", "MS-DATE=60%"])
    events.set_event_pending(world, ekey("1/BP/2"), who())
    world.commit()
    complete(world, ms("MS-DATE"))
    assert [e.event_num for e in feed.read(world, "x").entries] == [None]  # the milestone only
    events.set_event_ready(world, ekey("1/BP/2"), who())
    world.commit()
    entries = feed.read(world, "x").entries
    assert [(e.kind, e.event_num, e.process_instance, e.amount) for e in entries] == [
        ("milestone_completed", None, 0, None),
        ("billing_event_eligible", 2, None, Decimal("6000.00")),
    ]


# --- plan completion -------------------------------------------------------------------------------------


def bill_everything(session: Session) -> list[bool]:
    """Claim what is eligible and bill it; the plan_completed flag of each bill, in order."""
    result = claim_all(session)
    flags = []
    for handout in result.claimed:
        flags.append(events.bill(session, ekey(handout.event), who("billing")).plan_completed)
        session.commit()
    return flags


def test_plan_completes_when_its_events_are_billed_and_total_exactly_100(world: Session) -> None:
    activate(world)
    ready_plan(world, "BP", ["MS-USER=30%", "MS-DATE=50%", "MS-SQL=20%"])
    complete(world, ms("MS-USER"))
    complete(world, ms("MS-DATE"))
    assert bill_everything(world) == [False, False]
    plan = get_plan(world, pkey("1/BP"))
    assert plan.status == PlanStatus.READY
    assert completion_gap(plan) == "events not done yet: 3 (Ready)"
    complete(world, ms("MS-SQL"))
    assert bill_everything(world) == [True]
    world.expire_all()
    plan = get_plan(world, pkey("1/BP"))
    assert plan.status == PlanStatus.COMPLETED
    assert changes(world, ObjectType.PLAN, plan.id)[-1] == (
        "Ready",
        "Completed",
        "billing",
        "all events are done and they total 100 %",
    )


def test_plan_short_of_100_is_not_completed(world: Session) -> None:
    activate(world)
    ready_plan(world, "BP", ["MS-USER=40%", "MS-DATE=59.99%"])
    complete(world, ms("MS-USER"))
    complete(world, ms("MS-DATE"))
    assert bill_everything(world) == [False, False]
    plan = get_plan(world, pkey("1/BP"))
    assert plan.status == PlanStatus.READY
    assert completion_gap(plan) == "its done events total less than 100 % of the line"


def test_amounts_that_add_up_to_the_line_are_exactly_100(world: Session) -> None:
    activate(world)
    ready_plan(world, "BP", ["MS-USER=333.33", "MS-DATE=333.33", "MS-SQL=333.34"], line=2)  # line 2: 1000.00
    for milestone_id in ("MS-USER", "MS-DATE", "MS-SQL"):
        complete(world, ms(milestone_id))
    assert bill_everything(world) == [False, False, True]


def test_a_reversed_event_does_not_count_and_a_new_event_replaces_it(world: Session) -> None:
    activate(world)
    ready_plan(world, "RP", ["MS-USER=50%", "MS-DATE=50%"], PlanType.REVENUE)
    complete(world, ms("MS-USER"))
    events.recognize(world, ekey("1/RP/1"), who())
    events.reverse(world, ekey("1/RP/1"), who())
    world.commit()
    complete(world, ms("MS-DATE"))
    assert events.recognize(world, ekey("1/RP/2"), who()).plan_completed is False
    redo = events.add_event(
        world,
        pkey("1/RP"),
        who(),
        event_type=EventType.DATE,
        event_date=dt.date(2026, 1, 20),
        percentage=Decimal(50),
    )
    events.set_event_ready(world, ekey("1/RP/3"), who())
    world.commit()
    from billing_plans.feed import publish_date_events

    publish_date_events(
        world.connection(),
        business_units=None,
        as_of=dt.date(2026, 2, 1),
        process_instance=0,
        at=dt.datetime(2026, 2, 1),
    )
    move = events.recognize(world, ekey("1/RP/3"), who())
    assert (redo.event_num, move.plan_completed) == (3, True)
    # a Completed plan's event can be reversed too (issue 16): the plan leaves Completed
    assert events.reverse(world, ekey("1/RP/2"), who()).plan_reopened is True


# --- CLI -------------------------------------------------------------------------------------------------


def test_cli_downstream_commands(world: Session, cli: CliInvoke) -> None:
    activate(world)
    ready_plan(world, "RP", ["MS-USER=100%"], PlanType.REVENUE)
    result = cli("event", "recognize", "US001/K1000/1/RP/1")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: revenue plan event US001/K1000/1/RP/1: is not eligible for recognition:"
        " its milestone US001/K1000/MS-USER/1 is Ready\n"
    )
    complete(world, ms("MS-USER"))
    result = cli("event", "recognize", "US001/K1000/1/RP/1")
    assert result.stdout == (
        "revenue plan event US001/K1000/1/RP/1 is Recognized; plan US001/K1000/1/RP is Completed\n"
    )
    result = cli("event", "reverse", "US001/K1000/1/RP/1")  # a Completed plan's event too (issue 16)
    assert result.stdout == (
        "revenue plan event US001/K1000/1/RP/1 is Reversed; plan US001/K1000/1/RP left Completed (Ready)\n"
    )
    result = cli("event", "bill", "US001/K1000/1/RP/1")
    assert (
        result.stderr == "Error: revenue plan event US001/K1000/1/RP/1: only billing plan events are billed\n"
    )
