"""Finance operations over a real socket (uvicorn on loopback), on SQLite and PostgreSQL: a hold keeps a
plan's event off the feed until it is released over HTTP, and then it is announced exactly once; a
reversal of a Completed plan's recognized event is read by the revenue consumer; a mass Mark Complete
answers one result per item; a webhook subscription never shows its secret."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from contracts.keys import MilestoneKey
from contracts.status import PlanType
from ms_prcs.approvals import hooks
from ms_prcs.approvals.hooks import make_milestone_ready
from tests.billing_plans.conftest import (
    AS_OF,
    K1000,
    K2000,
    RULES,
    activate,
    complete,
    create,
    run,
    template,
    who,
)
from tests.service.conftest import World

EV = "/api/v1/events/US001/K1000/1"


def client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def keys_of(api: httpx.Client, consumer: str, key: str) -> list[str]:
    page = api.get(f"/api/v1/feed/{consumer}", params={"limit": 1000}).json()
    return [e["kind"] for e in page["entries"] if e["key"] == key]


def test_a_held_plans_event_reaches_the_feed_once_after_release_over_http(
    live: str, world: World, session: Session, engine: Engine
) -> None:
    activate(session)
    template(session, "BP", ["MS-USER=30%", "MS-DATE=70%"], ready_on_activation=True)
    create(session, "BP")
    admin, billing = client(live, world.tokens["full"]), client(live, world.tokens["feed"])

    held = admin.post(
        "/api/v1/holds", json={"kind": "plan", "key": "US001/K1000/1/BP", "reason": "customer dispute"}
    )
    assert held.status_code == 201, held.text
    hold = held.json()
    assert (hold["status"], hold["held_by"], hold["key"]) == ("Held", "admin", "US001/K1000/1/BP")
    assert [h["hold_id"] for h in admin.get("/api/v1/holds").json()] == [hold["hold_id"]]
    run(engine)  # MS-DATE/1 completes; its event stays off the feed while the plan is held
    assert keys_of(billing, "billing", "US001/K1000/MS-DATE/1") == ["milestone_completed"]
    assert keys_of(billing, "billing", "US001/K1000/1/BP/2") == []

    released = admin.post(
        f"/api/v1/holds/{hold['hold_id']}/release", json={"reason": "settled", "as_of": AS_OF.isoformat()}
    )
    assert released.status_code == 200, released.text
    assert released.json()["message"] == (
        f"plan US001/K1000/1/BP: hold {hold['hold_id']} released; 1 feed entries announced"
    )
    assert keys_of(billing, "billing", "US001/K1000/1/BP/2") == ["billing_event_eligible"]
    again = admin.post(f"/api/v1/holds/{hold['hold_id']}/release", json={})
    assert again.status_code == 409 and again.json()["detail"].startswith(f"hold {hold['hold_id']}")
    run(engine, AS_OF + dt.timedelta(days=1))
    assert keys_of(billing, "billing", "US001/K1000/1/BP/2") == ["billing_event_eligible"]
    assert admin.get("/api/v1/holds").json() == []
    assert [h["status"] for h in admin.get("/api/v1/holds", params={"all": True}).json()] == ["Released"]


def test_a_reversal_of_a_completed_plans_event_is_read_by_the_revenue_consumer_over_http(
    live: str, world: World, session: Session
) -> None:
    activate(session)
    template(session, "RP", ["MS-USER=40%", "MS-DATE=60%"], PlanType.REVENUE, ready_on_activation=True)
    create(session, "RP")
    complete(session, MilestoneKey(K1000, "MS-USER", 1))
    complete(session, MilestoneKey(K1000, "MS-DATE", 1))
    admin, revenue = client(live, world.tokens["full"]), client(live, world.tokens["feed"])
    assert revenue.post(f"{EV}/RP/1/recognize").status_code == 200
    assert revenue.post(f"{EV}/RP/2/recognize").json()["plan_completed"] is True
    last = revenue.get("/api/v1/feed/revenue", params={"limit": 1000}).json()["entries"][-1]["cursor"]
    assert revenue.post("/api/v1/feed/revenue/ack", json={"through": last}).status_code == 200

    reversed_ = revenue.post(f"{EV}/RP/2/reverse").json()
    assert (reversed_["status"], reversed_["plan_reopened"], reversed_["feed_entries"]) == (
        "Reversed",
        True,
        1,
    )
    page = revenue.get("/api/v1/feed/revenue").json()["entries"]
    assert [(e["kind"], e["key"], e["amount"], e["milestone"]) for e in page] == [
        ("revenue_event_reversed", "US001/K1000/1/RP/2", "-6000.00", "US001/K1000/MS-DATE/1")
    ]
    assert admin.get("/api/v1/plans/US001/K1000/1/RP").json()["status"] == "Ready"

    replaced = admin.post(f"{EV}/RP/2/replace")
    assert replaced.status_code == 201, replaced.text
    assert (replaced.json()["event"], replaced.json()["status"]) == ("US001/K1000/1/RP/3", "Pending")
    undone = admin.post("/api/v1/plans/US001/K1000/1/RP/reverse").json()
    assert (undone["events"], undone["feed_entries"]) == (["US001/K1000/1/RP/1"], 1)
    refused = admin.post("/api/v1/plans/US001/K1000/1/RP/reverse")
    assert refused.status_code == 409
    assert (
        refused.json()["detail"] == "revenue plan US001/K1000/1/RP: has no Recognized events to be reversed"
    )
    credit = admin.post(f"{EV}/RP/1/credit")
    assert credit.status_code == 409  # a revenue event is reversed, not credited
    assert Decimal(page[0]["amount"]) == Decimal("-6000.00")


def test_a_mass_mark_complete_over_http_reports_each_item(live: str, world: World, session: Session) -> None:
    for contract, num in ((K1000, 1), (K1000, 2), (K2000, 1)):
        hooks.add_milestone(session, contract, "MS-USER", who(), from_template=True)
        make_milestone_ready(session, MilestoneKey(contract, "MS-USER", num), who(), RULES)
    session.commit()
    admin = client(live, world.tokens["full"])
    listed = admin.get("/api/v1/queue", params={"bu": "US001", "milestone_id": "MS-USER", "explain": False})
    assert [r["milestone"] for r in listed.json()["rows"]] == [
        "US001/K1000/MS-USER/1",
        "US001/K1000/MS-USER/2",
        "US001/K2000/MS-USER/1",
    ]
    as_csv = admin.get("/api/v1/queue", params={"bu": "US001", "contract": "K2000", "format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert (
        as_csv.text.splitlines()[0]
        == "milestone,contract_num,customer,milestone_id,descr,est_completion_date,reasons,why"
    )
    assert as_csv.text.splitlines()[1].startswith("US001/K2000/MS-USER/1,K2000,GLOBEX,MS-USER,")

    dry = admin.post(
        "/api/v1/queue/complete",
        json={"filter": {"business_unit": "US001", "customer": "GLOBEX"}, "dry_run": True},
    )
    assert (dry.json()["changed"], dry.json()["applied"]) == (1, False)
    keys = ["US001/K1000/MS-USER/1#1", "US001/K1000/MS-USER/2#1", "US001/K1000/MS-USER/9#1"]
    done = admin.post("/api/v1/queue/complete", json={"keys": keys})
    assert done.status_code == 200, done.text
    result = done.json()
    assert (result["operation"], result["changed"], result["refused"], result["applied"]) == (
        "mark complete",
        2,
        1,
        True,
    )
    assert [(i["key"], i["outcome"]) for i in result["items"]] == [
        ("US001/K1000/MS-USER/1#1", "changed"),
        ("US001/K1000/MS-USER/2#1", "changed"),
        ("US001/K1000/MS-USER/9#1", "refused"),
    ]
    assert result["items"][2]["detail"] == "milestone US001/K1000/MS-USER/9 does not exist"
    left = admin.get("/api/v1/queue", params={"bu": "US001", "reason": "not-marked-complete"}).json()
    assert [r["milestone"] for r in left["rows"]] == ["US001/K2000/MS-USER/1"]
    neither = admin.post("/api/v1/queue/complete", json={})
    assert neither.status_code == 422 and neither.json()["detail"] == "give either a filter or a list of keys"


def test_a_webhook_subscription_never_shows_its_secret(live: str, world: World) -> None:
    admin = client(live, world.tokens["full"])
    secret = "a-shared-secret-0123456789"
    made = admin.post(
        "/api/v1/webhooks",
        json={
            "consumer": "erp",
            "url": "http://127.0.0.1:9/hook",
            "secret": secret,
            "kinds": ["billing_event_eligible"],
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["acked_through"] == 0
    listed = admin.get("/api/v1/webhooks")
    assert [s["consumer"] for s in listed.json()] == ["erp"]
    assert secret not in made.text + listed.text
    replayed = admin.post("/api/v1/webhooks/erp/replay", json={"from_cursor": 5})
    assert replayed.status_code == 409
    assert replayed.json()["detail"] == (
        "webhook subscription erp: can replay from cursor 1 to 1 (its cursor is 0), not from 5"
    )
    assert client(live, world.tokens["read"]).get("/api/v1/webhooks").status_code == 403
