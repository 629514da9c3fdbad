"""The feed: what is published and when (never twice), reading, acknowledging and claiming billing events,
and consumers that crash before their ack commits."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from billing_plans import feed
from contracts.errors import InvalidInput, RuleViolation
from contracts.models import FeedConsumer, FeedEntry, FeedKind, StatusChange
from tests.billing_plans.conftest import (
    AS_OF,
    AT,
    activate,
    complete,
    create,
    event_pk,
    event_status,
    ms,
    run,
    template,
    who,
)
from tests.conftest import CliInvoke

WORKER = [sys.executable, "-m", "tests.billing_plans.feed_worker"]


def kinds(session: Session) -> list[tuple[str, str]]:
    session.expire_all()
    return [
        (e.kind.value, feed.entry_key(e)) for e in session.scalars(select(FeedEntry).order_by(FeedEntry.id))
    ]


# --- publishing ------------------------------------------------------------------------------------------


def test_a_run_publishes_completions_and_eligible_events_once(two_plans: Session, engine: Engine) -> None:
    result = run(engine, AS_OF)
    assert result.milestones_completed == 2  # MS-DATE/1 (date reached) and MS-DATE/2
    assert kinds(two_plans) == [
        ("milestone_completed", "US001/K1000/MS-DATE/1"),
        ("milestone_completed", "US001/K1000/MS-DATE/2"),
        ("billing_event_eligible", "US001/K1000/1/BP/2"),
        ("revenue_event_eligible", "US001/K1000/2/RP/1"),
    ]
    billing = two_plans.scalars(
        select(FeedEntry).where(FeedEntry.kind == FeedKind.BILLING_EVENT_ELIGIBLE)
    ).one()
    assert (billing.amount, billing.percentage, billing.currency, billing.completed_on) == (
        Decimal("7000.00"),
        Decimal("70"),
        "USD",
        dt.date(2026, 2, 1),
    )
    assert (billing.milestone_id, billing.milestone_num, billing.process_instance, billing.as_of) == (
        "MS-DATE",
        1,
        result.process_instance,
        AS_OF,
    )
    run(engine, AS_OF)
    run(engine, AS_OF + dt.timedelta(days=1))
    assert len(kinds(two_plans)) == 4


def test_date_events_are_published_when_a_run_reaches_their_date(world: Session) -> None:
    activate(world)
    template(world, "BP", ["2026-01-15=40%", "2026-03-15=60%"], ready_on_activation=True)
    create(world, "BP")
    conn = world.connection()

    def publish(business_units: list[str] | None, as_of: dt.date) -> int:
        return feed.publish_date_events(
            conn, business_units=business_units, as_of=as_of, process_instance=7, at=AT
        )

    assert publish(None, dt.date(2026, 1, 14)) == 0
    assert publish(["US002"], dt.date(2026, 1, 15)) == 0
    assert publish(["us001"], dt.date(2026, 1, 15)) == 1
    assert publish(None, dt.date(2026, 1, 15)) == 0
    assert publish(None, dt.date(2026, 6, 1)) == 1
    assert publish(None, dt.date(2026, 6, 1)) == 0
    world.commit()
    entries = world.scalars(select(FeedEntry).order_by(FeedEntry.id)).all()
    assert [(e.event_num, e.event_date, e.amount, e.as_of) for e in entries] == [
        (1, dt.date(2026, 1, 15), Decimal("4000.00"), dt.date(2026, 1, 15)),
        (2, dt.date(2026, 3, 15), Decimal("6000.00"), dt.date(2026, 6, 1)),
    ]


def test_pending_events_are_not_published(world: Session) -> None:
    activate(world)
    template(world, "BP", ["MS-USER=100%"])  # no Ready on activation: the event stays Pending
    create(world, "BP")
    assert complete(world, ms("MS-USER")) == 1
    assert kinds(world) == [("milestone_completed", "US001/K1000/MS-USER/1")]


# --- reading and acknowledging -----------------------------------------------------------------------------


def test_read_changes_nothing_and_ack_moves_the_cursor(two_plans: Session) -> None:
    complete(two_plans, ms("MS-USER"))
    complete(two_plans, ms("MS-DATE"))
    first = feed.read(two_plans, "billing", limit=2)
    assert [e.id for e in first.entries] == [1, 2]
    assert [e.id for e in feed.read(two_plans, "billing", limit=2).entries] == [1, 2]
    assert two_plans.scalar(select(func.count()).select_from(FeedConsumer)) == 0

    result = feed.ack(two_plans, "billing", 2, who("billing"))
    two_plans.commit()
    assert (result.previous, result.acked_through, result.entries) == (0, 2, 2)
    assert [(b.event, b.claimed, b.status) for b in result.billing] == [
        ("US001/K1000/1/BP/1", True, "In Progress")
    ]
    assert [e.id for e in feed.read(two_plans, "billing").entries] == [3, 4]
    assert event_status(two_plans, "1/BP/1") == "In Progress"
    reason = two_plans.scalar(
        select(StatusChange.reason).where(
            StatusChange.object_pk == event_pk(two_plans, "1/BP/1"), StatusChange.new_status == "In Progress"
        )
    )
    assert reason == "claimed by feed consumer billing (ack through cursor 2)"

    again = feed.ack(two_plans, "billing", 2, who("billing"))
    assert (again.previous, again.acked_through, again.entries, again.billing) == (2, 2, 0, ())
    assert feed.ack(two_plans, "billing", 1, who("billing")).claimed == ()


def test_a_page_and_its_ack_are_a_fixed_number_of_statements(two_plans: Session, engine: Engine) -> None:
    """Reading and acknowledging are set-based: the statement count does not grow with the page (no query
    per entry, no insert per claimed event)."""
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    def measured(action: Callable[[], object]) -> int:
        two_plans.commit()
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            action()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    complete(two_plans, ms("MS-USER"))  # 2 entries: the milestone, BP/1
    small_read = measured(lambda: feed.read(two_plans, "a", limit=1))
    small_ack = measured(lambda: feed.ack(two_plans, "a", 2, who("a")))
    complete(two_plans, ms("MS-DATE"))
    complete(two_plans, ms("MS-DATE", 2))
    last = two_plans.scalar(select(func.max(FeedEntry.id)))
    assert last is not None and last >= 6
    assert measured(lambda: feed.read(two_plans, "a", limit=100)) == small_read
    big = measured(lambda: feed.ack(two_plans, "a", last, who("a")))  # claims BP/2
    assert (big, small_ack) == (small_ack, small_ack)
    assert event_status(two_plans, "1/BP/2") == "In Progress"


def test_ack_beyond_the_last_entry_is_refused(two_plans: Session) -> None:
    complete(two_plans, ms("MS-USER"))
    with pytest.raises(RuleViolation) as err:
        feed.ack(two_plans, "billing", 3, who())
    assert str(err.value) == "feed consumer billing: cannot acknowledge through cursor 3: the last entry is 2"
    two_plans.rollback()
    with pytest.raises(InvalidInput, match="feed cursor must be 0 or more, got -1"):
        feed.ack(two_plans, "billing", -1, who())
    with pytest.raises(InvalidInput, match="feed consumer name '' must be 1 to 40 characters"):
        feed.read(two_plans, "")
    with pytest.raises(InvalidInput, match="feed read limit must be 1 or more, got 0"):
        feed.read(two_plans, "billing", limit=0)


def test_two_consumers_read_the_same_entry_but_only_the_first_ack_claims_it(two_plans: Session) -> None:
    complete(two_plans, ms("MS-USER"))
    assert [e.id for e in feed.read(two_plans, "billing-a").entries] == [1, 2]
    assert [e.id for e in feed.read(two_plans, "billing-b").entries] == [1, 2]
    a = feed.ack(two_plans, "billing-a", 2, who("a"))
    two_plans.commit()
    b = feed.ack(two_plans, "billing-b", 2, who("b"))
    two_plans.commit()
    assert [(h.event, h.claimed) for h in a.billing] == [("US001/K1000/1/BP/1", True)]
    assert [(h.event, h.claimed, h.status) for h in b.billing] == [
        ("US001/K1000/1/BP/1", False, "In Progress")
    ]
    claims = two_plans.scalars(
        select(StatusChange.changed_by).where(StatusChange.new_status == "In Progress")
    ).all()
    assert claims == ["a"]


def test_revenue_entries_claim_nothing(two_plans: Session) -> None:
    complete(two_plans, ms("MS-DATE", 2))
    assert kinds(two_plans) == [
        ("milestone_completed", "US001/K1000/MS-DATE/2"),
        ("revenue_event_eligible", "US001/K1000/2/RP/1"),
    ]
    result = feed.ack(two_plans, "revenue", 2, who())
    assert (result.entries, result.billing) == (2, ())
    assert event_status(two_plans, "2/RP/1") == "Ready"


# --- crashes -----------------------------------------------------------------------------------------------


def test_a_consumer_that_crashes_before_ack_reads_the_same_entries_again(
    two_plans: Session, db_url: str
) -> None:
    complete(two_plans, ms("MS-USER"))
    crashed = subprocess.run(
        [*WORKER, "read-then-crash", db_url, "billing"], capture_output=True, text=True, timeout=60
    )
    assert crashed.returncode == -9, crashed.stderr
    assert json.loads(crashed.stdout) == [1, 2]
    assert [e.id for e in feed.read(two_plans, "billing").entries] == [1, 2]
    assert event_status(two_plans, "1/BP/1") == "Ready"
    assert [b.event for b in feed.ack(two_plans, "billing", 2, who()).claimed] == ["US001/K1000/1/BP/1"]


def test_a_consumer_killed_inside_its_ack_changes_nothing(two_plans: Session, db_url: str) -> None:
    """The ack's claim and cursor move are one transaction: killed before commit, both are gone, and the
    next ack (by anyone) claims the event."""
    complete(two_plans, ms("MS-USER"))
    two_plans.close()
    proc = subprocess.Popen(
        [*WORKER, "ack-then-hang", db_url, "billing", "2"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline()) == {"acked": ["US001/K1000/1/BP/1"]}
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert event_status(two_plans, "1/BP/1") == "Ready"
    assert two_plans.scalar(select(func.count()).select_from(FeedConsumer)) == 0
    assert [e.id for e in feed.read(two_plans, "billing").entries] == [1, 2]
    assert [b.event for b in feed.ack(two_plans, "other", 2, who()).claimed] == ["US001/K1000/1/BP/1"]


# --- CLI ---------------------------------------------------------------------------------------------------


def test_cli_read_formats_ack_and_consumers(two_plans: Session, cli: CliInvoke) -> None:
    complete(two_plans, ms("MS-USER"))
    lines = cli("feed", "read", "--consumer", "billing").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["cursor"], r["kind"], r["key"]) for r in records] == [
        (1, "milestone_completed", "US001/K1000/MS-USER/1"),
        (2, "billing_event_eligible", "US001/K1000/1/BP/1"),
    ]
    assert records[1] | {"created_at": None} == {
        "cursor": 2,
        "kind": "billing_event_eligible",
        "key": "US001/K1000/1/BP/1",
        "business_unit": "US001",
        "contract_num": "K1000",
        "milestone": "US001/K1000/MS-USER/1",
        "completed_on": "2026-02-01",
        "line_num": 1,
        "plan_type": "Billing",
        "plan_id": "BP",
        "event_num": 1,
        "event_type": "Milestone",
        "event_date": None,
        "percentage": "30.0000",
        "amount": "3000.00",
        "currency": "USD",
        "as_of": "2026-02-01",
        "process_instance": 0,
        "created_at": None,
    }
    rows = list(
        csv.DictReader(io.StringIO(cli("feed", "read", "--consumer", "billing", "--format", "csv").stdout))
    )
    assert [(r["cursor"], r["key"], r["amount"], r["line_num"]) for r in rows] == [
        ("1", "US001/K1000/MS-USER/1", "", ""),
        ("2", "US001/K1000/1/BP/1", "3000.00", "1"),
    ]
    assert cli("feed", "read", "--consumer", "billing", "--limit", "1").stdout.count("\n") == 1

    acked = cli("feed", "ack", "--consumer", "billing", "--through", "2")
    assert acked.exit_code == 0, acked.output
    assert acked.stdout.splitlines()[0] == (
        "consumer billing acknowledged cursors 1..2 (2 entries); claimed 1 billing events (In Progress)"
    )
    assert acked.stdout.splitlines()[3].split() == [
        "2",
        "US001/K1000/1/BP/1",
        "3000.00",
        "USD",
        "True",
        "In",
        "Progress",
    ]
    assert cli("feed", "read", "--consumer", "billing").stdout == ""
    assert cli("feed", "ack", "--consumer", "billing", "--through", "2").stdout == (
        "consumer billing has already acknowledged through cursor 2: nothing to do\n"
    )
    other = json.loads(cli("--json", "feed", "ack", "--consumer", "audit", "--through", "2").stdout)
    assert (other["previous"], other["acked_through"], other["claimed"]) == (0, 2, [])
    beyond = cli("feed", "ack", "--consumer", "billing", "--through", "9")
    assert (beyond.exit_code, beyond.stderr) == (
        1,
        "Error: feed consumer billing: cannot acknowledge through cursor 9: the last entry is 2\n",
    )
    positions = json.loads(cli("--json", "feed", "consumers").stdout)
    assert [(p["consumer"], p["acked_through"], p["waiting"]) for p in positions] == [
        ("audit", 2, 0),
        ("billing", 2, 0),
    ]
