"""Billing systems in separate processes claim from one feed over HTTP at once: no billing event is claimed
(or billed) twice, none is lost, and every claim and bill is recorded with the token's user."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from billing_plans import plans
from billing_plans.feed import publish_completions
from contracts import admin
from contracts.audit import Who
from contracts.models import FeedEntry, Milestone, PlanEvent, StatusChange
from contracts.status import ContractStatus, MilestoneStatus
from tests.billing_plans.conftest import AS_OF, K1000, RULES, template
from tests.service.conftest import AT, World

CONSUMER = [sys.executable, "-m", "tests.service.http_consumer"]
LINES = range(3, 7)  # four lines of ten events each


@pytest.mark.slow
def test_two_http_consumers_never_claim_one_event(live: str, world: World, session: Session) -> None:
    who = Who("setup", AT)
    admin.set_contract_status(session, K1000, ContractStatus.ACTIVE, who)
    for line in LINES:
        admin.add_line(session, K1000, line, amount=Decimal("1000.00"))
    session.commit()
    template(session, "BP10", ["MS-USER=10%"] * 10, ready_on_activation=True)
    for line in LINES:
        assert plans.create_from_template(session, K1000, line, "BP10", who, RULES).readied
    session.execute(update(Milestone).values(status=MilestoneStatus.COMPLETED, completed_on=AS_OF))
    publish_completions(session.connection(), select(Milestone.id), process_instance=0, as_of=AS_OF, at=AT)
    session.commit()
    events = session.scalars(select(PlanEvent.id)).all()
    assert len(events) == 40 and session.scalar(select(func.count()).select_from(FeedEntry)) > 40

    names = ["billing-a", "billing-b", "billing-a"]
    workers = [
        subprocess.Popen(
            [*CONSUMER, live, world.tokens["feed"], name, "5"], stdout=subprocess.PIPE, text=True
        )
        for name in names
    ]
    try:
        outputs = [json.loads(w.communicate(timeout=120)[0]) for w in workers]
        assert [w.returncode for w in workers] == [0] * len(workers)
    finally:
        for w in workers:
            w.kill()

    claimed = Counter(e for out in outputs for e in out["claimed"])
    assert len(claimed) == 40, "every billing event is claimed by someone"
    assert max(claimed.values()) == 1, f"claimed twice: {[e for e, n in claimed.items() if n > 1]}"
    session.expire_all()
    assert Counter(session.scalars(select(PlanEvent.status))) == Counter({"Billed": 40})
    changes = session.execute(
        select(StatusChange.object_pk, StatusChange.new_status, StatusChange.changed_by).where(
            StatusChange.new_status.in_(["In Progress", "Billed"])
        )
    ).all()
    assert Counter((pk, new) for pk, new, _ in changes) == Counter(
        {(pk, new): 1 for pk in events for new in ("In Progress", "Billed")}
    )
    assert {by for _, _, by in changes} == {"billing-sys"}
