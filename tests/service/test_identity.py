"""Sign-in and sessions: slowed after repeated failures (per user and per address, across workers because
the attempts are in the database), cookies that a new password or another key make worthless, Secure behind
TLS, allowed hosts, and the access log's structured lines."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ms_prcs.service import credentials
from ms_prcs.service.app import create_app
from ms_prcs.service.credentials import FREE_FAILURES
from tests.service.conftest import PASSWORDS, World, open_client, service_settings


def sign_in(c: TestClient, user: str, password: str) -> int:
    return c.post("/api/v1/session", json={"user": user, "password": password}).status_code


def test_repeated_failures_slow_the_user_down_then_a_wait_lets_them_in(app: FastAPI) -> None:
    c = open_client(app)
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False) as clock:
        assert [sign_in(c, "pm", "guess") for _ in range(FREE_FAILURES)] == [401] * FREE_FAILURES
        answer = c.post("/api/v1/session", json={"user": "pm", "password": PASSWORDS["pm"]})
        assert answer.status_code == 429 and answer.headers["retry-after"] == "1"
        assert (
            answer.json()["detail"]
            == "too many failed sign-ins for user pm or from testclient: try again in 1 s"
        )
        clock.shift(2)
        assert sign_in(c, "pm", PASSWORDS["pm"]) == 200  # the right password, after the wait
        assert sign_in(c, "pm", "guess") == 401  # a success starts the count again


def test_failures_from_one_address_slow_every_user_from_it(app: FastAPI) -> None:
    c = open_client(app)
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        for n in range(FREE_FAILURES + 1):
            sign_in(c, f"nobody{n}", "guess")
        assert sign_in(c, "viewer", PASSWORDS["viewer"]) == 429
    other = open_client(app, client=("10.0.0.9", 5000))
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        assert sign_in(other, "viewer", PASSWORDS["viewer"]) == 200


def test_a_new_password_signs_out_old_sessions(app: FastAPI, session: Session) -> None:
    c = open_client(app)
    assert sign_in(c, "pm", PASSWORDS["pm"]) == 200
    assert c.get("/api/v1/session").status_code == 200
    credentials.set_password(session, "pm", "a-new-password", dt.datetime(2026, 2, 1))
    session.commit()
    assert c.get("/api/v1/session").status_code == 401


def test_a_cookie_from_another_key_or_too_old_is_refused(world: World) -> None:
    c = open_client(create_app(service_settings(world.db_url)))
    assert sign_in(c, "pm", PASSWORDS["pm"]) == 200
    other = open_client(create_app(service_settings(world.db_url, MS_PRCS_SECRET_KEY="another-key-entirely")))
    other.cookies = c.cookies
    assert other.get("/api/v1/session").status_code == 401
    short = open_client(create_app(service_settings(world.db_url, MS_PRCS_SESSION_MAX_AGE="1")))
    assert sign_in(short, "pm", PASSWORDS["pm"]) == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)):
        assert short.get("/api/v1/session").status_code == 401


def test_the_cookie_is_secure_behind_tls_and_when_configured(world: World) -> None:
    tls = open_client(create_app(service_settings(world.db_url)), base_url="https://testserver")
    answer = tls.post("/api/v1/session", json={"user": "pm", "password": PASSWORDS["pm"]})
    assert "Secure" in answer.headers["set-cookie"]
    configured = open_client(create_app(service_settings(world.db_url, MS_PRCS_COOKIE_SECURE="1")))
    answer = configured.post("/api/v1/session", json={"user": "pm", "password": PASSWORDS["pm"]})
    assert "Secure" in answer.headers["set-cookie"]


def test_only_allowed_hosts_are_answered(world: World) -> None:
    app = create_app(service_settings(world.db_url, MS_PRCS_ALLOWED_HOSTS="ms-prcs.example.com"))
    assert open_client(app).get("/healthz").status_code == 400
    assert open_client(app, base_url="http://ms-prcs.example.com").get("/healthz").status_code == 200


def test_the_service_refuses_to_start_without_a_secret_key(world: World) -> None:
    from contracts.errors import InvalidInput

    with pytest.raises(InvalidInput, match="the service needs a secret key for its session cookies"):
        create_app(
            service_settings(world.db_url, MS_PRCS_SECRET_KEY="", MS_PRCS_SECRET_KEY_FILE="/nonexistent")
        )


def test_access_log_lines_are_structured(
    app: FastAPI, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="ms_prcs.access")
    open_client(app, headers={"Authorization": f"Bearer {world.tokens['read']}"}).get("/api/v1/contracts")
    open_client(app).get("/api/v1/contracts")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ms_prcs.access"]
    assert [(x["method"], x["path"], x["status"], x["user"]) for x in lines] == [
        ("GET", "/api/v1/contracts", 200, "viewer"),
        ("GET", "/api/v1/contracts", 401, None),
    ]
    assert all(isinstance(x["ms"], float) for x in lines)
