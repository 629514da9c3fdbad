"""The service under test: the real app over the ``db_url`` database (SQLite file and PostgreSQL), driven
with httpx through Starlette's TestClient, or over a real socket by uvicorn on a free loopback port.

The world: business unit US001, contracts K1000 (lines 1 and 2) and K2000 of the billing plan tests, their
milestone templates, plus MS-SIGN (a sign-off classified SIGNOFF, which only role PM may change), the billing
plan template BP-SIGN (MS-SIGN 40 %, MS-DATE 60 %), and these people and programs:

- ``admin``: every service role and PM; ``pm``: PM only; ``viewer``: no role (all three sign in);
- tokens: ``full`` (admin, every scope), ``feed`` (billing-sys, role ms-prcs-feed, scope feed),
  ``read`` (viewer, scope read), ``revoked`` and ``expired`` (admin, every scope).
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from billing_plans.templates import TemplateEventSpec, add_plan_template
from contracts import admin
from contracts.audit import Who
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, PlanType
from contracts.templates import add_milestone_template
from ms_prcs.schema import METADATA
from ms_prcs.service import credentials, rights
from ms_prcs.service.app import create_app
from ms_prcs.settings import Settings
from tests.billing_plans.conftest import add_plan_world

SECRET = "test-secret-key-of-the-service-0123456789"
PASSWORDS = {"admin": "admin-password", "pm": "pm-password", "viewer": "viewer-password"}
AT = dt.datetime(2026, 1, 10, 9, 30)
BOOKKEEPING = {"sign_in_attempt", "api_token", "alembic_version"}
"""Tables a refused request may still write: the attempt that failed, a token's last-used time."""


def service_settings(db_url: str, **env: str) -> Settings:
    return Settings.from_env(
        db_url,
        env={"MS_PRCS_SECRET_KEY": SECRET, "MS_PRCS_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost", **env},
    )


@dataclass(frozen=True)
class World:
    db_url: str
    tokens: dict[str, str]


def build_world(session: Session, db_url: str) -> World:
    add_plan_world(session)
    rights.ensure_roles(session)
    admin.add_role(session, "PM")
    admin.add_classification(session, "SIGNOFF", ["PM"])
    add_milestone_template(
        session,
        "MS-SIGN",
        descr="Customer sign-off",
        classification="SIGNOFF",
        conditions=[ConditionSpec(ConditionType.USER, descr="Signed")],
    )
    add_plan_template(
        session,
        "BP-SIGN",
        PlanType.BILLING,
        ready_on_activation=True,
        events=[TemplateEventSpec.parse(e) for e in ("MS-SIGN=40%", "MS-DATE=60%")],
    )
    admin.add_user(session, "admin", "Ada Admin", [*rights.ROLES, "PM"])
    admin.add_user(session, "pm", "Pat PM", ["PM"])
    admin.add_user(session, "viewer", "Vic Viewer")
    admin.add_user(session, "billing-sys", "Billing system", [rights.ROLE_FEED])
    for user, password in PASSWORDS.items():
        credentials.set_password(session, user, password, AT)
    who = Who("setup", AT)
    every = [s.value for s in rights.Scope]
    tokens = {
        "full": credentials.create_token(session, "admin", every, who)[1],
        "feed": credentials.create_token(session, "billing-sys", ["feed"], who)[1],
        "read": credentials.create_token(session, "viewer", ["read"], who)[1],
        "noscope": credentials.create_token(session, "admin", ["read"], who)[1],
    }
    revoked, tokens["revoked"] = credentials.create_token(session, "admin", every, who)
    credentials.revoke_token(session, revoked.id, AT)
    tokens["expired"] = credentials.create_token(session, "admin", every, who, expires_at=AT)[1]
    session.commit()
    return World(db_url, tokens)


@pytest.fixture
def world(session: Session, db_url: str) -> World:
    return build_world(session, db_url)


@pytest.fixture
def app(world: World) -> FastAPI:
    return create_app(service_settings(world.db_url))


@pytest.fixture
def bare_app(tmp_path: Path) -> FastAPI:
    """The app over a database it never opens: for what needs only its routes."""
    return create_app(service_settings(f"sqlite:///{tmp_path}/unused.db"))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """Anonymous."""
    with TestClient(app) as c:
        yield c


_OPEN: list[TestClient] = []


def open_client(app: FastAPI, **kwargs: Any) -> TestClient:
    """A client whose event loop lives until the test ends (a client outside ``with`` starts one a request)."""
    c = TestClient(app, **kwargs)
    c.__enter__()
    _OPEN.append(c)
    return c


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().__exit__(None, None, None)


def bearer(app: FastAPI, token: str) -> TestClient:
    return open_client(app, headers={"Authorization": f"Bearer {token}"})


def signed_in(app: FastAPI, user: str, password: str | None = None) -> TestClient:
    c = open_client(app)
    answer = c.post("/api/v1/session", json={"user": user, "password": password or PASSWORDS[user]})
    assert answer.status_code == 200, answer.text
    return c


@pytest.fixture
def full(app: FastAPI, world: World) -> TestClient:
    """The admin's token with every scope."""
    return bearer(app, world.tokens["full"])


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the bookkeeping ones, in a stable order: to assert "unchanged"."""
    meta = METADATA
    with engine.connect() as conn:
        return {
            name: sorted(conn.execute(select(table)).all(), key=repr)
            for name, table in meta.tables.items()
            if name not in BOOKKEEPING
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(world: World) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(service_settings(world.db_url)), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    assert httpx.get(f"{base}/healthz").status_code == 200
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
