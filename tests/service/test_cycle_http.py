"""The whole cycle over a real socket (uvicorn on loopback): template -> plan -> Mark Complete by an eligible
person -> run (in its own process) -> feed read -> ack -> bill; plus dry runs and a locked scope."""

from __future__ import annotations

import datetime as dt
import os
import time

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.audit import ObjectType
from contracts.models import ProcessRun, RunLock, StatusChange
from ms_prcs.engine.runlock import this_host
from tests.service.conftest import PASSWORDS, World

M = "/api/v1/milestones/US001/K1000"


def client(base: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base, headers=headers, timeout=30)


def wait_done(api: httpx.Client, request: int) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while True:
        view = api.get(f"/api/v1/runs/requests/{request}").json()
        if view["state"] in ("Done", "Refused", "Failed"):
            return view  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, view
        time.sleep(0.1)


def test_template_to_billed_over_http(live: str, world: World, session: Session) -> None:
    admin, billing = client(live, world.tokens["full"]), client(live, world.tokens["feed"])
    created = admin.post("/api/v1/plans", json={"template": "BP-SIGN", "contract": "US001/K1000", "line": 1})
    assert created.status_code == 201, created.text
    assert admin.post("/api/v1/contracts/US001/K1000/status", json={"status": "active"}).status_code == 200

    pm = client(live)
    assert pm.post("/api/v1/session", json={"user": "pm", "password": PASSWORDS["pm"]}).status_code == 200
    done = pm.post(f"{M}/MS-SIGN/1/conditions/1/complete")
    assert done.status_code == 200 and done.json()["message"].endswith("marked complete by pm")

    dry = admin.post("/api/v1/runs", json={"as_of": "2026-02-01", "dry_run": True})
    assert dry.status_code == 202, dry.text
    result = wait_done(admin, dry.json()["request"])["result"]
    assert (result["dry_run"], sorted(result["completed"])) == (
        True,
        ["US001/K1000/MS-DATE/1", "US001/K1000/MS-SIGN/1"],
    )
    assert billing.get("/api/v1/feed/billing").json()["entries"] == []  # the dry run wrote nothing

    started = admin.post("/api/v1/runs", json={"as_of": "2026-02-01", "business_units": ["US001"]})
    assert started.status_code == 202, started.text
    view = wait_done(admin, started.json()["request"])
    assert view["state"] == "Done" and view["process_instance"] is not None
    assert started.headers["location"] in (
        f"/api/v1/runs/{view['process_instance']}",
        f"/api/v1/runs/requests/{view['request']}",
    )
    run = admin.get(f"/api/v1/runs/{view['process_instance']}").json()
    assert (run["trigger"], run["milestones_completed"], run["outcome"]) == ("api", 2, "Success")
    assert [r["process_instance"] for r in admin.get("/api/v1/runs").json()] == [view["process_instance"]]

    page = billing.get("/api/v1/feed/billing", params={"limit": 10}).json()
    kinds = [(e["kind"], e["key"]) for e in page["entries"]]
    assert sorted(kinds) == sorted(
        [
            ("milestone_completed", "US001/K1000/MS-SIGN/1"),
            ("milestone_completed", "US001/K1000/MS-DATE/1"),
            ("billing_event_eligible", "US001/K1000/1/BP-SIGN/1"),
            ("billing_event_eligible", "US001/K1000/1/BP-SIGN/2"),
        ]
    )
    last = page["entries"][-1]["cursor"]
    acked = billing.post("/api/v1/feed/billing/ack", json={"through": last}).json()
    assert sorted(acked["claimed"]) == ["US001/K1000/1/BP-SIGN/1", "US001/K1000/1/BP-SIGN/2"]
    again = billing.post("/api/v1/feed/billing/ack", json={"through": last}).json()
    assert (again["claimed"], again["entries"]) == ([], 0)  # a repeated ack is harmless
    assert billing.get("/api/v1/feed/billing").json()["entries"] == []

    first = billing.post("/api/v1/events/US001/K1000/1/BP-SIGN/1/bill").json()
    assert (first["status"], first["plan_completed"]) == ("Billed", False)
    second = billing.post("/api/v1/events/US001/K1000/1/BP-SIGN/2/bill").json()
    assert (
        second["message"]
        == "billing plan event US001/K1000/1/BP-SIGN/2 is Billed; plan US001/K1000/1/BP-SIGN is Completed"
    )
    assert billing.post("/api/v1/events/US001/K1000/1/BP-SIGN/2/bill").status_code == 409

    rows = session.execute(
        select(StatusChange.object_type, StatusChange.new_status, StatusChange.changed_by).order_by(
            StatusChange.id
        )
    ).all()
    assert (ObjectType.CONDITION.value, "Completed", "pm") in rows
    assert [b for t, n, b in rows if t == ObjectType.PLAN_EVENT.value and n in ("In Progress", "Billed")] == [
        "billing-sys"
    ] * 4


def test_a_run_over_a_locked_scope_is_refused_with_the_engines_words(
    live: str, world: World, session: Session
) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    holder = ProcessRun(
        as_of=now.date(),
        started_at=now,
        heartbeat_at=now,
        host=this_host(),
        pid=os.getpid(),
        outcome="Processing",
    )
    session.add(holder)
    session.flush()
    session.add(
        RunLock(
            business_unit="US001",
            process_instance=holder.process_instance,
            acquired_at=now,
            host=this_host(),
            pid=os.getpid(),
        )
    )
    session.commit()
    admin = client(live, world.tokens["full"])
    refused = admin.post("/api/v1/runs", json={"business_units": ["US001"]})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        f"business unit US001 is being processed by run {holder.process_instance}"
        f" (started {now}, host {this_host()}, pid {os.getpid()}); use --wait to wait for it"
    )
