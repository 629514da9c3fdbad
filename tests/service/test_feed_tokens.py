"""The feed over HTTP: a token bound to one consumer, and entries that are exactly what the CLI prints."""

from __future__ import annotations

import json
from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing_plans import plans
from billing_plans.feed import publish_completions
from contracts import admin
from contracts.audit import Who
from contracts.models import Milestone
from contracts.status import ContractStatus, MilestoneStatus
from ms_prcs.service import credentials
from tests.billing_plans.conftest import AS_OF, K1000, RULES, template
from tests.conftest import CliInvoke
from tests.service.conftest import AT, World, bearer


def ok(answer: object, status: int = 200) -> dict:  # type: ignore[type-arg]
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    return answer.json()  # type: ignore[attr-defined,no-any-return]


def announce(session: Session) -> None:
    """K1000 Active with a billing plan of two MS-USER events on a third line, every milestone Completed
    and announced: milestone entries, and two billing events to claim."""
    who = Who("setup", AT)
    admin.set_contract_status(session, K1000, ContractStatus.ACTIVE, who)
    admin.add_line(session, K1000, 3, amount=Decimal("1000.00"))
    session.commit()
    template(session, "BP2", ["MS-USER=40%", "MS-USER=60%"], ready_on_activation=True)
    assert plans.create_from_template(session, K1000, 3, "BP2", who, RULES).readied
    session.execute(update(Milestone).values(status=MilestoneStatus.COMPLETED, completed_on=AS_OF))
    publish_completions(session.connection(), select(Milestone.id), process_instance=0, as_of=AS_OF, at=AT)
    session.commit()


def bound(app: FastAPI, session: Session, consumer: str) -> TestClient:
    text = credentials.create_token(session, "billing-sys", ["feed"], Who("setup", AT), consumer=consumer)[1]
    session.commit()
    return bearer(app, text)


def test_a_bound_token_uses_only_its_consumer(app: FastAPI, world: World, session: Session) -> None:
    announce(session)
    erp = bound(app, session, "erp")
    page = ok(erp.get("/api/v1/feed/erp", params={"limit": 1000}))
    last = page["entries"][-1]["cursor"]
    acked = ok(erp.post("/api/v1/feed/erp/ack", json={"through": last}))
    assert acked["claimed"] == ["US001/K1000/3/BP2/1", "US001/K1000/3/BP2/2"]
    assert ok(erp.post("/api/v1/feed/erp/ack", json={"through": last}))["claimed"] == []  # harmless again

    for method, path, body in (
        ("GET", "/api/v1/feed/crm", None),
        ("POST", "/api/v1/feed/crm/ack", {"through": last}),
    ):
        refused = erp.request(method, path, json=body)
        assert refused.status_code == 403
        assert refused.json()["detail"] == (
            "user billing-sys is not allowed: the token is bound to feed consumer erp, not crm"
        )
    unbound = bearer(app, world.tokens["feed"])  # an unbound feed token: every consumer, as before
    assert ok(unbound.post("/api/v1/feed/crm/ack", json={"through": last}))["claimed"] == []
    assert [c["consumer"] for c in ok(unbound.get("/api/v1/feed"))] == ["crm", "erp"]
    assert [(c["consumer"], c["acked_through"]) for c in ok(erp.get("/api/v1/feed"))] == [("erp", last)]


def test_http_entries_are_the_json_lines_of_the_cli(
    app: FastAPI, world: World, session: Session, cli: CliInvoke
) -> None:
    announce(session)
    lines = cli("feed", "read", "--consumer", "billing", "--limit", "1000")
    assert lines.exit_code == 0, lines.output
    printed = [json.loads(line) for line in lines.stdout.splitlines()]
    served = ok(bearer(app, world.tokens["feed"]).get("/api/v1/feed/billing", params={"limit": 1000}))
    assert len(printed) > 2 and served["entries"] == printed
    kinds = {e["kind"] for e in printed}
    assert kinds == {"milestone_completed", "billing_event_eligible"}
