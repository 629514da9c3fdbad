"""Several consumer processes read and acknowledge the feed at once while several publishers append to it:
no billing event is handed out twice, none is lost, and no consumer's cursor skips an entry (cursor order is
commit order, even when publishers' transactions overlap)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contracts import admin
from contracts.models import FeedEntry, Milestone, PlanEvent, StatusChange
from contracts.status import MilestoneStatus
from tests.billing_plans.conftest import K1000, activate, create, template

WORKER = [sys.executable, "-m", "tests.billing_plans.feed_worker"]
LINES = range(3, 9)  # six lines of ten events each
CONSUMERS = ["billing-a", "billing-a", "billing-b", "billing-b", "billing-c", "billing-d"]
PUBLISHERS = 3


@pytest.mark.slow
def test_no_billing_event_is_handed_out_twice_or_lost(world: Session, db_url: str, tmp_path: Path) -> None:
    activate(world)
    for line in LINES:
        admin.add_line(world, K1000, line, amount=Decimal("1000.00"))
    template(world, "BP10", ["MS-USER=10%"] * 10, ready_on_activation=True)
    for line in LINES:
        assert create(world, "BP10", line=line).readied
    # Complete every milestone without announcing anything: the publishers below do that, concurrently.
    world.execute(
        update(Milestone).values(status=MilestoneStatus.COMPLETED, completed_on=Milestone.est_completion_date)
    )
    world.commit()
    events = world.execute(select(PlanEvent.id).order_by(PlanEvent.id)).scalars().all()
    assert len(events) == 60 and world.scalar(select(func.count()).select_from(FeedEntry)) == 0
    world.close()

    stopfile = tmp_path / "stop"
    consumers = [
        subprocess.Popen(
            [*WORKER, "consume", db_url, name, "7", str(stopfile)], stdout=subprocess.PIPE, text=True
        )
        for name in CONSUMERS
    ]
    publishers = [
        subprocess.Popen([*WORKER, "publish", db_url, "0.05", *map(str, events[i::PUBLISHERS])])
        for i in range(PUBLISHERS)
    ]
    try:
        assert [p.wait(timeout=300) for p in publishers] == [0] * PUBLISHERS
        stopfile.touch()
        outputs = [json.loads(c.communicate(timeout=300)[0]) for c in consumers]
        assert [c.returncode for c in consumers] == [0] * len(consumers)
    finally:
        for consumer in consumers:
            consumer.kill()
        for publisher in publishers:
            publisher.kill()

    entries = world.scalars(select(FeedEntry.id).order_by(FeedEntry.id)).all()
    assert len(entries) == 60
    claimed = Counter(event for out in outputs for event in out["claimed"])
    assert len(claimed) == 60, "every billing event is claimed by someone"
    assert max(claimed.values()) == 1, f"handed out twice: {[e for e, n in claimed.items() if n > 1]}"
    assert {o["pid"] for o in outputs if o["claimed"]} != set(), "at least one consumer claimed events"
    for name in set(CONSUMERS):
        seen = [cursor for out in outputs if out["consumer"] == name for cursor in out["seen"]]
        assert sorted(seen) == list(entries), f"consumer {name} skipped or repeated entries"
    statuses = Counter(world.scalars(select(PlanEvent.status)))
    assert statuses == Counter({"In Progress": 60})
    claims = Counter(
        world.scalars(select(StatusChange.object_pk).where(StatusChange.new_status == "In Progress"))
    )
    assert sorted(claims) == sorted(events) and set(claims.values()) == {1}
