"""Holds: a held plan's, event's or contract's eligible events stay off the feed, unclaimed, unbilled and
unrecognized until release, and are then announced exactly once; one-cycle holds end with the next run."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from billing_plans import events, feed, holds
from billing_plans.holds import HoldTarget
from contracts.errors import InvalidInput, RuleViolation
from contracts.finops_models import Hold
from contracts.models import FeedEntry
from tests.billing_plans.conftest import (
    AS_OF,
    changes,
    ekey,
    event_status,
    run,
    who,
)
from tests.conftest import CliInvoke

LATER = dt.datetime(2026, 2, 2, 8, 0)


def entries(session: Session) -> list[tuple[str, str]]:
    session.expire_all()
    return [
        (e.kind.value, feed.entry_key(e)) for e in session.scalars(select(FeedEntry).order_by(FeedEntry.id))
    ]


def event_entries(session: Session, key: str) -> list[tuple[str, str]]:
    return [e for e in entries(session) if e[1] == key]


def target(kind: str, key: str) -> HoldTarget:
    return HoldTarget.parse(kind, key)


def test_a_held_plans_eligible_event_appears_once_after_release(two_plans: Session, engine: Engine) -> None:
    holds.put_on_hold(two_plans, target("plan", "US001/K1000/1/BP"), who("ana"), "customer dispute")
    two_plans.commit()
    run(engine)  # milestones keep completing
    assert entries(two_plans) == [
        ("milestone_completed", "US001/K1000/MS-DATE/1"),
        ("milestone_completed", "US001/K1000/MS-DATE/2"),
        ("revenue_event_eligible", "US001/K1000/2/RP/1"),
    ]
    run(engine, AS_OF + dt.timedelta(days=1))
    assert event_entries(two_plans, "US001/K1000/1/BP/2") == []

    released = holds.release(
        two_plans, target("plan", "US001/K1000/1/BP"), who("bo", LATER), as_of=AS_OF, reason="settled"
    )
    two_plans.commit()
    assert released.announced == 1 and released.hold.status == "Released"
    assert released.hold.released_by == "bo" and released.hold.release_reason == "settled"
    assert event_entries(two_plans, "US001/K1000/1/BP/2") == [
        ("billing_event_eligible", "US001/K1000/1/BP/2")
    ]
    run(engine, AS_OF + dt.timedelta(days=2))
    assert event_entries(two_plans, "US001/K1000/1/BP/2") == [
        ("billing_event_eligible", "US001/K1000/1/BP/2")
    ]
    acked = feed.ack(two_plans, "billing", feed.read(two_plans, "billing").entries[-1].id, who("billing"))
    two_plans.commit()
    assert [b.event for b in acked.claimed] == ["US001/K1000/1/BP/2"]
    hold_id = released.hold.hold_id
    assert [(o, n, b) for o, n, b, _ in changes(two_plans, "Hold", hold_id)] == [
        (None, "Held", "ana"),
        ("Held", "Released", "bo"),
    ]


def test_a_held_event_is_not_claimed_billed_or_recognized(two_plans: Session, engine: Engine) -> None:
    run(engine)  # announces BP/2 and RP/1
    holds.put_on_hold(two_plans, target("event", "US001/K1000/1/BP/2"), who("ana"), "wrong PO number")
    holds.put_on_hold(two_plans, target("contract", "US001/K1000"), who("ana"), "audit")
    two_plans.commit()
    page = feed.read(two_plans, "billing")
    acked = feed.ack(two_plans, "billing", page.entries[-1].id, who("billing"))
    two_plans.commit()
    assert acked.claimed == () and event_status(two_plans, "1/BP/2") == "Ready"
    with pytest.raises(
        RuleViolation,
        match=r"revenue plan event US001/K1000/2/RP/1: is on hold since .* by ana \(contract hold 2: audit\); it cannot be recognized",
    ):
        events.recognize(two_plans, ekey("2/RP/1"), who())
    two_plans.rollback()

    # Release the contract hold: the event hold still holds BP/2; RP/1 was acknowledged during the hold
    # and is announced again so that its consumer meets it after the release.
    result = holds.release(two_plans, target("contract", "US001/K1000"), who("bo", LATER), as_of=AS_OF)
    two_plans.commit()
    assert result.announced == 1
    assert (
        event_entries(two_plans, "US001/K1000/2/RP/1")
        == [("revenue_event_eligible", "US001/K1000/2/RP/1")] * 2
    )
    assert event_entries(two_plans, "US001/K1000/1/BP/2") == [
        ("billing_event_eligible", "US001/K1000/1/BP/2")
    ]
    assert events.recognize(two_plans, ekey("2/RP/1"), who()).status == "Recognized"
    two_plans.commit()

    holds.release(two_plans, target("event", "US001/K1000/1/BP/2"), who("bo", LATER), as_of=AS_OF)
    two_plans.commit()
    again = feed.read(two_plans, "billing").entries
    assert [feed.entry_key(e) for e in again] == ["US001/K1000/2/RP/1", "US001/K1000/1/BP/2"]
    acked = feed.ack(two_plans, "billing", again[-1].id, who("billing"))
    two_plans.commit()
    assert [b.event for b in acked.claimed] == ["US001/K1000/1/BP/2"]
    # a second consumer that reads everything claims nothing more: exactly once
    other = feed.ack(two_plans, "billing-2", again[-1].id, who("billing-2"))
    assert other.claimed == ()
    two_plans.commit()
    holds.put_on_hold(two_plans, target("event", "US001/K1000/1/BP/2"), who("ana"), "hold the invoice")
    two_plans.commit()
    with pytest.raises(RuleViolation, match="cannot be billed until the hold is released"):
        events.bill(two_plans, ekey("1/BP/2"), who())


def test_hold_rules(two_plans: Session) -> None:
    with pytest.raises(InvalidInput, match="a reason is required"):
        holds.put_on_hold(two_plans, target("plan", "US001/K1000/1/BP"), who(), "  ")
    holds.put_on_hold(two_plans, target("plan", "US001/K1000/1/BP"), who("ana"), "dispute")
    with pytest.raises(
        RuleViolation, match=r"plan US001/K1000/1/BP: is already on hold \(hold 1 by ana: dispute\)"
    ):
        holds.put_on_hold(two_plans, target("plan", "US001/K1000/1/BP"), who(), "again")
    with pytest.raises(RuleViolation, match="plan US001/K1000/2/RP: is not on hold"):
        holds.release(two_plans, target("plan", "US001/K1000/2/RP"), who(), as_of=AS_OF)
    with pytest.raises(InvalidInput, match="hold kind 'line' must be one of contract, plan, event"):
        target("line", "US001/K1000/1")
    assert [h.key for h in holds.list_holds(two_plans)] == ["US001/K1000/1/BP"]


def test_a_one_cycle_hold_is_released_by_the_next_run(two_plans: Session, engine: Engine) -> None:
    holds.put_on_hold(
        two_plans, target("event", "US001/K1000/1/BP/2"), who("ana"), "this cycle only", one_cycle=True
    )
    two_plans.commit()
    result = run(engine)
    assert event_entries(two_plans, "US001/K1000/1/BP/2") == [
        ("billing_event_eligible", "US001/K1000/1/BP/2")
    ]
    two_plans.expire_all()
    hold = two_plans.scalars(select(Hold)).one()
    assert hold.released_by == f"run {result.process_instance}"
    assert hold.release_reason == f"one-cycle hold released by run {result.process_instance}"
    assert holds.list_holds(two_plans) == []


def test_hold_cli(two_plans: Session, cli: CliInvoke) -> None:
    out = cli("hold", "add", "plan", "US001/K1000/1/BP", "--reason", "customer dispute")
    assert out.exit_code == 0, out.output
    assert out.output == "plan US001/K1000/1/BP is on hold (hold 1)\n"
    listed = cli("hold", "list", "--json")
    assert listed.exit_code == 0 and '"key": "US001/K1000/1/BP"' in listed.output
    again = cli("hold", "add", "plan", "US001/K1000/1/BP", "--reason", "x")
    assert again.exit_code == 1
    assert (
        "Error: plan US001/K1000/1/BP: is already on hold (hold 1 by admin: customer dispute)" in again.stderr
    )
    bad = cli("hold", "add", "plan", "K1000", "--reason", "x")
    assert bad.exit_code == 2
    released = cli(
        "hold", "release", "plan", "US001/K1000/1/BP", "--reason", "settled", "--as-of", "2026-02-01"
    )
    assert released.exit_code == 0, released.output
    assert released.output == "plan US001/K1000/1/BP: hold 1 released; 0 feed entries announced\n"
    assert cli("hold", "list").exit_code == 0


def test_a_contract_hold_stops_claims_of_every_plan(two_plans: Session, engine: Engine) -> None:
    run(engine)
    holds.put_on_hold(two_plans, target("contract", "US001/K1000"), who("ana"), "credit check")
    two_plans.commit()
    page = feed.read(two_plans, "billing")
    assert feed.ack(two_plans, "billing", page.entries[-1].id, who("billing")).claimed == ()
    two_plans.commit()
    assert event_status(two_plans, "1/BP/2") == "Ready"
