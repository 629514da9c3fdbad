"""The authorization matrix: every API endpoint against every kind of caller, with the expected status, and
the database unchanged whenever the answer is 401 or 403.

Callers: anonymous; a failed sign-in (wrong password); a forged cookie (signed with another key); a revoked
and an expired token; a token lacking the endpoint's scope; a token bound to another feed consumer (on the
endpoints that name a consumer); a signed-in person without the role (the coarse right's role, or the
domain's: classification SIGNOFF, the approver rule); and the eligible person (the admin, signed in), whose answers are those of the rules (2xx, or the domain's 404/409 where the state says
so). Every route under /api/v1 must be in :data:`ENDPOINTS` (and declare its right: see test_routes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from contracts.audit import Who
from contracts.keys import MilestoneKey
from ms_prcs.approvals import hooks
from ms_prcs.approvals.config import approval as config
from ms_prcs.approvals.hooks import make_milestone_ready
from ms_prcs.service import credentials
from ms_prcs.service.rights import REQUIRED, Scope
from ms_prcs.service.security import SESSION_COOKIE
from tests.billing_plans.conftest import K1000, K2000, RULES
from tests.service.conftest import AT, World, bearer, open_client, signed_in, snapshot
from tests.service.test_routes import route_rights

S = "/api/v1/milestones/US001/K1000/MS-SIGN/1"
A = "/api/v1/milestones/US001/K2000/MS-USER/1/approvals/1"
P = "/api/v1/plans/US001/K1000"
E = "/api/v1/events/US001/K1000/1/BP-SIGN/1"
Q = {"filter": {"business_unit": "US001"}}
M = "US001/K1000/MS-SIGN/1"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    template: str
    """The route's path as declared, to check every route is here."""
    body: dict[str, Any] | None = None
    eligible: int = 200
    domain_refuses_viewer: bool = False
    """The domain (classification, approver rule) refuses a person without the role, although the coarse
    right lets them in."""
    names_consumer: bool = False
    """The endpoint acts on one feed consumer (path or body): a token bound to another one is refused."""


MK = "/api/v1/milestones/{bu}/{contract}/{ms_id}/{num}"
CD = MK + "/conditions/{seq}"
AP = MK + "/approvals/{seq}"
PL = "/api/v1/plans/{bu}/{contract}/{line}/{plan_id}"
EV = "/api/v1/events/{bu}/{contract}/{line}/{plan_id}/{num}"

# In the order the eligible person calls them: each answer is what the state at that point makes it.
ENDPOINTS = [
    Endpoint("GET", "/api/v1/session", "/api/v1/session"),
    Endpoint("GET", "/api/v1/contracts", "/api/v1/contracts"),
    Endpoint("GET", "/api/v1/contracts/US001/K1000", "/api/v1/contracts/{bu}/{contract}"),
    Endpoint(
        "POST",
        "/api/v1/contracts/US001/K2000/status",
        "/api/v1/contracts/{bu}/{contract}/status",
        {"status": "active"},
    ),
    Endpoint("GET", "/api/v1/milestones", "/api/v1/milestones"),
    Endpoint("GET", S, MK),
    Endpoint("POST", f"{S}/conditions/1/complete", CD + "/complete", domain_refuses_viewer=True),
    Endpoint("POST", f"{S}/conditions/1/undo", CD + "/undo", domain_refuses_viewer=True),
    Endpoint("POST", f"{S}/pending", MK + "/pending", domain_refuses_viewer=True),
    Endpoint(
        "POST", f"{S}/conditions", MK + "/conditions", {"type": "date", "date": "2026-01-05"}, 201, True
    ),
    Endpoint("PUT", f"{S}/conditions/2", CD, {"type": "date", "date": "2026-01-06"}, 200, True),
    Endpoint("DELETE", f"{S}/conditions/2", CD, None, 200, True),
    Endpoint("POST", f"{S}/ready", MK + "/ready", domain_refuses_viewer=True),
    Endpoint("POST", f"{S}/cancel", MK + "/cancel", None, 409, True),
    Endpoint("GET", "/api/v1/milestones/US001/K2000/MS-USER/1/approvals", MK + "/approvals"),
    Endpoint("POST", f"{A}/submit", AP + "/submit"),
    Endpoint("POST", f"{A}/deny", AP + "/deny", {"note": "no"}, domain_refuses_viewer=True),
    Endpoint("POST", f"{A}/submit", AP + "/submit"),
    Endpoint("POST", f"{A}/unsubmit", AP + "/unsubmit"),
    Endpoint("POST", f"{A}/submit", AP + "/submit"),
    Endpoint("POST", f"{A}/approve", AP + "/approve", {"note": "yes"}, domain_refuses_viewer=True),
    Endpoint("POST", f"{A}/unapprove", AP + "/unapprove", domain_refuses_viewer=True),
    Endpoint("GET", "/api/v1/inbox", "/api/v1/inbox"),
    Endpoint("POST", "/api/v1/inbox/dismiss", "/api/v1/inbox/dismiss", {"ids": [999999]}, 404),
    Endpoint("GET", "/api/v1/plans", "/api/v1/plans"),
    Endpoint("GET", f"{P}/1/BP-SIGN", PL),
    Endpoint(
        "POST",
        "/api/v1/plans",
        "/api/v1/plans",
        {"template": "BP-SIGN", "contract": "US001/K1000", "line": 2},
        201,
    ),
    Endpoint("POST", f"{P}/2/BP-SIGN/ready", PL + "/ready", {}, 409),
    Endpoint("POST", f"{P}/2/BP-SIGN/pending", PL + "/pending", None, 409),
    Endpoint("POST", f"{E}/ready", EV + "/ready", None, 409),
    Endpoint("POST", f"{E}/pending", EV + "/pending", None, 409),
    Endpoint("POST", f"{E}/bill", EV + "/bill", None, 409),
    Endpoint("POST", f"{E}/recognize", EV + "/recognize", None, 409),
    Endpoint("POST", f"{E}/reverse", EV + "/reverse", None, 409),
    Endpoint("POST", f"{E}/credit", EV + "/credit", None, 409),
    Endpoint("POST", f"{E}/replace", EV + "/replace", None, 409),
    Endpoint("POST", f"{P}/1/BP-SIGN/reverse", PL + "/reverse", None, 409),
    Endpoint(
        "POST",
        "/api/v1/holds",
        "/api/v1/holds",
        {"kind": "plan", "key": "US001/K1000/1/BP-SIGN", "reason": "audit"},
        201,
    ),
    Endpoint("GET", "/api/v1/holds", "/api/v1/holds"),
    Endpoint("POST", "/api/v1/holds/999999/release", "/api/v1/holds/{hold_id}/release", {}, 404),
    Endpoint("GET", "/api/v1/queue?bu=US001", "/api/v1/queue"),
    Endpoint("POST", "/api/v1/queue/complete", "/api/v1/queue/complete", {**Q, "dry_run": True}),
    Endpoint("POST", "/api/v1/queue/set-date", "/api/v1/queue/set-date", {**Q, "shift": 1, "dry_run": True}),
    Endpoint("POST", "/api/v1/queue/ready", "/api/v1/queue/ready", {"keys": [M], "dry_run": True}),
    Endpoint("POST", "/api/v1/queue/pending", "/api/v1/queue/pending", {"keys": [M], "dry_run": True}),
    Endpoint("POST", "/api/v1/alerts/send", "/api/v1/alerts/send", {"dry_run": True}),
    Endpoint(
        "POST",
        "/api/v1/webhooks",
        "/api/v1/webhooks",
        {"consumer": "hooks", "url": "http://127.0.0.1:9/in", "secret": "0123456789abcdef"},
        201,
        names_consumer=True,
    ),
    Endpoint("GET", "/api/v1/webhooks", "/api/v1/webhooks"),
    Endpoint(
        "POST",
        "/api/v1/webhooks/hooks/replay",
        "/api/v1/webhooks/{consumer}/replay",
        {"from_cursor": 1},
        names_consumer=True,
    ),
    Endpoint("GET", "/api/v1/feed", "/api/v1/feed"),
    Endpoint("GET", "/api/v1/feed/billing", "/api/v1/feed/{consumer}", names_consumer=True),
    Endpoint(
        "POST", "/api/v1/feed/billing/ack", "/api/v1/feed/{consumer}/ack", {"through": 0}, names_consumer=True
    ),
    Endpoint("GET", "/api/v1/runs", "/api/v1/runs"),
    Endpoint("GET", "/api/v1/runs/1", "/api/v1/runs/{process_instance}", None, 404),
    Endpoint("GET", "/api/v1/runs/requests/1", "/api/v1/runs/requests/{request_id}", None, 404),
    Endpoint("POST", "/api/v1/runs", "/api/v1/runs", {"business_units": ["ZZ999"]}, 404),
    Endpoint("GET", "/api/v1/reports/activity", "/api/v1/reports/activity"),
    Endpoint("GET", "/api/v1/reports/impact", "/api/v1/reports/impact"),
    Endpoint("GET", "/api/v1/reports/cycle-time", "/api/v1/reports/cycle-time"),
    Endpoint("GET", "/api/v1/tokens", "/api/v1/tokens"),
    Endpoint("POST", "/api/v1/tokens", "/api/v1/tokens", {"user": "viewer", "scopes": ["read"]}, 201),
    Endpoint("DELETE", "/api/v1/tokens/999999", "/api/v1/tokens/{token_id}", None, 404),
]


def call(client: TestClient, e: Endpoint) -> int:
    return client.request(e.method, e.path, json=e.body).status_code


def prepare(session: Session) -> None:
    """Plan BP-SIGN on K1000 line 1 (MS-SIGN/1 and MS-DATE/1 Ready) and an approval on K2000: MS-USER/1,
    condition 1, approved by role PM."""
    who = Who("setup", AT)
    hooks.create_plan_from_template(session, K1000, 1, "BP-SIGN", who, RULES)
    config.set_template_rule(session, "MS-USER", 1, config.RuleSpec(roles=("PM",)))
    hooks.add_milestone(session, K2000, "MS-USER", who, from_template=True)
    make_milestone_ready(session, MilestoneKey(K2000, "MS-USER", 1), who, RULES)
    session.commit()


def callers(app: FastAPI, world: World, session: Session) -> dict[str, Any]:
    wrong = open_client(app)
    assert wrong.post("/api/v1/session", json={"user": "admin", "password": "not-it"}).status_code == 401
    forged = open_client(app)
    forged.cookies.set(
        SESSION_COOKIE,
        URLSafeTimedSerializer("another key", salt="ms-prcs-session").dumps(
            {"u": "admin", "p": AT.isoformat()}
        ),
    )
    every = {s.value for s in Scope}
    lacking = {
        scope: bearer(
            app,
            credentials.create_token(session, "admin", sorted(every - {scope.value}), Who("setup", AT))[1],
        )
        for scope in Scope
    }
    elsewhere = credentials.create_token(
        session, "admin", sorted(every), Who("setup", AT), consumer="elsewhere"
    )[1]
    session.commit()
    return {
        "anonymous": open_client(app),
        "token bound to another consumer": bearer(app, elsewhere),
        "wrong password": wrong,
        "forged cookie": forged,
        "revoked token": bearer(app, world.tokens["revoked"]),
        "expired token": bearer(app, world.tokens["expired"]),
        "lacking": lacking,
        "viewer": signed_in(app, "viewer"),
        "eligible": signed_in(app, "admin"),
    }


def test_every_endpoint_against_every_kind_of_caller(
    app: FastAPI, world: World, session: Session, engine: Engine
) -> None:
    prepare(session)
    who = callers(app, world, session)
    rights = route_rights(app)
    wrong: list[str] = []
    for e in ENDPOINTS:
        right = rights[(e.method, e.template)]
        scope, role = REQUIRED[right]
        expected = {
            k: 401 for k in ("anonymous", "wrong password", "forged cookie", "revoked token", "expired token")
        }
        if e.path != "/api/v1/session":  # who am I: any authenticated caller, whatever its scopes
            expected["token without the scope"] = 403
        if role is not None or e.domain_refuses_viewer:
            expected["signed in without the role"] = 403
        if e.names_consumer:
            expected["token bound to another consumer"] = 403
        before = snapshot(engine)
        for kind, status in expected.items():
            client = (
                who["lacking"][scope] if kind == "token without the scope" else who.get(kind, who["viewer"])
            )
            got = call(client, e)
            if got != status:
                wrong.append(f"{e.method} {e.path} as {kind}: {got}, expected {status}")
        if snapshot(engine) != before:
            wrong.append(f"{e.method} {e.path}: a refused call changed the database")
        got = call(who["eligible"], e)
        if got != e.eligible:
            wrong.append(f"{e.method} {e.path} as the eligible user: {got}, expected {e.eligible}")
    assert wrong == []


def test_every_route_that_names_a_consumer_is_marked(bare_app: FastAPI) -> None:
    """A new route with a ``{consumer}`` in its path must check the token's binding (and be marked so)."""
    for e in ENDPOINTS:
        if "{consumer}" in e.template:
            assert e.names_consumer, e.template


def test_every_api_route_is_in_the_matrix(bare_app: FastAPI) -> None:
    assert set(route_rights(bare_app)) == {(e.method, e.template) for e in ENDPOINTS}


def test_dead_tokens_say_why_in_the_log_not_the_answer(
    app: FastAPI, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    for kind in ("revoked", "expired"):
        answer = bearer(app, world.tokens[kind]).get("/api/v1/contracts")
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == 'Bearer realm="ms-prcs"'
        assert answer.json()["detail"] == "sign in (POST /api/v1/session) or send a valid API token"
    refused = [r.getMessage() for r in caplog.records if r.name == "ms_prcs.service.auth"]
    assert refused == ["authentication refused: GET /api/v1/contracts (credentials given)"] * 2
