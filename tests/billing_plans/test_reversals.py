"""Reversals and credits (issue 16): a recognized event of a Completed plan is reversed and the revenue
system reads the reversal on the feed; a billed event is credited, never edited; the plan leaves Completed
and a replacement completes it again; a revenue plan goes back to Pending while nothing is recognized."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from billing_plans import events, feed, plans
from billing_plans.keys import get_plan
from contracts.errors import InvalidTransition, RuleViolation
from contracts.status import (
    BILLING_EVENT_TRANSITIONS,
    Actor,
    BillingEventStatus,
    PlanStatus,
    PlanType,
    move_error,
)
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


def plan_status(session: Session, key: str) -> str:
    session.expire_all()
    return get_plan(session, pkey(key)).status.value


@pytest.fixture
def completed_revenue(world: Session) -> Session:
    """Revenue plan RP on line 1 (MS-USER 40 %, MS-DATE 60 %), both recognized: the plan is Completed."""
    activate(world)
    template(world, "RP", ["MS-USER=40%", "MS-DATE=60%"], PlanType.REVENUE, ready_on_activation=True)
    create(world, "RP")
    complete(world, ms("MS-USER"))
    complete(world, ms("MS-DATE"))
    events.recognize(world, ekey("1/RP/1"), who())
    assert events.recognize(world, ekey("1/RP/2"), who()).plan_completed
    world.commit()
    return world


def test_a_recognized_event_of_a_completed_plan_is_reversed_and_read_on_the_feed(
    completed_revenue: Session,
) -> None:
    s = completed_revenue
    before = feed.read(s, "revenue").entries
    feed.ack(s, "revenue", before[-1].id, who("revenue"))
    s.commit()
    move = events.reverse(s, ekey("1/RP/2"), who("ana"))
    s.commit()
    assert (move.status, move.plan_reopened, move.feed_entries) == ("Reversed", True, 1)
    assert plan_status(s, "1/RP") == "Ready"
    page = feed.read(s, "revenue")
    assert [(e.kind.value, feed.entry_key(e), e.amount, e.percentage) for e in page.entries] == [
        ("revenue_event_reversed", "US001/K1000/1/RP/2", Decimal("-6000.00"), Decimal("60"))
    ]
    assert feed.entry_record(page.entries[0])["milestone"] == "US001/K1000/MS-DATE/1"
    plan_pk = get_plan(s, pkey("1/RP")).id
    assert changes(s, "Plan", plan_pk)[-1][:3] == ("Completed", "Ready", "ana")
    assert changes(s, "Plan Event", event_pk(s, "1/RP/2"))[-1][:2] == ("Recognized", "Reversed")
    with pytest.raises(InvalidTransition, match="it is already Reversed"):
        events.reverse(s, ekey("1/RP/2"), who())
    s.rollback()

    # the replacement: same milestone and share, eligible at once (its milestone is Completed)
    redo = events.add_replacement(s, ekey("1/RP/2"), who("ana"))
    assert (redo.event_num, redo.status, redo.percentage) == (3, "Pending", Decimal("60.0000"))
    events.set_event_ready(s, ekey("1/RP/3"), who("ana"))
    s.commit()
    assert [feed.entry_key(e) for e in feed.read(s, "revenue").entries][-1] == "US001/K1000/1/RP/3"
    assert events.recognize(s, ekey("1/RP/3"), who()).plan_completed
    s.commit()
    assert plan_status(s, "1/RP") == "Completed"
    with pytest.raises(RuleViolation, match="is Recognized; only a Reversed or Credited event is replaced"):
        events.add_replacement(s, ekey("1/RP/1"), who())


def test_a_billed_event_is_credited_with_an_entry_of_its_own(world: Session) -> None:
    activate(world)
    template(world, "BP", ["MS-USER=100%"], ready_on_activation=True)
    create(world, "BP")
    complete(world, ms("MS-USER"))
    page = feed.read(world, "billing")
    claimed = feed.ack(world, "billing", page.entries[-1].id, who("billing")).claimed
    assert [c.event for c in claimed] == ["US001/K1000/1/BP/1"]
    assert events.bill(world, ekey("1/BP/1"), who("billing")).plan_completed
    world.commit()
    credited = (BillingEventStatus.BILLED, BillingEventStatus.CREDITED)
    assert (
        move_error(BILLING_EVENT_TRANSITIONS, *credited, Actor.CONSUMER) == "only the user may set Credited"
    )
    assert (
        move_error(
            BILLING_EVENT_TRANSITIONS, BillingEventStatus.CREDITED, BillingEventStatus.BILLED, Actor.USER
        )
        == "Credited is final"
    )
    move = events.credit(world, ekey("1/BP/1"), who("ana"))
    world.commit()
    assert (event_status(world, "1/BP/1"), move.plan_reopened) == ("Credited", True)
    entries = feed.read(world, "billing").entries
    assert [(e.kind.value, e.amount) for e in entries] == [("billing_event_credited", Decimal("-10000.00"))]
    # the credit entry claims nothing when acknowledged, and the billed entry is unchanged
    assert feed.ack(world, "billing", entries[-1].id, who("billing")).billing == ()
    assert page.entries[-1].amount == Decimal("10000.00")
    world.commit()


def test_a_whole_plan_is_reversed(completed_revenue: Session) -> None:
    undo = events.undo_plan(completed_revenue, pkey("1/RP"), who("ana"))
    completed_revenue.commit()
    assert (undo.events, undo.plan_reopened, undo.feed_entries) == (
        ("US001/K1000/1/RP/1", "US001/K1000/1/RP/2"),
        True,
        2,
    )
    with pytest.raises(
        RuleViolation, match="revenue plan US001/K1000/1/RP: has no Recognized events to be reversed"
    ):
        events.undo_plan(completed_revenue, pkey("1/RP"), who())


def test_a_revenue_plan_goes_back_to_pending_while_nothing_is_recognized(world: Session) -> None:
    activate(world)
    template(world, "RP", ["MS-USER=40%", "MS-DATE=60%"], PlanType.REVENUE, ready_on_activation=True)
    template(world, "BP", ["MS-USER=100%"], ready_on_activation=True)
    create(world, "RP")
    create(world, "BP", line=2)
    complete(world, ms("MS-USER"))  # RP/1 announced, not recognized
    plan = plans.set_plan_pending(world, pkey("1/RP"), who("ana"))
    world.commit()
    assert plan.status == PlanStatus.PENDING
    assert [event_status(world, k) for k in ("1/RP/1", "1/RP/2")] == ["Pending", "Pending"]
    with pytest.raises(RuleViolation, match="can be set Pending only while every event is Pending"):
        plans.set_plan_pending(world, pkey("2/BP"), who())
    world.rollback()
    plans.set_plan_ready(world, pkey("1/RP"), who(), with_events=True)
    events.recognize(world, ekey("1/RP/1"), who())
    world.commit()
    with pytest.raises(
        RuleViolation,
        match="revenue plan US001/K1000/1/RP: can be set Pending only while no event is Recognized; events 1",
    ):
        plans.set_plan_pending(world, pkey("1/RP"), who())


def test_reversal_cli(completed_revenue: Session, cli: CliInvoke) -> None:
    out = cli("event", "reverse", "US001/K1000/1/RP/2")
    assert out.exit_code == 0, out.output
    assert out.output == (
        "revenue plan event US001/K1000/1/RP/2 is Reversed; plan US001/K1000/1/RP left Completed (Ready)\n"
    )
    out = cli("event", "replace", "US001/K1000/1/RP/2")
    assert out.output == "revenue plan event US001/K1000/1/RP/3 added (Pending), replacing event 2\n"
    out = cli("plan", "reverse", "US001/K1000/1/RP")
    assert out.output == "plan US001/K1000/1/RP: events US001/K1000/1/RP/1 undone, 1 feed entries\n"
    out = cli("event", "credit", "US001/K1000/1/RP/1")
    assert out.exit_code == 1
    assert (
        out.stderr == "Error: revenue plan event US001/K1000/1/RP/1: only billing plan events are credited\n"
    )
