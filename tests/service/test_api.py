"""Every endpoint of the API on both backends, through the real app and a real database: what it answers,
and what it changed (the same StatusChange rows as the CLI, with the signed-in user)."""

from __future__ import annotations

import csv
import io
import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.models import StatusChange
from ms_prcs.approvals.config import approval as config
from tests.service.conftest import World, signed_in

M = "/api/v1/milestones/US001/K1000"


def ok(answer: object, status: int = 200) -> dict:  # type: ignore[type-arg]
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    return answer.json()  # type: ignore[attr-defined,no-any-return]


def test_health_and_readiness(client: TestClient) -> None:
    assert ok(client.get("/healthz")) == {"status": "ok", "detail": ""}
    assert ok(client.get("/readyz"))["status"] == "ok"
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_sign_in_session_cookie_and_sign_out(app: FastAPI) -> None:
    c = TestClient(app)
    answer = c.post("/api/v1/session", json={"user": "pm", "password": "pm-password"})
    assert ok(answer) == {"user": "pm", "roles": ["PM"], "via": "session", "scopes": None}
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert ok(c.get("/api/v1/session"))["user"] == "pm"
    assert c.delete("/api/v1/session").status_code == 204
    c.cookies.clear()
    assert c.get("/api/v1/session").status_code == 401


def test_contracts_list_show_and_status(full: TestClient) -> None:
    page = ok(full.get("/api/v1/contracts", params={"limit": 1}))
    assert [r["contract"] for r in page["items"]] == ["US001/K1000"]
    assert (page["total"], page["next_offset"]) == (2, 1)
    assert ok(full.get("/api/v1/contracts", params={"offset": 1}))["items"][0]["contract"] == "US001/K2000"
    detail = ok(full.get("/api/v1/contracts/US001/K1000"))
    assert [line["amount"] for line in detail["lines"]] == ["10000.00", "1000.00"]
    changed = ok(full.post("/api/v1/contracts/US001/K1000/status", json={"status": "active"}))
    assert changed["message"] == "contract US001/K1000 is Active"
    refused = full.post("/api/v1/contracts/US001/K1000/status", json={"status": "active"})
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert ok(full.get("/api/v1/contracts/US001/NOPE"), 404)["detail"] == "contract US001/NOPE does not exist"


def test_milestone_moves_and_conditions(full: TestClient, session: Session) -> None:
    # A milestone from its template (the CLI's `milestone add --template`), through the API's moves.
    created = ok(
        full.post("/api/v1/plans", json={"template": "BP-SIGN", "contract": "US001/K1000", "line": 1}), 201
    )
    assert {m["milestone"]: m["status"] for m in created["milestones"]} == {
        "US001/K1000/MS-SIGN/1": "Ready",
        "US001/K1000/MS-DATE/1": "Ready",
    }
    rows = ok(full.get("/api/v1/milestones", params={"contract": "US001/K1000", "status": "Ready"}))["items"]
    assert [r["milestone"] for r in rows] == ["US001/K1000/MS-DATE/1", "US001/K1000/MS-SIGN/1"]
    assert ok(full.post(f"{M}/MS-DATE/1/pending"))["status"] == "Pending"
    added = ok(
        full.post(f"{M}/MS-DATE/1/conditions", json={"type": "date", "date": "2026-01-20", "descr": "x"}), 201
    )
    assert added["seq"] == 2 and added["message"].startswith(
        "condition 2 added to milestone US001/K1000/MS-DATE/1"
    )
    ok(
        full.put(
            f"{M}/MS-DATE/1/conditions/2", json={"type": "sql", "sql": "SELECT 1 FROM contract WHERE 1 = 1"}
        )
    )
    ok(full.put(f"{M}/MS-DATE/1/conditions/2", json={"type": "sql", "sql": "SELECT 1 FROM app_user"}))
    refused = ok(full.post(f"{M}/MS-DATE/1/ready"), 409)
    assert refused["detail"].startswith(
        "milestone US001/K1000/MS-DATE/1: cannot be set Ready, edit checks failed:"
    )
    assert ok(full.get(f"{M}/MS-DATE/1"))["status"] == "Pending"  # refused: nothing changed
    assert (
        ok(full.delete(f"{M}/MS-DATE/1/conditions/2"))["message"]
        == "condition 2 of milestone US001/K1000/MS-DATE/1 deleted"
    )
    assert ok(full.post(f"{M}/MS-DATE/1/ready"))["status"] == "Ready"
    refused = ok(full.post(f"{M}/MS-DATE/1/cancel"), 409)
    assert refused["detail"].startswith(
        "milestone US001/K1000/MS-DATE/1: cannot be cancelled while referenced by:"
    )

    done = ok(full.post(f"{M}/MS-SIGN/1/conditions/1/complete"))
    assert done["message"] == "condition 1 of milestone US001/K1000/MS-SIGN/1 marked complete by admin"
    assert ok(full.post(f"{M}/MS-SIGN/1/conditions/1/undo"))["status"] == "Ready"
    detail = ok(full.get(f"{M}/MS-SIGN/1", params={"as_of": "2026-02-01"}))
    assert detail["why_not_complete"]["complete"] is False
    assert [c["status"] for c in detail["conditions"]] == ["Ready"]
    assert detail["referenced_by"] == ["billing plan BP-SIGN event 1 on line 1 of US001/K1000 (Pending)"]
    assert [(h["new"], h["by"]) for h in detail["history"]][-2:] == [
        ("Completed", "admin"),
        ("Ready", "admin"),
    ]
    by = session.scalars(select(StatusChange.changed_by).where(StatusChange.new_status == "Completed")).all()
    assert by == ["admin"]  # Mark Complete wrote the StatusChange row with the signed-in identity
    other = ok(full.post("/api/v1/milestones/US001/K2000/MS-SIGN/1/cancel"), 404)
    assert other["detail"] == "milestone US001/K2000/MS-SIGN/1 does not exist"


def test_classification_refuses_users_without_the_role(app: FastAPI, full: TestClient, world: World) -> None:
    ok(full.post("/api/v1/plans", json={"template": "BP-SIGN", "contract": "US001/K1000", "line": 1}), 201)
    viewer = signed_in(app, "viewer")
    refused = ok(viewer.post(f"{M}/MS-SIGN/1/conditions/1/complete"), 403)
    assert refused["detail"] == (
        "milestone US001/K1000/MS-SIGN/1: user viewer is not allowed:"
        " classification SIGNOFF needs one of the roles PM"
    )
    done = ok(signed_in(app, "pm").post(f"{M}/MS-SIGN/1/conditions/1/complete"))
    assert done["message"].endswith("marked complete by pm")


def test_approvals_and_the_inbox(app: FastAPI, full: TestClient, session: Session) -> None:
    spec = config.RuleSpec(roles=("PM",), note_on_deny=True)
    config.set_template_rule(session, "MS-SIGN", 1, spec)
    session.commit()
    ok(full.post("/api/v1/plans", json={"template": "BP-SIGN", "contract": "US001/K1000", "line": 1}), 201)
    pm = signed_in(app, "pm")
    A = f"{M}/MS-SIGN/1/approvals/1"
    assert ok(full.post(f"{A}/submit"))["message"].startswith(
        "approval of condition 1 of US001/K1000/MS-SIGN/1 submitted"
    )
    inbox = ok(pm.get("/api/v1/inbox"))
    assert [i["milestone"] for i in inbox] == ["US001/K1000/MS-SIGN/1"]
    assert ok(pm.post("/api/v1/inbox/dismiss", json={"ids": [inbox[0]["id"]]})) == []
    assert (
        ok(pm.post("/api/v1/inbox/dismiss", json={"ids": [999]}), 404)["detail"]
        == "inbox item 999 of pm does not exist"
    )
    no_note = ok(pm.post(f"{A}/deny", json={}), 409)
    assert "note" in no_note["detail"]
    ok(pm.post(f"{A}/deny", json={"note": "wrong figures"}))
    assert ok(full.post(f"{A}/submit"))["seq"] == 1
    assert ok(full.post(f"{A}/unsubmit"))["message"].endswith("unsubmitted (Not Ready for Approval)")
    ok(full.post(f"{A}/submit"))
    assert ok(signed_in(app, "viewer").post(f"{A}/approve", json={}), 403)["detail"].startswith(
        "approval of condition 1"
    )
    assert ok(pm.post(f"{A}/approve", json={"note": "fine"}))["message"].endswith("approved by pm")
    view = ok(pm.get(f"{M}/MS-SIGN/1/approvals"))
    assert view["approval"] == "Approved"
    assert [(h["action"], h["by"]) for h in view["history"]][-1] == ("Approved", "pm")
    assert ok(pm.post(f"{A}/unapprove"))["message"].endswith("unapproved (Ready for Approval)")


def test_plans_events_feed_and_billing(full: TestClient, world: World) -> None:
    ok(full.post("/api/v1/plans", json={"template": "BP-SIGN", "contract": "US001/K1000", "line": 1}), 201)
    plans = ok(full.get("/api/v1/plans", params={"contract": "US001/K1000"}))
    assert [p["plan"] for p in plans["items"]] == ["US001/K1000/1/BP-SIGN"]
    P = "/api/v1/plans/US001/K1000/1/BP-SIGN"
    assert ok(full.post(f"{P}/ready", json={}), 409)["detail"].startswith(
        "billing plan US001/K1000/1/BP-SIGN"
    )
    ok(full.post("/api/v1/contracts/US001/K1000/status", json={"status": "active"}))  # readies the plan
    assert ok(full.get(P))["status"] == "Ready"
    E = "/api/v1/events/US001/K1000/1/BP-SIGN/1"
    assert ok(full.post(f"{E}/pending"))["status"] == "Pending"
    assert ok(full.post(f"{E}/ready"))["status"] == "Ready"
    assert ok(full.post(f"{E}/bill"), 409)["detail"].startswith("billing plan event US001/K1000/1/BP-SIGN/1")
    assert ok(full.post(f"{E}/recognize"), 409)["detail"]
    assert ok(full.post(f"{E}/reverse"), 409)["detail"]
    assert ok(full.post(f"{P}/pending"), 409)["detail"]
    ok(full.post(f"{M}/MS-SIGN/1/conditions/1/complete"))
    ok(full.post(f"{M}/MS-DATE/1/pending"))
    ok(full.post(f"{M}/MS-DATE/1/ready"))

    feed = bearer_feed = full
    page = ok(feed.get("/api/v1/feed/billing"))
    assert page == {"consumer": "billing", "acked_through": 0, "entries": []}
    assert ok(bearer_feed.post("/api/v1/feed/billing/ack", json={"through": 1}), 409)["detail"] == (
        "feed consumer billing: cannot acknowledge through cursor 1: the last entry is 0"
    )
    assert ok(full.get("/api/v1/feed")) == []


def test_runs_reports_and_tokens(full: TestClient, world: World) -> None:
    assert ok(full.get("/api/v1/runs")) == []
    assert ok(full.get("/api/v1/runs/7"), 404)["detail"] == "process instance 7 does not exist"
    assert ok(full.get("/api/v1/runs/requests/7"), 404)["detail"] == "run request 7 does not exist"
    assert (
        ok(full.post("/api/v1/runs", json={"business_units": ["XX001"]}), 404)["detail"]
        == "business unit XX001 does not exist"
    )
    report = ok(full.get("/api/v1/reports/activity", params={"as_of": "2026-02-01"}))
    assert report["report"] == "activity"
    for name in ("impact", "cycle-time"):
        assert "tables" in ok(full.get(f"/api/v1/reports/{name}", params={"as_of": "2026-02-01"}))
        text = full.get(f"/api/v1/reports/{name}", params={"format": "csv", "bu": "US001"})
        assert text.headers["content-type"].startswith("text/csv")
        assert next(csv.reader(io.StringIO(text.text)))  # a header row
    window = full.get("/api/v1/reports/impact", params={"from": "2026-02-02", "to": "2026-02-01"})
    assert (
        ok(window, 422)["detail"] == "the report window is empty: --from 2026-02-02 is after --to 2026-02-01"
    )

    made = ok(full.post("/api/v1/tokens", json={"user": "viewer", "scopes": ["read"], "descr": "dash"}), 201)
    assert made["token"].startswith("msp_") and made["scopes"] == ["read"]
    assert ok(full.post("/api/v1/tokens", json={"user": "viewer", "scopes": ["root"]}), 422)[
        "detail"
    ].startswith("unknown token scope root")
    listed = ok(full.get("/api/v1/tokens", params={"user": "viewer"}))
    assert [t["id"] for t in listed][-1] == made["id"] and "token" not in listed[-1]
    assert ok(full.delete(f"/api/v1/tokens/{made['id']}"))["revoked_at"] is not None
    gone = TestClient(full.app, headers={"Authorization": f"Bearer {made['token']}"})
    assert gone.get("/api/v1/session").status_code == 401
    assert json.dumps(ok(full.get("/api/v1/session")))  # the full token still works
